/**
 * The chart that proves a finding, from its series (`api/findings/:id`): latency
 * percentiles for slow queries and routes, hit ratio for a cache, wait for a queue,
 * repeats per request for an N+1, delays and pauses for the runtime, connection wait,
 * time held by a failing dependency, time on offloadable work and requests for static files
 * for the playbook kinds. Pure: the chart component only draws what this returns.
 */
import type { Finding } from '../../model/finding.js';
import type { SeriesPoint } from './api-types.js';

/** How a chart's values read: each unit has its own axis format. */
export type ChartUnit = 'ms' | 'ratio' | 'times' | 'msPerSecond' | 'msPerMinute' | 'perMinute';

export interface ChartLine {
  label: string;
  /** The series field it reads. */
  field: string;
  points: Array<{ x: number; y: number | null }>;
  /** The line the finding's rule watches: drawn boldest. */
  main?: boolean;
}

export interface TimeChart {
  title: string;
  unit: ChartUnit;
  lines: ChartLine[];
  /** The rule's threshold, drawn as a flat line when known. */
  threshold?: { label: string; value: number };
}

const MINUTE_MS = 60_000;

interface Recipe {
  title: string;
  unit: ChartUnit;
  /** `per` divides the field by the point's count (a mean per request) or by its minutes (a rate). */
  lines: Array<{ label: string; field: string; main?: boolean; per?: 'request' | 'minute' }>;
}

const LATENCY: Recipe = {
  title: 'Latency over time',
  unit: 'ms',
  lines: [
    { label: 'p50', field: 'p50Ms' },
    { label: 'p95', field: 'p95Ms', main: true },
    { label: 'p99', field: 'p99Ms' },
  ],
};

const REPEATS: Recipe = {
  title: 'Repeats per request over time',
  unit: 'times',
  lines: [{ label: 'average repeats per request', field: 'avgRepeats', main: true }],
};

const RECIPES: Record<string, Recipe> = {
  slow_query: LATENCY,
  slow_endpoint: LATENCY,
  n_plus_one: REPEATS,
  n_plus_one_http: REPEATS,
  cache_hit_ratio: {
    title: 'Hit ratio over time',
    unit: 'ratio',
    lines: [{ label: 'hit ratio', field: 'hitRatio', main: true }],
  },
  queue_lag: {
    title: 'Wait before consumption over time',
    unit: 'ms',
    lines: [
      { label: 'lag p50', field: 'lagP50Ms' },
      { label: 'lag p95', field: 'lagP95Ms', main: true },
    ],
  },
  event_loop_blocked: {
    title: 'Event-loop delay over time',
    unit: 'ms',
    lines: [
      { label: 'median delay', field: 'medianDelayMs' },
      { label: 'max delay', field: 'maxDelayMs', main: true },
    ],
  },
  gc_pressure: {
    title: 'Garbage collection over time',
    unit: 'msPerSecond',
    lines: [{ label: 'worst interval, GC pause per second', field: 'gcWorstMsPerSecond', main: true }],
  },
  // The playbook kinds' series count the requests (`count`) and sum the time (`totalMs`) the finding is about.
  connection_pool: {
    title: 'Wait for a connection over time',
    unit: 'ms',
    lines: [{ label: 'wait per request', field: 'totalMs', per: 'request', main: true }],
  },
  'connection_pool.new_connections': {
    title: 'Time opening connections over time',
    unit: 'ms',
    lines: [{ label: 'per request opening one', field: 'totalMs', per: 'request', main: true }],
  },
  dependency_resilience: {
    title: 'Time held by failing and hung calls over time',
    unit: 'msPerMinute',
    lines: [{ label: 'held per minute', field: 'totalMs', per: 'minute', main: true }],
  },
  offload_candidate: {
    title: 'Time on offloadable work over time',
    unit: 'ms',
    lines: [{ label: 'per request', field: 'totalMs', per: 'request', main: true }],
  },
  // Every static route of the service, summed per bucket by the API.
  static_assets: {
    title: 'Requests for static files over time',
    unit: 'perMinute',
    lines: [{ label: 'requests per minute', field: 'count', per: 'minute', main: true }],
  },
};

/**
 * Which chart a finding gets: its kind's, or its rule's when the kind has several rules
 * with different series (`connection_pool.new_connections`).
 *
 * @example
 * chartKind({ kind: 'connection_pool', evidence: { rule: 'new_connections' } }) // 'connection_pool.new_connections'
 */
export function chartKind(finding: Pick<Finding, 'kind' | 'evidence'>): string {
  const rule = finding.evidence.rule;
  const specific = typeof rule === 'string' ? `${finding.kind}.${rule}` : undefined;
  return specific && RECIPES[specific] ? specific : finding.kind;
}

/**
 * The chart for a finding of `kind` (see {@link chartKind}) over the points from `fromMs` on, or `undefined` for a
 * kind without one. Points are placed at the middle of their bucket (a rolled-up hour sits
 * at its half hour); a missing or non-numeric value is a gap, never a zero.
 *
 * @example
 * findingChart('slow_query', series, Date.now() - 3_600_000)?.lines.map((line) => line.label) // ['p50', 'p95', 'p99']
 */
export function findingChart(
  kind: string,
  series: readonly SeriesPoint[],
  fromMs: number,
  threshold?: { label: string; value: number },
): TimeChart | undefined {
  const recipe = RECIPES[kind];
  if (!recipe) return undefined;
  const points = series
    .map((point) => ({ point, x: Date.parse(point.t) + (Number(point.bucketMs) || 0) / 2 }))
    .filter(({ x }) => Number.isFinite(x) && x >= fromMs)
    .sort((a, b) => a.x - b.x);
  const chart: TimeChart = {
    title: recipe.title,
    unit: recipe.unit,
    lines: recipe.lines.map(({ per, ...line }) => ({
      ...line,
      points: points.map(({ point, x }) => ({ x, y: lineValue(point, line.field, per) })),
    })),
  };
  if (threshold) chart.threshold = threshold;
  return chart;
}

/** A point's value for a line: `null` (a gap) when missing, or when there is nothing to divide by. */
function lineValue(point: SeriesPoint, field: string, per: 'request' | 'minute' | undefined): number | null {
  const value = finite(point[field]);
  if (value === null || per === undefined) return value;
  const by = per === 'request' ? finite(point.count) : (finite(point.bucketMs) ?? MINUTE_MS) / MINUTE_MS;
  return by ? value / by : null;
}

function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The detection setting each kind's chart is judged against (collector/detect/types.ts). */
const THRESHOLDS: Record<string, { setting: string; label: string }> = {
  slow_query: { setting: 'slowQueryMs', label: 'slow from' },
  slow_endpoint: { setting: 'slowEndpointMs', label: 'slow from' },
  n_plus_one: { setting: 'nPlusOneMin', label: 'N+1 from' },
  n_plus_one_http: { setting: 'nPlusOneHttpMin', label: 'N+1 from' },
  cache_hit_ratio: { setting: 'cacheMinHitRatio', label: 'poor below' },
  queue_lag: { setting: 'queueLagMs', label: 'lagging from' },
  event_loop_blocked: { setting: 'eventLoopMaxMs', label: 'stall from' },
  gc_pressure: { setting: 'gcMsPerSecond', label: 'pressure from' },
  dependency_resilience: { setting: 'dependencyMinImpact', label: 'matters from' },
  offload_candidate: { setting: 'offloadMinMsPerRequest', label: 'offload from' },
};

/**
 * The threshold line for a kind's chart, from the detection settings `api/meta` reports.
 *
 * @example
 * thresholdFor('slow_query', { slowQueryMs: 100 }) // { label: 'slow from', value: 100 }
 */
export function thresholdFor(
  kind: string,
  detection: Record<string, unknown> | undefined,
): { label: string; value: number } | undefined {
  const threshold = THRESHOLDS[kind];
  const value = threshold && detection?.[threshold.setting];
  return threshold && typeof value === 'number' && Number.isFinite(value)
    ? { label: threshold.label, value }
    : undefined;
}

/** The narrowest time axis a chart gets, so a single point still sits in some context. */
const MIN_AXIS_MS = 10 * 60_000;

/**
 * The time axis of a chart: the range shown, but starting near the first measurement when
 * data began later (a service that just started), so the data fills the chart.
 *
 * @example
 * chartAxis(chart, now - 3_600_000, now) // { fromMs: first point − 1 min (at most now − 10 min), toMs: now }
 */
export function chartAxis(chart: TimeChart, fromMs: number, toMs: number): { fromMs: number; toMs: number } {
  const measured = chart.lines.flatMap((line) =>
    line.points.filter((point) => point.y !== null).map((point) => point.x),
  );
  if (measured.length === 0) return { fromMs, toMs };
  const first = Math.min(...measured);
  return { fromMs: Math.max(fromMs, Math.min(first - 60_000, toMs - MIN_AXIS_MS)), toMs };
}

/** Tick spacings a time axis may use: each lands on whole minutes, hours or days. */
const TICK_STEPS_MS = [1, 2, 3, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map(
  (minutes) => minutes * MINUTE_MS,
);

/**
 * The ticks of a time axis from `fromMs` to `toMs`: at most `maxTicks`, on the smallest
 * round step (whole minutes, hours, days) that keeps them that few.
 *
 * @example
 * timeTicks(Date.parse('2024-05-01T12:03:20Z'), Date.parse('2024-05-01T13:03:20Z')) // 12:10, 12:20, … 13:00
 */
export function timeTicks(fromMs: number, toMs: number, maxTicks = 7): number[] {
  const span = Math.max(toMs - fromMs, 0);
  const step =
    TICK_STEPS_MS.find((candidate) => span / candidate <= maxTicks) ??
    Math.ceil(span / maxTicks / 86_400_000) * 86_400_000;
  const ticks: number[] = [];
  for (let tick = Math.ceil(fromMs / step) * step; tick <= toMs; tick += step) ticks.push(tick);
  return ticks;
}
