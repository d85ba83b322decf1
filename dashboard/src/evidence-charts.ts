/**
 * Small bar charts of a playbook finding's evidence: where a request's time goes (waiting
 * for a connection, work a queue could take), how many connections are wanted against the
 * pool size advised, a dependency's calls by outcome and its healthy calls by latency with the
 * p99 and the timeout advised, a service's traffic that is static files. The advised values
 * are the detector's, read from the evidence as the fix sets them. Pure: `<cp-bar-chart>` only
 * draws them. A chart whose measurements are missing is left out, never drawn with zeros.
 */
import type { Evidence } from '../../model/finding.js';
import { numberField, objectField, readObjects, readPlace, stringField } from './evidence.js';
import { formatDuration } from './format.js';

export type BarUnit = 'count' | 'ms' | 'ratio';

export interface Bar {
  label: string;
  value: number;
  /** The bar the finding is about, or the advice: drawn in the accent colour. */
  emphasis?: boolean;
}

export interface BarChart {
  /** What it shows: its heading and the start of its description for screen readers. */
  title: string;
  unit: BarUnit;
  /** `parts`: one bar split into consecutive parts of a whole; `bars`: one bar per value. */
  layout: 'parts' | 'bars';
  bars: Bar[];
}

/**
 * @example
 * connectionPoolCharts({ waitMsPerRequest: 60, dbMsPerRequest: 20, requestMeanMs: 100 })[0]?.bars.map((bar) => bar.value)
 * // [60, 20, 20]
 */
export function connectionPoolCharts(evidence: Evidence): BarChart[] {
  const opening = evidence.rule === 'new_connections';
  const acquire = numberField(evidence, opening ? 'openMsPerRequest' : 'waitMsPerRequest');
  const db = numberField(evidence, 'dbMsPerRequest');
  const mean = numberField(evidence, 'requestMeanMs');
  const charts: BarChart[] = [];
  if (acquire !== undefined && db !== undefined && mean !== undefined) {
    charts.push({
      title: 'A request’s time, on average',
      unit: 'ms',
      layout: 'parts',
      bars: [
        {
          label: opening ? 'opening a connection' : 'waiting for a connection',
          value: acquire,
          emphasis: true,
        },
        { label: 'running statements', value: db },
        { label: 'everything else', value: Math.max(0, mean - acquire - db) },
      ],
    });
  }
  const connections = defined([
    ['held (average)', numberField(evidence, 'connectionsBusy')],
    ['wanted (average)', numberField(evidence, 'connectionsWanted')],
    ['wanted (peak)', numberField(evidence, 'peakConnectionsWanted')],
    ['pool size advised', numberField(evidence, 'advisedPoolSize'), true],
  ]);
  if (connections.length > 1) {
    charts.push({ title: 'Connections at once', unit: 'count', layout: 'bars', bars: connections });
  }
  return charts;
}

/**
 * @example
 * dependencyCharts({
 *   successP99Ms: 25,
 *   advisedTimeoutMs: 100,
 *   latencyBuckets: [{ leMs: 5, calls: 0 }, { leMs: 10, calls: 2 }, { leMs: 25, calls: 18 }, { leMs: 50, calls: 0 }, { leMs: 100, calls: 0 }],
 * })[0]?.bars.map((bar) => bar.label)
 * // ['≤ 10 ms', '≤ 25 ms (p99)', '≤ 50 ms', '≤ 100 ms (timeout advised)']
 */
export function dependencyCharts(evidence: Evidence): BarChart[] {
  const calls = numberField(evidence, 'calls');
  const failed = numberField(evidence, 'failed');
  const charts: BarChart[] = [];
  const kinds = objectField(evidence, 'errorKinds');
  const outcomes = defined([
    ['succeeded', calls !== undefined && failed !== undefined ? calls - failed : undefined],
    ['failed', failed, true],
    ['timed out', numberField(evidence, 'timeouts'), true],
    ['could not reach it', kinds && numberField(kinds, 'connection'), true],
    ['answered with an error', kinds && numberField(kinds, 'rejected'), true],
    ['retries', numberField(evidence, 'retries')],
    ['hung', numberField(evidence, 'hung'), true],
  ]);
  if (outcomes.length > 1) {
    charts.push({ title: 'Calls by outcome', unit: 'count', layout: 'bars', bars: outcomes });
  }
  const latency = latencyHistogram(evidence);
  if (latency) charts.push(latency);
  return charts;
}

/**
 * Healthy calls per latency bucket (`latencyBuckets`), from the first bucket holding any to the
 * last holding any or the timeout advised, whichever is later; the buckets of the p99 and of
 * the timeout named in their labels and emphasised.
 */
function latencyHistogram(evidence: Evidence): BarChart | undefined {
  const buckets = readObjects(evidence.latencyBuckets).flatMap((bucket) => {
    const calls = finiteOrUndefined(bucket.calls);
    // `null` is the last bucket, open above.
    const leMs = bucket.leMs === null ? null : finiteOrUndefined(bucket.leMs);
    return calls === undefined || leMs === undefined ? [] : [{ leMs, calls }];
  });
  const first = buckets.findIndex((bucket) => bucket.calls > 0);
  if (first < 0) return undefined;
  const bucketOf = (ms: number | undefined) =>
    ms === undefined ? -1 : buckets.findIndex((bucket) => bucket.leMs === null || ms <= bucket.leMs);
  const p99At = bucketOf(numberField(evidence, 'successP99Ms'));
  const timeoutAt = bucketOf(numberField(evidence, 'advisedTimeoutMs'));
  const last = Math.max(
    buckets.findLastIndex((bucket) => bucket.calls > 0),
    timeoutAt,
  );
  const bars = buckets.slice(first, last + 1).map(({ leMs, calls }, offset): Bar => {
    const index = first + offset;
    const below = buckets[index - 1]?.leMs;
    const range = leMs !== null ? `≤ ${formatDuration(leMs)}` : `> ${formatDuration(below ?? 0)}`;
    const marks = [index === p99At ? 'p99' : '', index === timeoutAt ? 'timeout advised' : ''].filter(
      Boolean,
    );
    return marks.length > 0
      ? { label: `${range} (${marks.join(', ')})`, value: calls, emphasis: true }
      : { label: range, value: calls };
  });
  return { title: 'Healthy calls by latency', unit: 'count', layout: 'bars', bars };
}

/**
 * @example
 * offloadCharts({ work: 'POST mail.internal/send', msPerRequest: 120, requestMeanMsAfter: 40 })[0]?.bars.map((bar) => bar.label)
 * // ['what the response needs', 'POST mail.internal/send']
 */
export function offloadCharts(evidence: Evidence): BarChart[] {
  const work = numberField(evidence, 'msPerRequest');
  const rest = numberField(evidence, 'requestMeanMsAfter');
  if (work === undefined || rest === undefined) return [];
  return [
    {
      title: 'A request’s time, on average',
      unit: 'ms',
      layout: 'parts',
      bars: [
        { label: 'what the response needs', value: Math.max(0, rest) },
        { label: stringField(evidence, 'work') ?? 'the offloadable work', value: work, emphasis: true },
      ],
    },
  ];
}

/**
 * @example
 * staticAssetsCharts({ requestShare: 0.4, timeShare: 0.1, extensions: { js: 30, css: 10 } }).map((chart) => chart.title)
 * // ['Share of the service’s HTTP traffic', 'Static requests by file type']
 */
export function staticAssetsCharts(evidence: Evidence): BarChart[] {
  const charts: BarChart[] = [];
  const shares = defined([
    ['requests', numberField(evidence, 'requestShare'), true],
    ['time', numberField(evidence, 'timeShare')],
  ]);
  if (shares.length > 0) {
    charts.push({
      title: 'Share of the service’s HTTP traffic',
      unit: 'ratio',
      layout: 'bars',
      bars: shares,
    });
  }
  const extensions = objectField(evidence, 'extensions');
  if (extensions) {
    const bars = defined(
      Object.entries(extensions).map(
        ([extension, count]) =>
          [extension, typeof count === 'number' && Number.isFinite(count) ? count : undefined] as const,
      ),
    ).sort((a, b) => b.value - a.value);
    if (bars.length > 0) {
      charts.push({ title: 'Static requests by file type', unit: 'count', layout: 'bars', bars });
    }
  }
  return charts;
}

/**
 * The CPU sampled while the event loop stalled, by hot spot and by package, as shares; the
 * finding's own hot spot (or package) emphasised.
 *
 * @example
 * hotPathCharts({ functionName: 'fib', url: 'src/math.js', line: 3, hotSpots: [{ functionName: 'fib', url: 'src/math.js', line: 3, share: 0.9 }] })[0]?.bars
 * // [{ label: 'fib', value: 0.9, emphasis: true }]
 */
export function hotPathCharts(evidence: Evidence): BarChart[] {
  const site = readPlace(evidence);
  const isSite = (spot: Record<string, unknown>) =>
    site !== undefined &&
    spot.functionName === site.functionName &&
    spot.url === site.url &&
    spot.line === site.line;
  const spots = defined(
    readObjects(evidence.hotSpots).map(
      (spot) => [String(spot.functionName ?? '?'), finiteOrUndefined(spot.share), isSite(spot)] as const,
    ),
  );
  const finding = stringField(evidence, 'package');
  const packages = defined(
    readObjects(evidence.packages).map(
      (pkg) => [String(pkg.name ?? '?'), finiteOrUndefined(pkg.share), pkg.name === finding] as const,
    ),
  );
  const charts: BarChart[] = [];
  if (spots.length > 0) {
    charts.push({ title: 'Stalled CPU by function', unit: 'ratio', layout: 'bars', bars: spots });
  }
  if (packages.length > 0) {
    charts.push({ title: 'Stalled CPU by package', unit: 'ratio', layout: 'bars', bars: packages });
  }
  return charts;
}

function finiteOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The bars whose value was measured. */
function defined(
  bars: ReadonlyArray<readonly [label: string, value: number | undefined, emphasis?: boolean]>,
): Bar[] {
  return bars.flatMap(([label, value, emphasis]) =>
    value === undefined ? [] : [emphasis ? { label, value, emphasis } : { label, value }],
  );
}
