import { describe, expect, it } from 'vitest';
import {
  formatAgo,
  formatCount,
  formatDuration,
  formatImpact,
  formatRepeats,
  formatShare,
  kindLabel,
} from '../../../dashboard/src/format.js';

describe('formatDuration', () => {
  it.each([
    [0.423, '0.42 ms'],
    [7.46, '7.5 ms'],
    [340.4, '340 ms'],
    [1250, '1.25 s'],
    [42_300, '42.3 s'],
    [150_000, '2.5 min'],
    [Number.NaN, '—'],
  ])('%s ms reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('formatImpact', () => {
  it('keeps ms/min at every size so findings compare at a glance', () => {
    expect(formatImpact(12_345.6)).toBe('12,346 ms/min');
    expect(formatImpact(120)).toBe('120 ms/min');
    expect(formatImpact(3.25)).toBe('3.3 ms/min');
    expect(formatImpact(Number.POSITIVE_INFINITY)).toBe('—');
  });
});

describe('counts, shares and repeats', () => {
  it('groups thousands', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
  });

  it('reads a 0–1 share as a percentage, tiny shares as <1%', () => {
    expect(formatShare(0.423)).toBe('42%');
    expect(formatShare(0.004)).toBe('<1%');
    expect(formatShare(0)).toBe('0%');
  });

  it('writes repeats with a times sign', () => {
    expect(formatRepeats(8)).toBe('8×');
    expect(formatRepeats(7.46)).toBe('7.5×');
  });
});

describe('formatAgo', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');

  it.each([
    ['2024-05-01T11:59:58Z', 'just now'],
    ['2024-05-01T11:59:15Z', '45 s ago'],
    ['2024-05-01T11:55:00Z', '5 min ago'],
    ['2024-05-01T09:00:00Z', '3 h ago'],
    ['2024-04-27T12:00:00Z', '4 d ago'],
    ['not a date', '—'],
  ])('%s reads %s', (iso, text) => {
    expect(formatAgo(iso, now)).toBe(text);
  });

  it('reads a timestamp slightly ahead of the browser clock (clock skew) as just now', () => {
    expect(formatAgo('2024-05-01T12:00:03Z', now)).toBe('just now');
  });
});

describe('kindLabel', () => {
  it('names known kinds and reads future kinds sensibly', () => {
    expect(kindLabel('n_plus_one')).toBe('N+1 queries');
    expect(kindLabel('slow_query')).toBe('Slow query');
    expect(kindLabel('cache_hit_ratio')).toBe('Cache hit ratio');
  });
});
