/**
 * The mergeable statistics kept per key and time bucket. Every family knows how to
 * start empty, absorb another bucket of itself, and (de)serialise for the store.
 *
 * Copies are written out field by field, never with object spread: under V8 11 (Node 20) a
 * spread site that has seen a few shapes gives every copy a hidden class of its own, and tens
 * of thousands of keys then hold as many maps and descriptor arrays (14 MB of a 66 MB heap
 * after 1M spans over 10k fingerprints).
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
  // One lookup for a label already counted; `other` present means full, so only a new label of a
  // map not yet full pays for counting keys.
  const count = labels[label];
  if (typeof count === 'number') labels[label] = count + times;
  else if (labels.other === undefined && Object.keys(labels).length < MAX_LABELS) labels[label] = times;
  else labels.other = (labels.other ?? 0) + times;
}

function mergeLabels(into: Record<string, number>, from: Record<string, number>): void {
  // for…in rather than Object.entries: no pair array per label, and views merge every key's labels.
  for (const label in from) countLabel(into, label, from[label] as number);
}

/**
 * A new label map (routes, TTLs, …). Objects without a prototype are dictionaries from the start
 * in V8: a plain object gets a hidden class per order its labels arrived in (thousands across
 * keys), and `countLabel`'s lookups then miss V8's caches for every one.
 */
export function emptyLabels<V = number>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

function copyLabels(labels: Record<string, number>): Record<string, number> {
  const copy = emptyLabels();
  for (const label in labels) copy[label] = labels[label] as number;
  return copy;
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

/**
 * A latency family. `copy` builds a new stats object from one and the sketch it is given,
 * field by field, with fresh copies of what a merge changes in place (label maps); the rest is
 * shared, since merges only replace it: a copy per key per detection run is why clones are
 * shallow rather than `structuredClone`.
 */
function latencyFamily<T extends LatencyStats>(
  name: string,
  mergeRest: (into: T, from: T) => void,
  copy: (stats: T, sketch: QuantileSketch) => T,
): Family<T> {
  return {
    name,
    merge(into, from) {
      mergeLatency(into, from);
      mergeRest(into, from);
    },
    clone: (stats) => copy(stats, stats.sketch.clone()),
    serialize(stats) {
      return { ...stats, sketch: stats.sketch.toJSON() } satisfies Serialized<T>;
    },
    deserialize(data) {
      const raw = data as Serialized<T>;
      return copy(raw as unknown as T, QuantileSketch.fromJSON(raw.sketch));
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

export const queryFamily = latencyFamily<QueryStats>(
  'query',
  (into, from) => {
    mergeLabels(into.entries, from.entries);
    keepSlowestExample(into, from);
    if (from.plan) into.plan = from.plan;
  },
  // The aggregator creates these with the same fields in the same order (`plan` included).
  (stats, sketch) => ({
    count: stats.count,
    errors: stats.errors,
    totalMs: stats.totalMs,
    maxMs: stats.maxMs,
    sketch,
    service: stats.service,
    system: stats.system,
    fingerprintId: stats.fingerprintId,
    fingerprint: stats.fingerprint,
    statementType: stats.statementType,
    tables: stats.tables,
    entries: copyLabels(stats.entries),
    exampleTraceId: stats.exampleTraceId,
    exampleDurationMs: stats.exampleDurationMs,
    plan: stats.plan,
  }),
);

export const endpointFamily = latencyFamily<EndpointStats>(
  'endpoint',
  (into, from) => {
    into.dbMs += from.dbMs;
    into.cacheMs += from.cacheMs;
    into.httpMs += from.httpMs;
    into.queueMs += from.queueMs;
    keepSlowestExample(into, from);
  },
  (stats, sketch) => ({
    count: stats.count,
    errors: stats.errors,
    totalMs: stats.totalMs,
    maxMs: stats.maxMs,
    sketch,
    service: stats.service,
    entry: stats.entry,
    dbMs: stats.dbMs,
    cacheMs: stats.cacheMs,
    httpMs: stats.httpMs,
    queueMs: stats.queueMs,
    exampleTraceId: stats.exampleTraceId,
    exampleDurationMs: stats.exampleDurationMs,
  }),
);

/** A family stored as it is kept; `clone` is as shallow as its merge allows, field by field (see `latencyFamily`). */
function plainFamily<T>(name: string, merge: (into: T, from: T) => void, clone: (stats: T) => T): Family<T> {
  return {
    name,
    merge,
    clone,
    serialize: (stats) => stats,
    deserialize: (data) => data as T,
  };
}

export const patternFamily = plainFamily<PatternStats>(
  'pattern',
  (into, from) => {
    into.occurrences += from.occurrences;
    into.totalRepeats += from.totalRepeats;
    into.totalMs += from.totalMs;
    into.maxRepeats = Math.max(into.maxRepeats, from.maxRepeats);
    mergeLabels(into.entries, from.entries);
    if (from.exampleRepeats > into.exampleRepeats) {
      into.exampleTraceId = from.exampleTraceId;
      into.exampleRepeats = from.exampleRepeats;
    }
  },
  (stats) => ({
    kind: stats.kind,
    service: stats.service,
    key: stats.key,
    occurrences: stats.occurrences,
    totalRepeats: stats.totalRepeats,
    maxRepeats: stats.maxRepeats,
    totalMs: stats.totalMs,
    entries: copyLabels(stats.entries),
    exampleTraceId: stats.exampleTraceId,
    exampleRepeats: stats.exampleRepeats,
    evidence: stats.evidence,
  }),
);

export const serviceFamily = plainFamily<ServiceStats>(
  'service',
  (into, from) => {
    into.requests += from.requests;
    into.dbMs += from.dbMs;
    into.dbQueries += from.dbQueries;
  },
  (stats) => ({
    service: stats.service,
    requests: stats.requests,
    dbMs: stats.dbMs,
    dbQueries: stats.dbQueries,
  }),
);

/** A statement seen right after a cache miss: what the cache was meant to spare. */
export interface MissQuery {
  system: string;
  fingerprint: string;
  tables: string[];
  count: number;
  totalMs: number;
}

/** Most statements kept per key pattern as "run after a miss". */
const MAX_MISS_QUERIES = 5;

export interface CacheStats {
  service: string;
  system: string;
  keyPattern: string;
  /** Reads whose outcome the agent recorded (a multi-key read counts each key). */
  lookups: number;
  hits: number;
  misses: number;
  /** Writes of the pattern (SET, SETEX, HSET, …). */
  writes: number;
  /** TTL in seconds → how many commands asked for it (SET EX, SETEX, EXPIRE, …). */
  ttlSeconds: Record<string, number>;
  /** Time spent in commands on the pattern. */
  commandMs: number;
  /** Misses followed, in the same trace, by a write of the same pattern: cache-aside refilling. */
  refilledMisses: number;
  /** The first statement run after a miss, by fingerprint id. */
  missQueries: Record<string, MissQuery>;
  /** Unit of work (`GET /products/:id`) → lookups. */
  entries: Record<string, number>;
  exampleTraceId: string;
}

export const cacheFamily = plainFamily<CacheStats>(
  'cache',
  (into, from) => {
    into.lookups += from.lookups;
    into.hits += from.hits;
    into.misses += from.misses;
    into.writes += from.writes;
    into.commandMs += from.commandMs;
    into.refilledMisses += from.refilledMisses;
    mergeLabels(into.ttlSeconds, from.ttlSeconds);
    mergeLabels(into.entries, from.entries);
    for (const [id, query] of Object.entries(from.missQueries)) addMissQuery(into.missQueries, id, query);
    if (from.misses > 0) into.exampleTraceId = from.exampleTraceId;
  },
  (stats) => {
    const missQueries = emptyLabels<MissQuery>();
    for (const id in stats.missQueries) missQueries[id] = copyMissQuery(stats.missQueries[id] as MissQuery);
    return {
      service: stats.service,
      system: stats.system,
      keyPattern: stats.keyPattern,
      lookups: stats.lookups,
      hits: stats.hits,
      misses: stats.misses,
      writes: stats.writes,
      ttlSeconds: copyLabels(stats.ttlSeconds),
      commandMs: stats.commandMs,
      refilledMisses: stats.refilledMisses,
      missQueries,
      entries: copyLabels(stats.entries),
      exampleTraceId: stats.exampleTraceId,
    };
  },
);

function copyMissQuery(query: MissQuery): MissQuery {
  return {
    system: query.system,
    fingerprint: query.fingerprint,
    tables: query.tables,
    count: query.count,
    totalMs: query.totalMs,
  };
}

/** Adds to the bounded statements-after-a-miss map; a full map keeps the ones it has. */
export function addMissQuery(queries: Record<string, MissQuery>, id: string, query: MissQuery): void {
  const existing = queries[id];
  if (existing) {
    existing.count += query.count;
    existing.totalMs += query.totalMs;
  } else if (Object.keys(queries).length < MAX_MISS_QUERIES) queries[id] = copyMissQuery(query);
}

export interface QueueStats {
  service: string;
  system: string;
  destination: string;
  published: number;
  consumed: number;
  consumeErrors: number;
  /** Consume start − publish time, for consumed messages that carried their publish time. */
  lag: LatencyStats;
  /** How long consuming a message took (the consumer span). */
  processing: LatencyStats;
  /** The consume with the longest wait. */
  exampleTraceId: string;
  exampleLagMs: number;
}

function copyLatency(stats: LatencyStats, sketch: QuantileSketch): LatencyStats {
  return { count: stats.count, errors: stats.errors, totalMs: stats.totalMs, maxMs: stats.maxMs, sketch };
}

type SerializedLatency = Omit<LatencyStats, 'sketch'> & { sketch: SerializedSketch };

function serializeLatency(stats: LatencyStats): SerializedLatency {
  return { ...stats, sketch: stats.sketch.toJSON() };
}

function deserializeLatency(data: SerializedLatency): LatencyStats {
  return copyLatency(data as unknown as LatencyStats, QuantileSketch.fromJSON(data.sketch));
}

function copyQueue(stats: QueueStats, lag: LatencyStats, processing: LatencyStats): QueueStats {
  return {
    service: stats.service,
    system: stats.system,
    destination: stats.destination,
    published: stats.published,
    consumed: stats.consumed,
    consumeErrors: stats.consumeErrors,
    lag,
    processing,
    exampleTraceId: stats.exampleTraceId,
    exampleLagMs: stats.exampleLagMs,
  };
}

export const queueFamily: Family<QueueStats> = {
  name: 'queue',
  merge(into, from) {
    into.published += from.published;
    into.consumed += from.consumed;
    into.consumeErrors += from.consumeErrors;
    mergeLatency(into.lag, from.lag);
    mergeLatency(into.processing, from.processing);
    if (from.exampleLagMs > into.exampleLagMs) {
      into.exampleLagMs = from.exampleLagMs;
      into.exampleTraceId = from.exampleTraceId;
    }
  },
  clone: (stats) =>
    copyQueue(
      stats,
      copyLatency(stats.lag, stats.lag.sketch.clone()),
      copyLatency(stats.processing, stats.processing.sketch.clone()),
    ),
  serialize: (stats) => ({
    ...stats,
    lag: serializeLatency(stats.lag),
    processing: serializeLatency(stats.processing),
  }),
  deserialize(data) {
    const raw = data as Omit<QueueStats, 'lag' | 'processing'> & {
      lag: SerializedLatency;
      processing: SerializedLatency;
    };
    return copyQueue(
      raw as unknown as QueueStats,
      deserializeLatency(raw.lag),
      deserializeLatency(raw.processing),
    );
  },
};

export interface RuntimeStats {
  service: string;
  instanceId: string;
  serviceVersion?: string;
  samples: number;
  intervalMs: number;
  /** Event-loop delay beyond the sampling resolution: each interval's median, and each interval's max. */
  delayP50: QuantileSketch;
  delayMax: QuantileSketch;
  maxDelayMs: number;
  /** Estimated time the loop was blocked (intervals with a real stall only). */
  blockedMs: number;
  gcCount: number;
  gcPauseMs: number;
  gcMaxPauseMs: number;
  /** The worst interval's GC pause time per second. */
  gcWorstMsPerSecond: number;
  /** GC kind (`major`, `minor`, `incremental`, `weakcb`) → pause time. */
  gcPauseMsByKind: Record<string, number>;
  heapUsedMaxBytes: number;
  rssMaxBytes: number;
  cpuMs: number;
}

export const runtimeFamily: Family<RuntimeStats> = {
  name: 'runtime',
  merge(into, from) {
    into.samples += from.samples;
    into.intervalMs += from.intervalMs;
    into.delayP50.merge(from.delayP50);
    into.delayMax.merge(from.delayMax);
    into.maxDelayMs = Math.max(into.maxDelayMs, from.maxDelayMs);
    into.blockedMs += from.blockedMs;
    into.gcCount += from.gcCount;
    into.gcPauseMs += from.gcPauseMs;
    into.gcMaxPauseMs = Math.max(into.gcMaxPauseMs, from.gcMaxPauseMs);
    into.gcWorstMsPerSecond = Math.max(into.gcWorstMsPerSecond, from.gcWorstMsPerSecond);
    mergeLabels(into.gcPauseMsByKind, from.gcPauseMsByKind);
    into.heapUsedMaxBytes = Math.max(into.heapUsedMaxBytes, from.heapUsedMaxBytes);
    into.rssMaxBytes = Math.max(into.rssMaxBytes, from.rssMaxBytes);
    into.cpuMs += from.cpuMs;
    if (from.serviceVersion) into.serviceVersion = from.serviceVersion;
  },
  clone: (stats) => copyRuntime(stats, stats.delayP50.clone(), stats.delayMax.clone()),
  serialize: (stats) => ({ ...stats, delayP50: stats.delayP50.toJSON(), delayMax: stats.delayMax.toJSON() }),
  deserialize(data) {
    const raw = data as Omit<RuntimeStats, 'delayP50' | 'delayMax'> & {
      delayP50: SerializedSketch;
      delayMax: SerializedSketch;
    };
    return copyRuntime(
      raw as unknown as RuntimeStats,
      QuantileSketch.fromJSON(raw.delayP50),
      QuantileSketch.fromJSON(raw.delayMax),
    );
  },
};

function copyRuntime(stats: RuntimeStats, delayP50: QuantileSketch, delayMax: QuantileSketch): RuntimeStats {
  return {
    service: stats.service,
    instanceId: stats.instanceId,
    serviceVersion: stats.serviceVersion,
    samples: stats.samples,
    intervalMs: stats.intervalMs,
    delayP50,
    delayMax,
    maxDelayMs: stats.maxDelayMs,
    blockedMs: stats.blockedMs,
    gcCount: stats.gcCount,
    gcPauseMs: stats.gcPauseMs,
    gcMaxPauseMs: stats.gcMaxPauseMs,
    gcWorstMsPerSecond: stats.gcWorstMsPerSecond,
    gcPauseMsByKind: copyLabels(stats.gcPauseMsByKind),
    heapUsedMaxBytes: stats.heapUsedMaxBytes,
    rssMaxBytes: stats.rssMaxBytes,
    cpuMs: stats.cpuMs,
  };
}

/** Every family the aggregator keeps, by name: the store hands back opaque data that these read. */
export const FAMILIES: Readonly<Record<string, Family<unknown>>> = Object.fromEntries(
  [queryFamily, endpointFamily, patternFamily, serviceFamily, cacheFamily, queueFamily, runtimeFamily].map(
    (family) => [family.name, family as Family<unknown>],
  ),
);

/**
 * Merges stored bucket data of one family into one (rolling minutes up into an hour).
 * Data that cannot be read as the family is skipped; an unknown family gives `undefined`.
 *
 * @example
 * mergeBucketData('query', [minute1.data, minute2.data]) // one serialised QueryStats
 */
export function mergeBucketData(family: string, data: unknown[]): unknown {
  const stats = FAMILIES[family];
  if (!stats) return undefined;
  let merged: unknown;
  for (const item of data) {
    try {
      const next = stats.deserialize(item);
      if (merged === undefined) merged = next;
      else stats.merge(merged, next);
    } catch {
      // A damaged bucket must not stop the others from rolling up.
    }
  }
  return merged === undefined ? undefined : stats.serialize(merged);
}
