/**
 * The mergeable statistics kept per key and time bucket. Every family knows how to
 * start empty, absorb another bucket of itself, and (de)serialise for the store.
 */
import type { Evidence, QueryPlanSummary, StatementType } from '../../model/index.js';
import { QuantileSketch, type SerializedSketch } from './sketch.js';

/** Most entries kept in a per-key label map (routes, …): the long tail folds into `other`. */
const MAX_LABELS = 25;

export interface LatencyStats {
  count: number;
  errors: number;
  totalMs: number;
  maxMs: number;
  sketch: QuantileSketch;
}

export interface QueryStats extends LatencyStats {
  service: string;
  system: string;
  fingerprintId: string;
  fingerprint: string;
  statementType: StatementType;
  tables: string[];
  /** Unit of work (`GET /orders`) → executions. */
  entries: Record<string, number>;
  /** The trace of the slowest execution. */
  exampleTraceId: string;
  exampleDurationMs: number;
  /** The latest plan captured for the statement. */
  plan?: QueryPlanSummary;
}

export interface EndpointStats extends LatencyStats {
  service: string;
  /** `GET /orders/:id` */
  entry: string;
  /** Summed time of the request's children by kind of work. */
  dbMs: number;
  cacheMs: number;
  httpMs: number;
  queueMs: number;
  exampleTraceId: string;
  exampleDurationMs: number;
}

export interface PatternStats {
  kind: string;
  service: string;
  key: string;
  /** Traces the pattern appeared in. */
  occurrences: number;
  totalRepeats: number;
  maxRepeats: number;
  totalMs: number;
  entries: Record<string, number>;
  exampleTraceId: string;
  exampleRepeats: number;
  evidence: Evidence;
}

export interface ServiceStats {
  service: string;
  requests: number;
  dbMs: number;
  dbQueries: number;
}

export interface Family<T> {
  readonly name: string;
  merge(into: T, from: T): void;
  clone(stats: T): T;
  serialize(stats: T): unknown;
  deserialize(data: unknown): T;
}

export function emptyLatency(): LatencyStats {
  return { count: 0, errors: 0, totalMs: 0, maxMs: 0, sketch: new QuantileSketch() };
}

export function addLatency(stats: LatencyStats, durationMs: number, error: boolean): void {
  stats.count += 1;
  if (error) stats.errors += 1;
  stats.totalMs += durationMs;
  if (durationMs > stats.maxMs) stats.maxMs = durationMs;
  stats.sketch.add(durationMs);
}

function mergeLatency(into: LatencyStats, from: LatencyStats): void {
  into.count += from.count;
  into.errors += from.errors;
  into.totalMs += from.totalMs;
  into.maxMs = Math.max(into.maxMs, from.maxMs);
  into.sketch.merge(from.sketch);
}

/** Adds to a bounded label map; labels past the cap are counted under `other`. */
export function countLabel(labels: Record<string, number>, label: string, times = 1): void {
  if (label in labels || Object.keys(labels).length < MAX_LABELS)
    labels[label] = (labels[label] ?? 0) + times;
  else labels.other = (labels.other ?? 0) + times;
}

function mergeLabels(into: Record<string, number>, from: Record<string, number>): void {
  for (const [label, count] of Object.entries(from)) countLabel(into, label, count);
}

/** Sorted `[{label, count}]`, largest first. */
export function topLabels(
  labels: Record<string, number>,
  limit = 10,
): Array<{ label: string; count: number }> {
  return Object.entries(labels)
    .map(([label, count]) => ({ label, count }))
    .sort((a, b) => b.count - a.count)
    .slice(0, limit);
}

type Serialized<T> = Omit<T, 'sketch'> & { sketch: SerializedSketch };

function latencyFamily<T extends LatencyStats>(
  name: string,
  mergeRest: (into: T, from: T) => void,
): Family<T> {
  return {
    name,
    merge(into, from) {
      mergeLatency(into, from);
      mergeRest(into, from);
    },
    clone(stats) {
      const copy = structuredClone({ ...stats, sketch: undefined }) as unknown as T;
      copy.sketch = new QuantileSketch();
      copy.sketch.merge(stats.sketch);
      return copy;
    },
    serialize(stats) {
      return { ...stats, sketch: stats.sketch.toJSON() } satisfies Serialized<T>;
    },
    deserialize(data) {
      const raw = data as Serialized<T>;
      return { ...raw, sketch: QuantileSketch.fromJSON(raw.sketch) } as unknown as T;
    },
  };
}

function keepSlowestExample(
  into: { exampleTraceId: string; exampleDurationMs: number },
  from: { exampleTraceId: string; exampleDurationMs: number },
): void {
  if (from.exampleDurationMs > into.exampleDurationMs) {
    into.exampleTraceId = from.exampleTraceId;
    into.exampleDurationMs = from.exampleDurationMs;
  }
}

export const queryFamily = latencyFamily<QueryStats>('query', (into, from) => {
  mergeLabels(into.entries, from.entries);
  keepSlowestExample(into, from);
  if (from.plan) into.plan = from.plan;
});

export const endpointFamily = latencyFamily<EndpointStats>('endpoint', (into, from) => {
  into.dbMs += from.dbMs;
  into.cacheMs += from.cacheMs;
  into.httpMs += from.httpMs;
  into.queueMs += from.queueMs;
  keepSlowestExample(into, from);
});

function plainFamily<T>(name: string, merge: (into: T, from: T) => void): Family<T> {
  return {
    name,
    merge,
    clone: (stats) => structuredClone(stats),
    serialize: (stats) => stats,
    deserialize: (data) => data as T,
  };
}

export const patternFamily = plainFamily<PatternStats>('pattern', (into, from) => {
  into.occurrences += from.occurrences;
  into.totalRepeats += from.totalRepeats;
  into.totalMs += from.totalMs;
  into.maxRepeats = Math.max(into.maxRepeats, from.maxRepeats);
  mergeLabels(into.entries, from.entries);
  if (from.exampleRepeats > into.exampleRepeats) {
    into.exampleTraceId = from.exampleTraceId;
    into.exampleRepeats = from.exampleRepeats;
  }
});

export const serviceFamily = plainFamily<ServiceStats>('service', (into, from) => {
  into.requests += from.requests;
  into.dbMs += from.dbMs;
  into.dbQueries += from.dbQueries;
});
