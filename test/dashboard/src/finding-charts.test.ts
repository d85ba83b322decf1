import { describe, expect, it } from 'vitest';
import type { SeriesPoint } from '../../../dashboard/src/api-types.js';
import {
  chartAxis,
  chartKind,
  findingChart,
  thresholdFor,
  timeTicks,
} from '../../../dashboard/src/finding-charts.js';

const T0 = Date.parse('2026-11-26T12:00:00Z');
const MINUTE = 60_000;
const point = (minute: number, fields: Record<string, unknown>, bucketMs = MINUTE): SeriesPoint => ({
  t: new Date(T0 + minute * MINUTE).toISOString(),
  bucketMs,
  ...fields,
});

describe('findingChart', () => {
  it('charts a slow query’s percentiles at the middle of each bucket, p95 as the main line', () => {
    const chart = findingChart(
      'slow_query',
      [point(1, { p50Ms: 90, p95Ms: 140, p99Ms: 160 }), point(0, { p50Ms: 80, p95Ms: 130, p99Ms: 150 })],
      T0,
    );
    expect(chart?.title).toBe('Latency over time');
    expect(chart?.unit).toBe('ms');
    expect(chart?.lines.map((line) => [line.label, line.main ?? false])).toEqual([
      ['p50', false],
      ['p95', true],
      ['p99', false],
    ]);
    expect(chart?.lines[1]?.points).toEqual([
      { x: T0 + 30_000, y: 130 },
      { x: T0 + MINUTE + 30_000, y: 140 },
    ]);
  });

  it('places a rolled-up hour at its half hour and leaves gaps for missing values', () => {
    const chart = findingChart(
      'cache_hit_ratio',
      [point(0, { hitRatio: 0.4 }, 60 * MINUTE), point(60, { hitRatio: null })],
      T0,
    );
    expect(chart?.unit).toBe('ratio');
    expect(chart?.lines[0]?.points).toEqual([
      { x: T0 + 30 * MINUTE, y: 0.4 },
      { x: T0 + 60 * MINUTE + 30_000, y: null },
    ]);
  });

  it('keeps only the points in the range shown', () => {
    const chart = findingChart(
      'queue_lag',
      [point(0, { lagP95Ms: 2_000 }), point(10, { lagP95Ms: 3_000 })],
      T0 + 5 * MINUTE,
    );
    expect(chart?.lines.find((line) => line.main)?.points).toEqual([
      { x: T0 + 10 * MINUTE + 30_000, y: 3_000 },
    ]);
  });

  it('has a chart for every kind the collector reports, and none for a kind it does not know', () => {
    const titles = [
      'slow_query',
      'n_plus_one',
      'n_plus_one_http',
      'cache_hit_ratio',
      'queue_lag',
      'slow_endpoint',
      'event_loop_blocked',
      'gc_pressure',
      'connection_pool',
      'dependency_resilience',
      'offload_candidate',
    ].map((kind) => findingChart(kind, [], T0)?.title);
    expect(titles).toEqual([
      'Latency over time',
      'Repeats per request over time',
      'Repeats per request over time',
      'Hit ratio over time',
      'Wait before consumption over time',
      'Latency over time',
      'Event-loop delay over time',
      'Garbage collection over time',
      'Wait for a connection over time',
      'Time held by failing and hung calls over time',
      'Time on offloadable work over time',
    ]);
    expect(findingChart('disk_full', [point(0, { p95Ms: 1 })], T0)).toBeUndefined();
  });
});

describe('the playbook kinds’ charts', () => {
  // Their series count requests (`count`) and sum the time the finding is about (`totalMs`) per bucket.
  const series = [
    point(0, { count: 4, avgRepeats: 1, totalMs: 240 }),
    point(1, { count: 0, avgRepeats: 0, totalMs: 0 }),
    point(2, { count: 10, totalMs: 1_200 }, 60 * MINUTE),
  ];
  const values = (kind: string) => findingChart(kind, series, T0)?.lines[0]?.points.map((p) => p.y);

  it('charts the connection wait and the offloadable work per request, a gap where no request ran', () => {
    expect(values('connection_pool')).toEqual([60, null, 120]);
    expect(values('offload_candidate')).toEqual([60, null, 120]);
    expect(findingChart('connection_pool', series, T0)?.unit).toBe('ms');
  });

  it('charts the time opening connections for the new-connection rule of connection_pool', () => {
    const kind = chartKind({ kind: 'connection_pool', evidence: { rule: 'new_connections' } });
    expect(kind).toBe('connection_pool.new_connections');
    expect(findingChart(kind, series, T0)?.title).toBe('Time opening connections over time');
    expect(values(kind)).toEqual([60, null, 120]);
    expect(chartKind({ kind: 'connection_pool', evidence: { rule: 'pool_wait' } })).toBe('connection_pool');
    expect(chartKind({ kind: 'slow_query', evidence: {} })).toBe('slow_query');
  });

  it('charts the time a failing dependency held requests per minute of each bucket', () => {
    expect(values('dependency_resilience')).toEqual([240, 0, 20]);
    expect(findingChart('dependency_resilience', series, T0)?.unit).toBe('msPerMinute');
  });
});

describe('findingChart for static files', () => {
  it('charts the requests for static files per minute, from the series the API sums per bucket', () => {
    const chart = findingChart(
      'static_assets',
      [
        point(0, { count: 120, totalMs: 480 }, 60 * MINUTE),
        point(60, { count: 6 }),
        point(61, { count: null }),
      ],
      T0,
    );
    expect(chart?.title).toBe('Requests for static files over time');
    expect(chart?.unit).toBe('perMinute');
    // A rolled-up hour reads per minute like a minute does; a missing count is a gap.
    expect(chart?.lines[0]?.points).toEqual([
      { x: T0 + 30 * MINUTE, y: 2 },
      { x: T0 + 60 * MINUTE + 30_000, y: 6 },
      { x: T0 + 61 * MINUTE + 30_000, y: null },
    ]);
  });
});

describe('thresholdFor', () => {
  it('reads the kind’s setting from the detection config', () => {
    const detection = { slowQueryMs: 100, cacheMinHitRatio: 0.5, nPlusOneMin: 5 };
    expect(thresholdFor('slow_query', detection)).toEqual({ label: 'slow from', value: 100 });
    expect(thresholdFor('cache_hit_ratio', detection)).toEqual({ label: 'poor below', value: 0.5 });
    expect(thresholdFor('queue_lag', detection)).toBeUndefined();
    expect(thresholdFor('dependency_resilience', { dependencyMinImpact: 100 })).toEqual({
      label: 'matters from',
      value: 100,
    });
    expect(thresholdFor('offload_candidate', { offloadMinMsPerRequest: 20 })).toEqual({
      label: 'offload from',
      value: 20,
    });
    expect(thresholdFor('slow_query', undefined)).toBeUndefined();
    expect(thresholdFor('slow_query', { slowQueryMs: '100' })).toBeUndefined();
  });
});

describe('chartAxis', () => {
  const chart = (firstMinute: number) =>
    findingChart(
      'slow_query',
      [point(firstMinute, { p50Ms: 1, p95Ms: 2, p99Ms: 3 }), point(firstMinute + 1, { p95Ms: 2 })],
      T0 - 60 * MINUTE,
    ) ?? { title: '', unit: 'ms' as const, lines: [] };

  it('starts a minute before the first measurement when data began after the range did', () => {
    expect(chartAxis(chart(-20), T0 - 60 * MINUTE, T0)).toEqual({
      fromMs: T0 - 20 * MINUTE + 30_000 - MINUTE,
      toMs: T0,
    });
  });

  it('spans ten minutes at least, and never more than the range', () => {
    expect(chartAxis(chart(-2), T0 - 60 * MINUTE, T0)).toEqual({ fromMs: T0 - 10 * MINUTE, toMs: T0 });
    expect(chartAxis(chart(-59), T0 - 15 * MINUTE, T0)).toEqual({ fromMs: T0 - 15 * MINUTE, toMs: T0 });
    expect(chartAxis({ title: '', unit: 'ms', lines: [] }, T0 - 15 * MINUTE, T0)).toEqual({
      fromMs: T0 - 15 * MINUTE,
      toMs: T0,
    });
  });
});

describe('timeTicks', () => {
  it('puts at most seven ticks on whole minutes, hours or days', () => {
    const hour = timeTicks(T0 + 3 * MINUTE + 20_000, T0 + 63 * MINUTE + 20_000);
    expect(hour.map((tick) => new Date(tick).toISOString().slice(11, 16))).toEqual([
      '12:10',
      '12:20',
      '12:30',
      '12:40',
      '12:50',
      '13:00',
    ]);
    expect(timeTicks(T0, T0 + 15 * MINUTE)).toHaveLength(6);
    const week = timeTicks(T0 - 7 * 24 * 60 * MINUTE, T0);
    expect(week.length).toBeLessThanOrEqual(7);
    expect(week.every((tick) => tick % (24 * 60 * MINUTE) === 0)).toBe(true);
  });
});
