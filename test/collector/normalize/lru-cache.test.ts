import { describe, expect, it } from 'vitest';
import { LruCache } from '../../../collector/normalize/lru-cache.js';

describe('LruCache', () => {
  it('never holds more than its bound', () => {
    const cache = new LruCache<number, number>(100);
    for (let i = 0; i < 10_000; i++) {
      cache.set(i, i);
      if (i % 3 === 0) cache.get(i - 40);
      expect(cache.size).toBeLessThanOrEqual(100);
    }
  });

  it('keeps a recently read entry and drops the ones not used since', () => {
    // Generations of 3: a, b, c fill the first; reading a carries it into the second.
    const cache = new LruCache<string, number>(6);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect(cache.get('a')).toBe(1);
    cache.set('d', 4);
    cache.set('e', 5);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('c')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('d')).toBe(4);
    expect(cache.get('e')).toBe(5);
  });

  it('returns the latest value of a replaced entry, in either generation', () => {
    const cache = new LruCache<string, number>(4);
    cache.set('a', 1);
    cache.set('a', 2);
    expect(cache.get('a')).toBe(2);
    cache.set('b', 0);
    cache.set('a', 3);
    expect(cache.get('a')).toBe(3);
  });

  it('computes a missing value once and keeps it, within the bound', () => {
    const cache = new LruCache<number, string>(4);
    const computed: number[] = [];
    const label = (key: number) => {
      computed.push(key);
      return `#${key}`;
    };
    expect(cache.getOrCompute(1, label)).toBe('#1');
    expect(cache.getOrCompute(1, label)).toBe('#1');
    cache.set(2, 'set');
    expect(cache.getOrCompute(2, label)).toBe('set');
    for (let key = 3; key < 20; key++) cache.getOrCompute(key, label);
    expect(cache.size).toBeLessThanOrEqual(4);
    expect(computed).toEqual([1, ...Array.from({ length: 17 }, (_, i) => i + 3)]);
  });
});
