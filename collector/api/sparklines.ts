/**
 * Sparklines for the list routes: each row's trend over the requested range, in a few
 * fixed-width time slots, so a table draws one small line per row from the list it already
 * fetched instead of asking once per row. Slots are aligned on their width, so a rolled-up
 * hourly bucket falls in exactly one slot; each slot merges the buckets that start in it.
 */
import {
  type CacheStats,
  cacheFamily,
  type EndpointStats,
  endpointFamily,
  type Family,
  type QueryStats,
  type QueueStats,
  queryFamily,
  queueFamily,
  type RuntimeStats,
  runtimeFamily,
} from '../aggregate/stats.js';
import { round2 } from '../detect/format.js';
import type { StatsRecord } from './aggregates.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const MIB = 1024 * 1024;

/** Slot width per `since` range: 15 to 30 points, never narrower than the buckets stored at that age. */
export const SPARKLINE_SLOT_MS: Readonly<Record<string, number>> = {
  '15m': MINUTE_MS,
  '1h': 2 * MINUTE_MS,
  '24h': HOUR_MS,
  '7d': 6 * HOUR_MS,
};

/**
 * One measure of a slot: `stats` is undefined when the row has no data in it. Rates then read
 * 0 (nothing happened); measures of things that happened read `null` (nothing to measure).
 */
type Measure<T> = (stats: T | undefined, minutes: number) => number | null;

export interface SparklineSpec<T> {
  family: Family<T>;
  /** The key the aggregator files the row's buckets under (see aggregate/window.ts). */
  keyOf(row: Record<string, unknown>): string;
  measures: Record<string, Measure<T>>;
}

export interface Sparklines {
  /** Slot `i` covers `[from + i × slotMs, from + (i + 1) × slotMs)`; the last one ends now. */
  slots: { from: string; slotMs: number; count: number };
  /** A row's series: one value per slot for each measure. */
  of(row: unknown): Record<string, Array<number | null>>;
}

function spec<T>(definition: SparklineSpec<T>): SparklineSpec<unknown> {
  return definition as unknown as SparklineSpec<unknown>;
}

/** What each list route draws per row, by route name. */
export const LIST_SPARKLINES = {
  queries: spec<QueryStats>({
    family: queryFamily,
    keyOf: (row) => String(row.fingerprintId),
    measures: {
      callsPerMin: (stats, minutes) => round2((stats?.count ?? 0) / minutes),
      msPerMin: (stats, minutes) => round2((stats?.totalMs ?? 0) / minutes),
      p95Ms: (stats) => (stats && stats.count > 0 ? round2(stats.sketch.quantile(0.95)) : null),
    },
  }),
  endpoints: spec<EndpointStats>({
    family: endpointFamily,
    keyOf: (row) => String(row.route),
    measures: {
      requestsPerMin: (stats, minutes) => round2((stats?.count ?? 0) / minutes),
      p95Ms: (stats) => (stats && stats.count > 0 ? round2(stats.sketch.quantile(0.95)) : null),
    },
  }),
  caches: spec<CacheStats>({
    family: cacheFamily,
    keyOf: (row) => `${row.system} ${row.keyPattern}`,
    measures: {
      lookupsPerMin: (stats, minutes) => round2((stats?.lookups ?? 0) / minutes),
      hitRatio: (stats) => (stats && stats.lookups > 0 ? round2(stats.hits / stats.lookups) : null),
    },
  }),
  queues: spec<QueueStats>({
    family: queueFamily,
    keyOf: (row) => `${row.system} ${row.destination}`,
    measures: {
      publishedPerMin: (stats, minutes) => round2((stats?.published ?? 0) / minutes),
      consumedPerMin: (stats, minutes) => round2((stats?.consumed ?? 0) / minutes),
      lagP95Ms: (stats) => (stats && stats.lag.count > 0 ? round2(stats.lag.sketch.quantile(0.95)) : null),
    },
  }),
  // A process that sent no sample in a slot was not running: every measure is unknown there.
  runtime: spec<RuntimeStats>({
    family: runtimeFamily,
    keyOf: (row) => String(row.instanceId),
    measures: {
      maxDelayMs: (stats) => (stats ? round2(stats.maxDelayMs) : null),
      gcPauseMsPerMin: (stats, minutes) => (stats ? round2(stats.gcPauseMs / minutes) : null),
      heapUsedMaxMb: (stats) => (stats ? round2(stats.heapUsedMaxBytes / MIB) : null),
    },
  }),
} as const;

/**
 * Slots the records of one list route's family over `[fromMs, nowMs)`, leaving the records as
 * they are (each slot starts from a copy).
 *
 * @example
 * const sparklines = listSparklines(LIST_SPARKLINES.queries, decodeRecords(queryFamily, records), { fromMs, nowMs, slotMs: 120_000 });
 * rows.map((row) => ({ ...row, series: sparklines.of(row) }));
 */
export function listSparklines(
  definition: SparklineSpec<unknown>,
  records: StatsRecord<unknown>[],
  range: { fromMs: number; nowMs: number; slotMs: number },
): Sparklines {
  const { family, keyOf, measures } = definition;
  const { fromMs, nowMs, slotMs } = range;
  const startMs = fromMs - (fromMs % slotMs);
  const count = Math.max(1, Math.ceil((nowMs - startMs) / slotMs));
  const slotted = new Map<string, unknown[]>();
  for (const record of records) {
    const index = Math.floor((record.bucketStartMs - startMs) / slotMs);
    if (index < 0 || index >= count) continue;
    const id = `${record.service}\u0000${record.key}`;
    let slots = slotted.get(id);
    if (!slots) {
      slots = new Array(count).fill(undefined);
      slotted.set(id, slots);
    }
    const existing = slots[index];
    if (existing === undefined) slots[index] = family.clone(record.stats);
    else family.merge(existing, record.stats);
  }
  // The first slot may begin before the range and the last one ends now: rates use the time covered.
  const minutes = Array.from({ length: count }, (_, index) => {
    const slotStart = startMs + index * slotMs;
    const covered = Math.min(slotStart + slotMs, nowMs) - Math.max(slotStart, fromMs);
    return Math.max(covered / MINUTE_MS, 1);
  });
  const empty: Array<undefined> = new Array(count).fill(undefined);
  return {
    slots: { from: new Date(startMs).toISOString(), slotMs, count },
    of(row) {
      const fields = row as Record<string, unknown>;
      const slots = slotted.get(`${fields.service}\u0000${keyOf(fields)}`) ?? empty;
      return Object.fromEntries(
        Object.entries(measures).map(([name, measure]) => [
          name,
          slots.map((stats, index) => measure(stats, minutes[index] ?? 1)),
        ]),
      );
    },
  };
}
