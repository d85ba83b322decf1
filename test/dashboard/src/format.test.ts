import { describe, expect, it } from 'vitest';
import {
  formatAgo,
  formatClock,
  formatCount,
  formatDuration,
  formatImpact,
  formatMegabytes,
  formatRate,
  formatRepeats,
  formatShare,
  kindLabel,
  rangeLabel,
  truncate,
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

describe('rates, memory, ranges, clock and labels', () => {
  it('writes rates per minute, with a decimal below ten', () => {
    expect(formatRate(367.98)).toBe('368/min');
    expect(formatRate(2.46)).toBe('2.5/min');
    expect(formatRate(0)).toBe('0/min');
    expect(formatRate(Number.NaN)).toBe('—');
  });

  it('writes memory in MB, GB past a gigabyte', () => {
    expect(formatMegabytes(43.19)).toBe('43 MB');
    expect(formatMegabytes(7.46)).toBe('7.5 MB');
    expect(formatMegabytes(1536)).toBe('1.5 GB');
  });

  it('names the time ranges', () => {
    expect(['15m', '1h', '24h', '7d', '2w'].map(rangeLabel)).toEqual(['15 min', '1 h', '24 h', '7 d', '2w']);
  });

  it('writes a chart’s time as the time of day, with the day past a day', () => {
    const at = new Date(2026, 10, 26, 9, 5).getTime();
    expect(formatClock(at, 60 * 60_000)).toBe('09:05');
    expect(formatClock(at, 7 * 24 * 60 * 60_000)).toBe('Thu 26 09:05');
  });

  it('reads a zero duration as 0 ms, and cuts long labels with an ellipsis', () => {
    expect(formatDuration(0)).toBe('0 ms');
    expect(truncate('GET /orders/:id/items', 10)).toBe('GET /orde…');
    expect(truncate('GET /a', 10)).toBe('GET /a');
  });

  it('names every finding kind the collector reports', () => {
    expect(
      ['n_plus_one_http', 'queue_lag', 'slow_endpoint', 'event_loop_blocked', 'gc_pressure'].map(kindLabel),
    ).toEqual(['N+1 HTTP calls', 'Queue lag', 'Slow endpoint', 'Event loop blocked', 'GC pressure']);
  });
});
