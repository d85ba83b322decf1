/**
 * The collector's JSON, as the dashboard reads it (collector/api/aggregates.ts and
 * sparklines.ts write it). Text fields come from users' spans: they are only ever bound
 * as text.
 */
import type { Evidence, Finding } from '../../model/finding.js';
import type { Operation } from '../../model/operation.js';

/** A row's trend: one value per sparkline slot for each measure (`null`: nothing measured). */
export type RowSeries = Record<string, Array<number | null>>;

/** Slot `i` of every row's series covers `from + i × slotMs`. */
export interface SparklineSlots {
  from: string;
  slotMs: number;
  count: number;
}

interface Row {
  service: string;
  series?: RowSeries;
}

export interface RouteCount {
  route: string;
  count: number;
}

export type TimePart = 'sql' | 'cache' | 'http' | 'queue' | 'ownCode';

export interface EndpointRow extends Row {
  route: string;
  count: number;
  errors: number;
  requestsPerMin: number;
  totalMs: number;
  msPerMin: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Per request, on average: time in each kind of work. */
  breakdownMs: Record<TimePart, number>;
  exampleTraceId: string;
}

export interface QueryRow extends Row {
  fingerprintId: string;
  system: string;
  fingerprint: string;
  statementType: string;
  tables: string[];
  count: number;
  errors: number;
  callsPerMin: number;
  totalMs: number;
  msPerMin: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  routes: RouteCount[];
  exampleTraceId: string;
}

export interface CacheRow extends Row {
  system: string;
  keyPattern: string;
  lookups: number;
  lookupsPerMin: number;
  hits: number;
  misses: number;
  hitRatio: number | null;
  writes: number;
  refilledMisses: number;
  ttlsSeconds: Array<{ ttlSeconds: number; count: number }>;
  commandMs: number;
  routes: RouteCount[];
}

export interface QueueRow extends Row {
  system: string;
  destination: string;
  published: number;
  publishedPerMin: number;
  consumed: number;
  consumedPerMin: number;
  consumeErrors: number;
  lagP50Ms: number | null;
  lagP95Ms: number | null;
  lagMaxMs: number | null;
  processingMeanMs: number | null;
  processingP95Ms: number | null;
}

export interface RuntimeRow extends Row {
  instanceId: string;
  serviceVersion: string | null;
  samples: number;
  medianDelayMs: number;
  maxDelayMs: number;
  blockedMsPerMin: number;
  gcPauseMsPerMin: number;
  gcWorstMsPerSecond: number;
  gcMaxPauseMs: number;
  heapUsedMaxMb: number;
  rssMaxMb: number;
  cpuMsPerMin: number;
}

/** Each list route's rows, by the route's name. */
export interface ListRows {
  endpoints: EndpointRow[];
  queries: QueryRow[];
  caches: CacheRow[];
  queues: QueueRow[];
  runtime: RuntimeRow[];
}

export type ListName = keyof ListRows;

export interface ListResponse<N extends ListName = ListName> {
  since: string;
  sparkline: SparklineSlots;
  rows: ListRows[N];
}

/** One point of a finding's series; its other fields depend on the finding's kind. */
export interface SeriesPoint {
  t: string;
  bucketMs: number;
  [field: string]: unknown;
}

/**
 * A finding as the list serves it (`api/findings?view=summary`, collector/api/finding-summary.ts):
 * every field that ranks and names it, the evidence fields list rows match on (`routes`,
 * `fingerprintId`, `instances` by id, `dominant`, `exampleTraceId`) and the fix's first line. A
 * whole finding is one too: its other fields sit at the same paths.
 */
export type FindingSummary = Omit<Finding, 'evidence' | 'recommendation'> & {
  evidence: Evidence;
  recommendation: { summary: string };
};

export interface FindingDetail {
  finding: Finding;
  series: SeriesPoint[];
}

/** An example request a finding names, its operations already scrubbed by the collector. */
export interface ExampleTrace {
  traceId: string;
  operations: Operation[];
}
