import { describe, expect, it } from 'vitest';
import { LabelCap, TopKeys } from '../../../collector/api/label-limits.js';

describe('LabelCap', () => {
  it('keeps the first keys up to its limit, for good, and refuses the rest', () => {
    const cap = new LabelCap(2);
    expect(['a', 'b', 'c', 'a', 'b', 'd'].map((key) => cap.admits(key))).toEqual([
      true,
      true,
      false,
      true,
      true,
      false,
    ]);
  });
});

describe('TopKeys', () => {
  const T0 = 1_700_000_000_000;
  const MINUTE = 60_000;

  it('admits keys while the top has room, then only on re-ranking, by total', () => {
    const top = new TopKeys<string>(2, MINUTE, T0);
    expect(top.add('a', 5, 'A')).toBe(true);
    expect(top.add('b', 1, 'B')).toBe(true);
    expect(top.memberCount).toBe(2);
    expect(top.add('c', 50, 'C'), 'full: waits for the next ranking').toBe(false);
    expect(top.add('b', 1, 'B'), 'members stay members between rankings').toBe(true);
    expect(top.rerank(T0)).toEqual({ promoted: ['C'], demoted: ['B'] });
    expect([top.has('a'), top.has('b'), top.has('c')]).toEqual([true, false, true]);
    expect(top.rerank(T0), 'nothing moved').toEqual({ promoted: [], demoted: [] });
  });

  it('keeps the first value given for a key', () => {
    const top = new TopKeys<string>(1, MINUTE, T0);
    top.add('a', 1, 'first');
    top.add('b', 1, 'b');
    top.add('b', 5, 'second');
    expect(top.rerank(T0).promoted).toEqual(['b']);
  });

  it('halves totals every half-life, so recent time outranks old time', () => {
    const decaying = new TopKeys<string>(1, MINUTE, T0);
    const cumulative = new TopKeys<string>(1, Number.POSITIVE_INFINITY, T0);
    for (const top of [decaying, cumulative]) {
      top.add('old', 1000, 'old');
      top.add('new', 100, 'new');
      expect(top.rerank(T0 + 2 * MINUTE).promoted).toEqual([]);
      top.add('new', 300, 'new');
    }
    // Decayed: old 1000/4 = 250 < new 100/4 + 300 = 325. Without decay: 1000 > 400.
    expect(decaying.rerank(T0 + 2 * MINUTE)).toEqual({ promoted: ['new'], demoted: ['old'] });
    expect(cumulative.rerank(T0 + 2 * MINUTE)).toEqual({ promoted: [], demoted: [] });
  });

  it('tracks a bounded number of keys however many distinct ones arrive, never losing a member', () => {
    const top = new TopKeys<number>(3, MINUTE, T0);
    for (let i = 0; i < 10_000; i++) top.add(`key-${i}`, i % 7, i);
    expect(top.trackedCount).toBeLessThanOrEqual(2 * 1_000 + 1);
    expect([top.has('key-0'), top.has('key-1'), top.has('key-2')]).toEqual([true, true, true]);
    const { promoted, demoted } = top.rerank(T0);
    expect(promoted).toHaveLength(3);
    expect(demoted).toEqual([0, 1, 2]);
    // The 1 000 highest, and the three just demoted (members when the ranking trimmed).
    expect(top.trackedCount).toBe(1_003);
  });

  it('keeps the oldest of equal totals when it trims between rankings', () => {
    const top = new TopKeys<string>(1, Number.POSITIVE_INFINITY, T0);
    top.add('member', 0, 'member');
    // With 2 000 keys of 1 each it tracks past twice its limit (1 000): the 1 000 oldest are kept.
    for (let i = 0; i < 2_000; i++) top.add(`key-${i}`, 1, `key-${i}`);
    expect(top.trackedCount).toBe(1_001);
    top.add('key-1500', 1, 'key-1500'); // forgotten: starts again at 1
    top.add('key-500', 0.5, 'key-500'); // kept: 1.5
    expect(top.rerank(T0)).toEqual({ promoted: ['key-500'], demoted: ['member'] });
  });

  it('adds to a held entry as to its key, and starts a forgotten one again', () => {
    const top = new TopKeys<string>(1, Number.POSITIVE_INFINITY, T0);
    const member = top.entry('member', 'member');
    expect(top.addTo(member, 0)).toBe(true);
    const late = top.entry('key-1500', 'key-1500');
    for (let i = 0; i < 2_000; i++) {
      if (i === 1_500) top.addTo(late, 1);
      else top.add(`key-${i}`, 1, `key-${i}`);
    }
    expect(late.tracked, 'among the newest of equal totals: forgotten').toBe(false);
    expect(top.entry('key-500', 'another value').value, 'the tracked entry').toBe('key-500');
    top.addTo(late, 1); // 1 again, not 2
    top.add('key-500', 0.5, 'key-500'); // 1.5
    expect(top.rerank(T0)).toEqual({ promoted: ['key-500'], demoted: ['member'] });
    expect([member.member, top.entry('key-500', '').member]).toEqual([false, true]);
  });
});
