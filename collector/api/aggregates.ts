/**
 * The aggregates behind the findings, as the list routes serve them: stored buckets of
 * one family over a time range, merged per key into rows people read (percentiles,
 * rates, ratios), and per-bucket series for a finding's charts. Pure functions of the
 * bucket records the store returns.
 */
import type { FindingKind } from '../../model/index.js';
import {
  type CacheStats,
  cacheFamily,
  type EndpointStats,
  endpointFamily,
  type Family,
  patternFamily,
  type QueryStats,
  type QueueStats,
  queryFamily,
  queueFamily,
  type RuntimeStats,
  runtimeFamily,
  topLabels,
} from '../aggregate/stats.js';
import type { BucketRecord } from '../aggregate/window.js';
import { round2 } from '../detect/format.js';
import { timeBreakdown } from '../detect/slow-endpoint.js';
import { staticFileOf } from '../detect/static-assets.js';

/** The time ranges the list routes accept, by their `since` value. */
export const SINCE: Readonly<Record<string, number>> = {
  '15m': 15 * 60_000,
  '1h': 60 * 60_000,
  '24h': 24 * 60 * 60_000,
  '7d': 7 * 24 * 60 * 60_000,
};

const MIB = 1024 * 1024;
/** The aggregator's bucket width: what a stored bucket without its own `bucketMs` spans. */
const MINUTE_MS = 60_000;

/** A stored bucket with its data deserialized once, for every reader of one request. */
export interface StatsRecord<T> {
  service: string;
  key: string;
  bucketStartMs: number;
  stats: T;
}

/**
 * @example
 * const decoded = decodeRecords(queryFamily, store.readBuckets({ family: queryFamily.name, fromMs }));
 * queryRows(decoded, nowMs);
 */
export function decodeRecords<T>(family: Family<T>, records: BucketRecord[]): StatsRecord<T>[] {
  return records.map((record) => ({
    service: record.service,
    key: record.key,
    bucketStartMs: record.bucketStartMs,
    stats: family.deserialize(record.data),
  }));
}

/** Merged statistics per (service, key) over the records of one family, with the minutes they cover. */
export function mergeRecords<T>(
  family: Family<T>,
  records: StatsRecord<T>[],
  nowMs: number,
): { rows: T[]; minutes: number } {
  const merged = new Map<string, T>();
  let firstMs = nowMs;
  for (const record of records) {
    firstMs = Math.min(firstMs, record.bucketStartMs);
    const id = `${record.service}\u0000${record.key}`;
    const existing = merged.get(id);
    if (existing) family.merge(existing, record.stats);
    // A copy: merging into the record's own stats would change what other readers of it see.
    else merged.set(id, family.clone(record.stats));
  }
  return { rows: [...merged.values()], minutes: Math.max((nowMs - firstMs) / 60_000, 1) };
}

export function queryRows(records: StatsRecord<QueryStats>[], nowMs: number) {
  const { rows, minutes } = mergeRecords(queryFamily, records, nowMs);
  return rows
    .sort((a, b) => b.totalMs - a.totalMs)
    .map((q: QueryStats) => ({
      service: q.service,
      fingerprintId: q.fingerprintId,
      system: q.system,
      fingerprint: q.fingerprint,
      statementType: q.statementType,
      tables: q.tables,
      count: q.count,
      errors: q.errors,
      callsPerMin: round2(q.count / minutes),
      totalMs: round2(q.totalMs),
      msPerMin: round2(q.totalMs / minutes),
      ...latency(q),
      routes: topLabels(q.entries).map(({ label, count }) => ({ route: label, count })),
      exampleTraceId: q.exampleTraceId,
    }));
}

export function endpointRows(records: StatsRecord<EndpointStats>[], nowMs: number) {
  const { rows, minutes } = mergeRecords(endpointFamily, records, nowMs);
  return rows
    .sort((a, b) => b.totalMs - a.totalMs)
    .map((e: EndpointStats) => ({
      service: e.service,
      route: e.entry,
      count: e.count,
      errors: e.errors,
      requestsPerMin: round2(e.count / minutes),
      totalMs: round2(e.totalMs),
      msPerMin: round2(e.totalMs / minutes),
      ...latency(e),
      breakdownMs: roundAll(timeBreakdown(e)),
      exampleTraceId: e.exampleTraceId,
    }));
}

export function cacheRows(records: StatsRecord<CacheStats>[], nowMs: number) {
  const { rows, minutes } = mergeRecords(cacheFamily, records, nowMs);
  return rows
    .sort((a, b) => b.misses - a.misses || b.lookups - a.lookups)
    .map((c: CacheStats) => ({
      service: c.service,
      system: c.system,
      keyPattern: c.keyPattern,
      lookups: c.lookups,
      lookupsPerMin: round2(c.lookups / minutes),
      hits: c.hits,
      misses: c.misses,
      hitRatio: c.lookups > 0 ? round2(c.hits / c.lookups) : null,
      writes: c.writes,
      refilledMisses: c.refilledMisses,
      ttlsSeconds: topLabels(c.ttlSeconds).map(({ label, count }) => ({ ttlSeconds: Number(label), count })),
      commandMs: round2(c.commandMs),
      routes: topLabels(c.entries).map(({ label, count }) => ({ route: label, count })),
    }));
}

export function queueRows(records: StatsRecord<QueueStats>[], nowMs: number) {
  const { rows, minutes } = mergeRecords(queueFamily, records, nowMs);
  return rows
    .map((q: QueueStats) => ({
      service: q.service,
      system: q.system,
      destination: q.destination,
      published: q.published,
      publishedPerMin: round2(q.published / minutes),
      consumed: q.consumed,
      consumedPerMin: round2(q.consumed / minutes),
      consumeErrors: q.consumeErrors,
      lagP50Ms: q.lag.count > 0 ? round2(q.lag.sketch.quantile(0.5)) : null,
      lagP95Ms: q.lag.count > 0 ? round2(q.lag.sketch.quantile(0.95)) : null,
      lagMaxMs: q.lag.count > 0 ? round2(q.lag.maxMs) : null,
      processingMeanMs: q.processing.count > 0 ? round2(q.processing.totalMs / q.processing.count) : null,
      processingP95Ms: q.processing.count > 0 ? round2(q.processing.sketch.quantile(0.95)) : null,
    }))
    .sort(
      (a, b) =>
        (b.lagP95Ms ?? -1) - (a.lagP95Ms ?? -1) || b.consumed + b.published - (a.consumed + a.published),
    );
}

export function runtimeRows(records: StatsRecord<RuntimeStats>[], nowMs: number) {
  const { rows, minutes } = mergeRecords(runtimeFamily, records, nowMs);
  return rows
    .sort((a, b) => b.blockedMs - a.blockedMs || b.maxDelayMs - a.maxDelayMs)
    .map((r: RuntimeStats) => ({
      service: r.service,
      instanceId: r.instanceId,
      serviceVersion: r.serviceVersion ?? null,
      samples: r.samples,
      medianDelayMs: round2(r.delayP50.quantile(0.5)),
      maxDelayMs: round2(r.maxDelayMs),
      blockedMsPerMin: round2(r.blockedMs / minutes),
      gcPauseMsPerMin: round2(r.gcPauseMs / minutes),
      gcWorstMsPerSecond: round2(r.gcWorstMsPerSecond),
      gcMaxPauseMs: round2(r.gcMaxPauseMs),
      heapUsedMaxMb: round2(r.heapUsedMaxBytes / MIB),
      rssMaxMb: round2(r.rssMaxBytes / MIB),
      cpuMsPerMin: round2(r.cpuMs / minutes),
    }));
}

/** Which stored buckets hold a finding's series: family and key, or every key of the service. */
export function seriesSource(kind: FindingKind, key: string): { family: string; key?: string } {
  switch (kind) {
    case 'slow_query':
      return { family: queryFamily.name, key };
    case 'slow_endpoint':
      return { family: endpointFamily.name, key };
    case 'cache_hit_ratio':
      return { family: cacheFamily.name, key };
    case 'queue_lag':
      return { family: queueFamily.name, key };
    case 'event_loop_blocked':
    case 'gc_pressure':
    case 'hot_path_cpu':
      return { family: runtimeFamily.name };
    case 'static_assets':
      // Read from the routes' statistics: every route of the service, the static ones summed.
      return { family: endpointFamily.name };
    default:
      return { family: patternFamily.name, key: `${kind}:${key}` };
  }
}

/**
 * One point per bucket for a finding's chart, in time order. Rolled-up (hourly) buckets
 * carry `bucketMs`; counts are per bucket, so a chart divides by it for rates. Each point is one
 * object literal: spreading a shared `t`/`bucketMs` part and the percentiles into it took 70% of
 * this function's time (0.74 ms for a day of a statement's buckets, 142 points).
 */
export function findingSeries(kind: FindingKind, records: BucketRecord[]) {
  const t = (record: BucketRecord) => new Date(record.bucketStartMs).toISOString();
  const bucketMs = (record: BucketRecord) => record.bucketMs ?? MINUTE_MS;
  switch (kind) {
    case 'slow_query':
      return records.map((record) => {
        const stats = queryFamily.deserialize(record.data);
        return {
          t: t(record),
          bucketMs: bucketMs(record),
          count: stats.count,
          p50Ms: round2(stats.sketch.quantile(0.5)),
          p95Ms: round2(stats.sketch.quantile(0.95)),
          p99Ms: round2(stats.sketch.quantile(0.99)),
          totalMs: round2(stats.totalMs),
        };
      });
    case 'slow_endpoint':
      return records.map((record) => {
        const stats = endpointFamily.deserialize(record.data);
        return {
          t: t(record),
          bucketMs: bucketMs(record),
          count: stats.count,
          p50Ms: round2(stats.sketch.quantile(0.5)),
          p95Ms: round2(stats.sketch.quantile(0.95)),
          p99Ms: round2(stats.sketch.quantile(0.99)),
          breakdownMs: roundAll(timeBreakdown(stats)),
        };
      });
    case 'cache_hit_ratio':
      return records.map((record) => {
        const stats = cacheFamily.deserialize(record.data);
        return {
          t: t(record),
          bucketMs: bucketMs(record),
          lookups: stats.lookups,
          hits: stats.hits,
          misses: stats.misses,
          hitRatio: stats.lookups > 0 ? round2(stats.hits / stats.lookups) : null,
        };
      });
    case 'queue_lag':
      return records.map((record) => {
        const stats = queueFamily.deserialize(record.data);
        return {
          t: t(record),
          bucketMs: bucketMs(record),
          published: stats.published,
          consumed: stats.consumed,
          lagP50Ms: stats.lag.count > 0 ? round2(stats.lag.sketch.quantile(0.5)) : null,
          lagP95Ms: stats.lag.count > 0 ? round2(stats.lag.sketch.quantile(0.95)) : null,
          processingP95Ms: stats.processing.count > 0 ? round2(stats.processing.sketch.quantile(0.95)) : null,
        };
      });
    case 'event_loop_blocked':
    case 'gc_pressure':
    case 'hot_path_cpu':
      // Every instance of the service, merged bucket by bucket.
      return mergedPerBucket(runtimeFamily, records).map(({ record, stats }) => ({
        t: t(record),
        bucketMs: bucketMs(record),
        instances: stats.instances,
        medianDelayMs: round2(stats.merged.delayP50.quantile(0.5)),
        maxDelayMs: round2(stats.merged.maxDelayMs),
        blockedMs: round2(stats.merged.blockedMs),
        gcPauseMs: round2(stats.merged.gcPauseMs),
        gcWorstMsPerSecond: round2(stats.merged.gcWorstMsPerSecond),
        heapUsedMaxMb: round2(stats.merged.heapUsedMaxBytes / MIB),
      }));
    case 'static_assets':
      return staticFilesPerBucket(records).map(({ record, count, totalMs }) => ({
        t: t(record),
        bucketMs: bucketMs(record),
        count,
        totalMs: round2(totalMs),
      }));
    default:
      return records.map((record) => {
        const stats = patternFamily.deserialize(record.data);
        return {
          t: t(record),
          bucketMs: bucketMs(record),
          count: stats.occurrences,
          avgRepeats: stats.occurrences > 0 ? round2(stats.totalRepeats / stats.occurrences) : 0,
          totalMs: round2(stats.totalMs),
        };
      });
  }
}

/** Requests for static files and the time serving them, per bucket, in time order. */
function staticFilesPerBucket(records: BucketRecord[]) {
  const byStart = new Map<number, { record: BucketRecord; count: number; totalMs: number }>();
  for (const record of records) {
    if (staticFileOf(record.key) === undefined) continue;
    const stats = endpointFamily.deserialize(record.data);
    const bucket = byStart.get(record.bucketStartMs);
    if (bucket) {
      bucket.count += stats.count;
      bucket.totalMs += stats.totalMs;
    } else byStart.set(record.bucketStartMs, { record, count: stats.count, totalMs: stats.totalMs });
  }
  return [...byStart.values()];
}

function mergedPerBucket<T>(family: Family<T>, records: BucketRecord[]) {
  const byStart = new Map<number, { record: BucketRecord; stats: { merged: T; instances: number } }>();
  for (const record of records) {
    const stats = family.deserialize(record.data);
    const existing = byStart.get(record.bucketStartMs);
    if (existing) {
      family.merge(existing.stats.merged, stats);
      existing.stats.instances += 1;
    } else byStart.set(record.bucketStartMs, { record, stats: { merged: stats, instances: 1 } });
  }
  return [...byStart.values()];
}

function latency(stats: { count: number; maxMs: number; sketch: QueryStats['sketch'] }) {
  return { ...percentiles(stats.sketch), maxMs: round2(stats.maxMs) };
}

function percentiles(sketch: QueryStats['sketch']) {
  return {
    p50Ms: round2(sketch.quantile(0.5)),
    p95Ms: round2(sketch.quantile(0.95)),
    p99Ms: round2(sketch.quantile(0.99)),
  };
}

function roundAll<K extends string>(values: Record<K, number>): Record<K, number> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key, round2(value as number)]),
  ) as Record<K, number>;
}
