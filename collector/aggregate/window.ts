/**
 * Time-bucketed aggregates of assembled traces. Recent buckets stay in memory so
 * detection reads them without I/O; changed buckets are handed to the store in
 * batches (`takeDirty`), and old ones are pruned from memory.
 */
import type {
  CacheCommandOperation,
  Operation,
  QueueMessageOperation,
  RuntimeSample,
} from '../../model/index.js';
import type { AssembledTrace } from '../assemble/trace.js';
import type { Occurrence } from '../detect/types.js';
import { SharedJoins } from '../normalize/shared-joins.js';
import { type ReceivedProfile, RecentProfiles } from './profiles.js';
import { QuantileSketch } from './sketch.js';
import {
  addLatency,
  addMissQuery,
  type CacheStats,
  cacheFamily,
  countLabel,
  type EndpointStats,
  emptyLabels,
  emptyLatency,
  endpointFamily,
  type Family,
  type MissQuery,
  type PatternStats,
  patternFamily,
  type QueryStats,
  type QueueStats,
  queryFamily,
  queueFamily,
  type RuntimeStats,
  runtimeFamily,
  type ServiceStats,
  serviceFamily,
} from './stats.js';

export interface AggregatorOptions {
  bucketMs: number;
  /** How long buckets stay in memory (the longest detection window). */
  memoryMs: number;
  /** Spans stamped further in the past than this count as arriving now (clock skew, replays). */
  maxLatenessMs: number;
  /**
   * The period of the agent's event-loop delay histogram, which every reading includes
   * (`monitorEventLoopDelay` records whole timer periods: an idle loop reads ≈ 10 ms with
   * prom-client's default). Subtracted so that delay means time the loop was late.
   */
  eventLoopResolutionMs: number;
}

export const defaultAggregatorOptions: AggregatorOptions = {
  bucketMs: 60_000,
  memoryMs: 60 * 60_000,
  maxLatenessMs: 60 * 60_000,
  eventLoopResolutionMs: 10,
};

/** An interval counts its estimated blocked time only when its longest delay shows a stall this long. */
const STALL_MS = 10;
/** How far ahead of a cache miss the refill (a write of the same pattern) is looked for. */
const MISS_FOLLOW_UP_OPERATIONS = 200;
/** Commands that fill a cache entry: the refill after a miss. */
const CACHE_WRITES = new Set(['SET', 'SETEX', 'PSETEX', 'SETNX', 'MSET', 'HSET', 'HMSET', 'GETSET']);

/**
 * Keys of the pattern and cache families as one string each (`<kind>:<key>`, `<system> <pattern>`):
 * a trace records several, and a new concatenation per record was flattened and hashed again by
 * the bucket's map. Grouped by the pattern, which has few kinds or systems.
 */
const occurrenceKeys = new SharedJoins({
  groupBy: 'second',
  maxGroups: 10_000,
  maxPerGroup: 16,
  separator: ':',
});
const cacheKeys = new SharedJoins({ groupBy: 'second', maxGroups: 10_000, maxPerGroup: 16 });

/** One stored bucket of one family, as the store persists it. */
export interface BucketRecord {
  family: string;
  service: string;
  key: string;
  bucketStartMs: number;
  /** Set on buckets the store rolled up (an hour); absent on the aggregator's own buckets. */
  bucketMs?: number;
  /**
   * Set on late data: what arrived for a bucket memory no longer (or never) held whole. The
   * store merges it into the bucket it holds instead of replacing that bucket.
   */
  merge?: true;
  data: unknown;
}

/** Merged statistics over a time window: what window detectors read. */
export interface WindowView {
  fromMs: number;
  toMs: number;
  /** Minutes of data the window really holds (never less than 1/6), for per-minute rates. */
  minutes: number;
  queries: QueryStats[];
  endpoints: EndpointStats[];
  patterns: PatternStats[];
  services: ServiceStats[];
  caches: CacheStats[];
  queues: QueueStats[];
  runtimes: RuntimeStats[];
  /** CPU profile summaries agents sent while their event loop stalled, oldest first (hot_path_cpu). */
  profiles: ReceivedProfile[];
  /** Each queue's buckets in time order, for trends across the window. */
  queueBuckets: Array<{
    service: string;
    key: string;
    buckets: Array<{ startMs: number; stats: QueueStats }>;
  }>;
}

/** One key's statistics in one bucket. */
interface Entry<T> {
  family: FamilyBuckets<T>;
  service: string;
  key: string;
  bucketStartMs: number;
  stats: T;
  /** Queued for the store: changed since it was last handed over. */
  dirty: boolean;
  /** A delta for a bucket memory does not hold whole: written as a merge, then dropped. */
  late: boolean;
  /** Listed in its family's `changedSinceView`. */
  changedSinceView: boolean;
}

/** One time bucket of one family: service → key → entry, so lookups build no composite key. */
interface Bucket<T> {
  readonly services: Map<string, Map<string, Entry<T>>>;
}

/** service → key → value. */
type ByKey<V> = Map<string, Map<string, V>>;

/**
 * The last view of a window, kept to answer the next one over the same buckets: each key's
 * merge over all but the newest bucket, and each key's answer (that merged with the newest).
 */
interface ViewCache<T> {
  starts: number[];
  older: ByKey<T>;
  combined: ByKey<T>;
}

class FamilyBuckets<T> {
  readonly buckets = new Map<number, Bucket<T>>();
  /**
   * Buckets starting before this are not held whole in memory (pruned, or older than what was
   * loaded at start-up): data for them is kept apart as a delta and merged into the stored bucket.
   */
  completeFromMs = Number.NEGATIVE_INFINITY;
  private readonly late = new Map<string, Entry<T>>();
  private view: ViewCache<T> | undefined;
  /**
   * Entries changed since the last view: the keys whose answer it must merge again. A list and a
   * flag on each entry rather than a Set: every record of a span asked the Set about its entry.
   */
  private changedSinceView: Array<Entry<T>> = [];
  /** The keys `keysOf` last returned, and of which bucket and service: a trace's records share both. */
  private lastKeys: Map<string, Entry<T>> | undefined;
  private lastKeysStartMs = Number.NaN;
  private lastKeysService = '';

  constructor(
    readonly family: Family<T>,
    private readonly dirty: Array<Entry<unknown>>,
  ) {}

  /**
   * The statistics of `key` in the bucket at `bucketStartMs`, counted as changed; undefined when
   * the bucket has none yet, which the caller then hands to `add`. Two calls rather than one
   * taking a factory: the factory closed over the operation, an allocation per record.
   */
  find(bucketStartMs: number, service: string, key: string): T | undefined {
    const entry =
      bucketStartMs < this.completeFromMs
        ? this.late.get(lateId(bucketStartMs, service, key))
        : this.keysOf(bucketStartMs, service).get(key);
    if (entry === undefined) return undefined;
    this.changed(entry);
    return entry.stats;
  }

  /** Keeps `stats` for a key `find` found nothing for, counted as changed; returns them. */
  add(bucketStartMs: number, service: string, key: string, stats: T): T {
    const late = bucketStartMs < this.completeFromMs;
    const entry = this.entry(bucketStartMs, service, key, stats, late);
    if (late) this.late.set(lateId(bucketStartMs, service, key), entry);
    else this.keysOf(bucketStartMs, service).set(key, entry);
    this.changed(entry);
    return stats;
  }

  load(record: BucketRecord): void {
    if (record.bucketStartMs < this.completeFromMs) return;
    const keys = this.keysOf(record.bucketStartMs, record.service);
    const stats = this.family.deserialize(record.data);
    let entry = keys.get(record.key);
    if (entry) this.family.merge(entry.stats, stats);
    else {
      entry = this.entry(record.bucketStartMs, record.service, record.key, stats, false);
      keys.set(record.key, entry);
    }
    this.changedForView(entry);
  }

  /**
   * Each key's statistics merged over the buckets starting in [fromMs, toMs). Read-only, and
   * valid until the next change: a key found in one bucket only is handed out as it is kept.
   * Asked again over the same buckets (detection every few seconds), only the keys changed
   * since are merged again; the others' answers are reused.
   */
  merged(fromMs: number, toMs: number): T[] {
    const starts = this.startsIn(fromMs, toMs);
    const cached = this.view;
    if (cached && sameNumbers(cached.starts, starts)) {
      for (const entry of this.changedSinceView) {
        if (!entry.late && starts.includes(entry.bucketStartMs)) this.remerge(cached, entry);
      }
    } else {
      this.view = this.fullView(starts);
    }
    this.clearChangedSinceView();
    const result: T[] = [];
    for (const keys of (this.view as ViewCache<T>).combined.values())
      for (const stats of keys.values()) result.push(stats);
    return result;
  }

  /** Each key's buckets in [fromMs, toMs), oldest first. */
  series(
    fromMs: number,
    toMs: number,
  ): Array<{ service: string; key: string; buckets: Array<{ startMs: number; stats: T }> }> {
    const byKey = new Map<
      string,
      { service: string; key: string; buckets: Array<{ startMs: number; stats: T }> }
    >();
    for (const start of this.startsIn(fromMs, toMs)) {
      for (const keys of (this.buckets.get(start) as Bucket<T>).services.values()) {
        for (const entry of keys.values()) {
          const id = `${entry.service}\u0000${entry.key}`;
          let series = byKey.get(id);
          if (!series) {
            series = { service: entry.service, key: entry.key, buckets: [] };
            byKey.set(id, series);
          }
          series.buckets.push({ startMs: start, stats: entry.stats });
        }
      }
    }
    return [...byKey.values()];
  }

  /** The record the store keeps for an entry; a late delta leaves memory once handed over. */
  recordOf(entry: Entry<T>): BucketRecord {
    const record: BucketRecord = {
      family: this.family.name,
      service: entry.service,
      key: entry.key,
      bucketStartMs: entry.bucketStartMs,
      data: this.family.serialize(entry.stats),
    };
    if (entry.late) {
      record.merge = true;
      this.late.delete(lateId(entry.bucketStartMs, entry.service, entry.key));
    }
    return record;
  }

  /** Drops buckets before `beforeMs`; data for them from now on is late. Queued changes stay queued. */
  prune(beforeMs: number): void {
    for (const start of this.buckets.keys()) {
      if (start >= beforeMs) continue;
      this.buckets.delete(start);
      this.lastKeys = undefined;
      // The next view covers other buckets: it starts afresh.
      this.view = undefined;
      this.clearChangedSinceView();
    }
    this.completeFromMs = Math.max(this.completeFromMs, beforeMs);
  }

  /** Queues a changed entry for the store and, unless it is a late delta, for the next view. */
  private changed(entry: Entry<T>): void {
    this.markDirty(entry);
    if (!entry.late) this.changedForView(entry);
  }

  private changedForView(entry: Entry<T>): void {
    if (this.view === undefined || entry.changedSinceView) return;
    entry.changedSinceView = true;
    this.changedSinceView.push(entry);
  }

  private clearChangedSinceView(): void {
    for (const entry of this.changedSinceView) entry.changedSinceView = false;
    this.changedSinceView = [];
  }

  /** The keys of `service` in the bucket at `startMs`. */
  private keysOf(startMs: number, service: string): Map<string, Entry<T>> {
    if (this.lastKeys !== undefined && startMs === this.lastKeysStartMs && service === this.lastKeysService) {
      return this.lastKeys;
    }
    let bucket = this.buckets.get(startMs);
    if (!bucket) {
      bucket = { services: new Map() };
      this.buckets.set(startMs, bucket);
    }
    let keys = bucket.services.get(service);
    if (!keys) {
      keys = new Map();
      bucket.services.set(service, keys);
    }
    this.lastKeys = keys;
    this.lastKeysStartMs = startMs;
    this.lastKeysService = service;
    return keys;
  }

  private entry(bucketStartMs: number, service: string, key: string, stats: T, late: boolean): Entry<T> {
    return { family: this, service, key, bucketStartMs, stats, dirty: false, late, changedSinceView: false };
  }

  private markDirty(entry: Entry<T>): void {
    if (entry.dirty) return;
    entry.dirty = true;
    this.dirty.push(entry as Entry<unknown>);
  }

  private startsIn(fromMs: number, toMs: number): number[] {
    const starts: number[] = [];
    for (const start of this.buckets.keys()) if (start >= fromMs && start < toMs) starts.push(start);
    return starts.sort((a, b) => a - b);
  }

  /**
   * Every key's merge over the buckets at `starts` (oldest first): over all but the newest, and
   * over all. A key only one older bucket holds keeps that bucket's stats as its older merge
   * (merges never change what they merge from): no copy for the long tail of keys seen once.
   */
  private fullView(starts: number[]): ViewCache<T> {
    const view: ViewCache<T> = { starts, older: new Map(), combined: new Map() };
    /** Older merges this view made itself, and so may merge into. */
    const copies = new Set<T>();
    const newest = starts[starts.length - 1];
    for (const start of starts) {
      for (const [service, keys] of (this.buckets.get(start) as Bucket<T>).services) {
        for (const [key, entry] of keys) {
          if (start !== newest) {
            const older = keysIn(view.older, service);
            let merged = older.get(key);
            if (merged === undefined) older.set(key, entry.stats);
            else {
              if (!copies.has(merged)) {
                merged = this.family.clone(merged);
                copies.add(merged);
                older.set(key, merged);
              }
              this.family.merge(merged, entry.stats);
            }
          } else {
            keysIn(view.combined, service).set(
              key,
              this.combine(view.older.get(service)?.get(key), entry.stats),
            );
          }
        }
      }
    }
    // Keys absent from the newest bucket answer with their older merge.
    for (const [service, keys] of view.older) {
      const combined = keysIn(view.combined, service);
      for (const [key, merged] of keys) if (!combined.has(key)) combined.set(key, merged);
    }
    return view;
  }

  /** Merges the key of `changed` again: over the older buckets if it is one of theirs, then with the newest. */
  private remerge(view: ViewCache<T>, changed: Entry<T>): void {
    const { service, key } = changed;
    const newest = view.starts[view.starts.length - 1] as number;
    let older = view.older.get(service)?.get(key);
    if (changed.bucketStartMs !== newest) {
      older = undefined;
      let copied = false;
      for (const start of view.starts) {
        const entry = start === newest ? undefined : this.buckets.get(start)?.services.get(service)?.get(key);
        if (!entry) continue;
        if (older === undefined) older = entry.stats;
        else {
          // Shared with its bucket until a second bucket has the key (as in fullView).
          if (!copied) older = this.family.clone(older);
          copied = true;
          this.family.merge(older, entry.stats);
        }
      }
      if (older) keysIn(view.older, service).set(key, older);
    }
    const newestStats = this.buckets.get(newest)?.services.get(service)?.get(key)?.stats;
    const answer = newestStats === undefined ? older : this.combine(older, newestStats);
    if (answer !== undefined) keysIn(view.combined, service).set(key, answer);
  }

  /** A key's answer: its newest entry as kept when nothing older has it, else a merged copy. */
  private combine(older: T | undefined, newest: T): T {
    if (older === undefined) return newest;
    const stats = this.family.clone(older);
    this.family.merge(stats, newest);
    return stats;
  }
}

function keysIn<V>(byKey: ByKey<V>, service: string): Map<string, V> {
  let keys = byKey.get(service);
  if (!keys) {
    keys = new Map();
    byKey.set(service, keys);
  }
  return keys;
}

function lateId(bucketStartMs: number, service: string, key: string): string {
  return `${bucketStartMs}\u0000${service}\u0000${key}`;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

function byStartTime(a: Operation, b: Operation): number {
  return a.startTimeMs - b.startTimeMs;
}

const CHILD_TIME_FIELDS = {
  db_query: 'dbMs',
  cache_command: 'cacheMs',
  http_client: 'httpMs',
} as const satisfies Partial<Record<Operation['type'], keyof EndpointStats>>;

export class Aggregator {
  private readonly options: AggregatorOptions;
  /** Entries changed since they were last handed to the store, oldest change first (all families). */
  private readonly dirty: Array<Entry<unknown>> = [];
  private readonly queries = new FamilyBuckets(queryFamily, this.dirty);
  private readonly endpoints = new FamilyBuckets(endpointFamily, this.dirty);
  private readonly patterns = new FamilyBuckets(patternFamily, this.dirty);
  private readonly services = new FamilyBuckets(serviceFamily, this.dirty);
  private readonly caches = new FamilyBuckets(cacheFamily, this.dirty);
  private readonly queues = new FamilyBuckets(queueFamily, this.dirty);
  private readonly runtimes = new FamilyBuckets(runtimeFamily, this.dirty);
  private readonly profiles = new RecentProfiles();
  private readonly all: ReadonlyArray<FamilyBuckets<unknown>> = [
    this.queries,
    this.endpoints,
    this.patterns,
    this.services,
    this.caches,
    this.queues,
    this.runtimes,
  ] as ReadonlyArray<FamilyBuckets<unknown>>;
  private firstDataMs = Number.POSITIVE_INFINITY;

  constructor(options: Partial<AggregatorOptions> = {}) {
    this.options = { ...defaultAggregatorOptions, ...options };
  }

  /** Folds one assembled trace, and the patterns detectors found in it, into the buckets. */
  record(trace: AssembledTrace, occurrences: Occurrence[], nowMs: number): void {
    const childTime = new Map<string, Record<'dbMs' | 'cacheMs' | 'httpMs' | 'queueMs', number>>();
    let latestMs = 0;
    for (const operation of trace.operations) {
      latestMs = Math.max(latestMs, operation.startTimeMs + operation.durationMs);
      const entry = trace.entryOf(operation);
      if (!entry || entry === operation) continue;
      const field =
        operation.type === 'queue_message' && operation.role === 'publish'
          ? 'queueMs'
          : CHILD_TIME_FIELDS[operation.type as keyof typeof CHILD_TIME_FIELDS];
      if (!field) continue;
      let times = childTime.get(entry.spanId);
      if (!times) {
        times = { dbMs: 0, cacheMs: 0, httpMs: 0, queueMs: 0 };
        childTime.set(entry.spanId, times);
      }
      times[field] += operation.durationMs;
    }

    let cacheCommands = false;
    for (const operation of trace.operations) {
      const bucket = this.bucketOf(operation.startTimeMs + operation.durationMs, nowMs);
      if (operation.type === 'db_query') this.recordQuery(operation, trace, bucket);
      else if (operation.type === 'http_server' && trace.entryOf(operation) === operation) {
        this.recordEndpoint(operation, childTime.get(operation.spanId), trace, bucket);
      } else if (operation.type === 'queue_message') {
        this.recordQueueMessage(operation, trace.traceId, bucket);
      } else if (operation.type === 'cache_command' && operation.keyPattern !== undefined) {
        cacheCommands = true;
      }
    }
    if (cacheCommands) this.recordCacheCommands(trace, nowMs);

    const occurrenceBucket = this.bucketOf(latestMs || nowMs, nowMs);
    for (const occurrence of occurrences) this.recordOccurrence(occurrence, occurrenceBucket);
  }

  /** Merged statistics for buckets starting in [fromMs, toMs). */
  view(fromMs: number, toMs: number): WindowView {
    const dataFrom = Math.max(fromMs, this.firstDataMs);
    return {
      fromMs,
      toMs,
      minutes: Math.max((toMs - dataFrom) / 60_000, 1 / 6),
      queries: this.queries.merged(fromMs, toMs),
      endpoints: this.endpoints.merged(fromMs, toMs),
      patterns: this.patterns.merged(fromMs, toMs),
      services: this.services.merged(fromMs, toMs),
      caches: this.caches.merged(fromMs, toMs),
      queues: this.queues.merged(fromMs, toMs),
      runtimes: this.runtimes.merged(fromMs, toMs),
      profiles: this.profiles.within(fromMs, toMs),
      queueBuckets: this.queues.series(fromMs, toMs),
    };
  }

  /**
   * Folds runtime samples into per-(service, instance) buckets. Event-loop delay is read
   * beyond the histogram's resolution; blocked time is estimated as the delay of the
   * histogram's readings times their number (interval ÷ (resolution + delay)), and at least
   * the longest stall; counted only for intervals with a stall, so the timer jitter of an
   * idle loop adds nothing.
   */
  recordRuntime(samples: readonly RuntimeSample[], nowMs: number): void {
    const resolution = this.options.eventLoopResolutionMs;
    for (const sample of samples) {
      const bucket = this.bucketOf(sample.timeMs, nowMs);
      this.profiles.add(sample, bucket);
      const stats =
        this.runtimes.find(bucket, sample.service, sample.instanceId) ??
        this.runtimes.add(bucket, sample.service, sample.instanceId, {
          service: sample.service,
          instanceId: sample.instanceId,
          serviceVersion: undefined,
          samples: 0,
          intervalMs: 0,
          delayP50: new QuantileSketch(),
          delayMax: new QuantileSketch(),
          maxDelayMs: 0,
          blockedMs: 0,
          gcCount: 0,
          gcPauseMs: 0,
          gcMaxPauseMs: 0,
          gcWorstMsPerSecond: 0,
          gcPauseMsByKind: emptyLabels(),
          heapUsedMaxBytes: 0,
          rssMaxBytes: 0,
          cpuMs: 0,
        });
      const lag = sample.eventLoopLag;
      const delay = (ms: number) => Math.max(0, ms - resolution);
      stats.samples += 1;
      stats.intervalMs += sample.intervalMs;
      stats.delayP50.add(delay(lag.p50Ms));
      stats.delayMax.add(delay(lag.maxMs));
      stats.maxDelayMs = Math.max(stats.maxDelayMs, delay(lag.maxMs));
      if (delay(lag.maxMs) >= STALL_MS) {
        const meanDelay = delay(lag.meanMs);
        // The loop was blocked at least as long as its longest stall.
        stats.blockedMs += Math.max(
          (sample.intervalMs * meanDelay) / (resolution + meanDelay),
          delay(lag.maxMs),
        );
      }
      stats.gcCount += sample.gc.count;
      stats.gcPauseMs += sample.gc.pauseMs;
      stats.gcMaxPauseMs = Math.max(stats.gcMaxPauseMs, sample.gc.maxPauseMs);
      if (sample.intervalMs > 0) {
        stats.gcWorstMsPerSecond = Math.max(
          stats.gcWorstMsPerSecond,
          (sample.gc.pauseMs * 1000) / sample.intervalMs,
        );
      }
      for (const [kind, { pauseMs }] of Object.entries(sample.gc.byKind)) {
        countLabel(stats.gcPauseMsByKind, kind, pauseMs);
      }
      stats.heapUsedMaxBytes = Math.max(stats.heapUsedMaxBytes, sample.memory.heapUsedBytes);
      stats.rssMaxBytes = Math.max(stats.rssMaxBytes, sample.memory.rssBytes);
      stats.cpuMs += sample.cpu.userMs + sample.cpu.systemMs;
      if (sample.serviceVersion) stats.serviceVersion = sample.serviceVersion;
    }
  }

  /**
   * Buckets changed since they were last taken, for the store: at most `limit`, those that
   * changed first, so a caller can bound the work of one call; the rest wait for the next.
   * Late data comes as records flagged `merge`.
   */
  takeDirty(limit = Number.POSITIVE_INFINITY): BucketRecord[] {
    const taken = this.dirty.splice(0, Math.min(limit, this.dirty.length));
    return taken.map((entry) => {
      entry.dirty = false;
      return entry.family.recordOf(entry);
    });
  }

  /** How many changed buckets wait for `takeDirty`. */
  get dirtyCount(): number {
    return this.dirty.length;
  }

  /**
   * Restores buckets read back from the store (collector restart). `completeFromMs` is where
   * that read started: buckets before it are not in memory, so data arriving for them is late
   * data, merged into what the store holds rather than replacing it.
   */
  load(records: Iterable<BucketRecord>, completeFromMs = Number.NEGATIVE_INFINITY): void {
    for (const family of this.all) family.completeFromMs = Math.max(family.completeFromMs, completeFromMs);
    const families = new Map(this.all.map((f) => [f.family.name, f]));
    for (const record of records) {
      families.get(record.family)?.load(record);
      this.firstDataMs = Math.min(this.firstDataMs, record.bucketStartMs);
    }
  }

  /** Drops in-memory buckets older than the memory horizon; changes not yet taken are kept for the store. */
  prune(nowMs: number): void {
    const before = nowMs - this.options.memoryMs;
    for (const family of this.all) family.prune(before);
    this.profiles.prune(before);
  }

  private bucketOf(timeMs: number, nowMs: number): number {
    const clamped = timeMs > nowMs || timeMs < nowMs - this.options.maxLatenessMs ? nowMs : timeMs;
    this.firstDataMs = Math.min(this.firstDataMs, clamped);
    return clamped - (clamped % this.options.bucketMs);
  }

  private recordQuery(
    operation: Extract<Operation, { type: 'db_query' }>,
    trace: AssembledTrace,
    bucket: number,
  ) {
    // Every field, in the order queryFamily copies them: one hidden class for all (see stats.ts).
    const stats =
      this.queries.find(bucket, operation.service, operation.fingerprintId) ??
      this.queries.add(bucket, operation.service, operation.fingerprintId, {
        count: 0,
        errors: 0,
        totalMs: 0,
        maxMs: 0,
        sketch: new QuantileSketch(),
        service: operation.service,
        system: operation.system,
        fingerprintId: operation.fingerprintId,
        fingerprint: operation.fingerprint,
        statementType: operation.statementType,
        tables: operation.tables,
        entries: emptyLabels(),
        exampleTraceId: trace.traceId,
        exampleDurationMs: 0,
        plan: undefined,
      });
    addLatency(stats, operation.durationMs, operation.error);
    const label = trace.labelOf(operation);
    if (label) countLabel(stats.entries, label);
    if (operation.durationMs > stats.exampleDurationMs) {
      stats.exampleDurationMs = operation.durationMs;
      stats.exampleTraceId = trace.traceId;
    }
    if (operation.plan) stats.plan = operation.plan;
    const service = this.serviceStats(operation.service, bucket);
    service.dbMs += operation.durationMs;
    service.dbQueries += 1;
  }

  private recordEndpoint(
    operation: Extract<Operation, { type: 'http_server' }>,
    childTime: Record<'dbMs' | 'cacheMs' | 'httpMs' | 'queueMs', number> | undefined,
    trace: AssembledTrace,
    bucket: number,
  ) {
    const entry = trace.labelOf(operation) ?? `${operation.method} ${operation.route}`;
    const traceId = trace.traceId;
    const stats =
      this.endpoints.find(bucket, operation.service, entry) ??
      this.endpoints.add(bucket, operation.service, entry, {
        count: 0,
        errors: 0,
        totalMs: 0,
        maxMs: 0,
        sketch: new QuantileSketch(),
        service: operation.service,
        entry,
        dbMs: 0,
        cacheMs: 0,
        httpMs: 0,
        queueMs: 0,
        exampleTraceId: traceId,
        exampleDurationMs: 0,
      });
    addLatency(stats, operation.durationMs, operation.error);
    if (childTime) {
      stats.dbMs += childTime.dbMs;
      stats.cacheMs += childTime.cacheMs;
      stats.httpMs += childTime.httpMs;
      stats.queueMs += childTime.queueMs;
    }
    if (operation.durationMs > stats.exampleDurationMs) {
      stats.exampleDurationMs = operation.durationMs;
      stats.exampleTraceId = traceId;
    }
    this.serviceStats(operation.service, bucket).requests += 1;
  }

  private recordOccurrence(occurrence: Occurrence, bucket: number) {
    const key = occurrenceKeys.join(occurrence.kind, occurrence.key);
    const stats =
      this.patterns.find(bucket, occurrence.service, key) ??
      this.patterns.add(bucket, occurrence.service, key, {
        kind: occurrence.kind,
        service: occurrence.service,
        key: occurrence.key,
        occurrences: 0,
        totalRepeats: 0,
        maxRepeats: 0,
        totalMs: 0,
        entries: emptyLabels(),
        exampleTraceId: occurrence.traceId,
        exampleRepeats: 0,
        evidence: occurrence.evidence,
      });
    stats.occurrences += 1;
    stats.totalRepeats += occurrence.repeats;
    stats.totalMs += occurrence.durationMs;
    stats.maxRepeats = Math.max(stats.maxRepeats, occurrence.repeats);
    if (occurrence.entry) countLabel(stats.entries, occurrence.entry);
    if (occurrence.repeats > stats.exampleRepeats) {
      stats.exampleRepeats = occurrence.repeats;
      stats.exampleTraceId = occurrence.traceId;
    }
  }

  private recordQueueMessage(operation: QueueMessageOperation, traceId: string, bucket: number) {
    const key = `${operation.system} ${operation.destination}`;
    const stats =
      this.queues.find(bucket, operation.service, key) ??
      this.queues.add(bucket, operation.service, key, {
        service: operation.service,
        system: operation.system,
        destination: operation.destination,
        published: 0,
        consumed: 0,
        consumeErrors: 0,
        lag: emptyLatency(),
        processing: emptyLatency(),
        exampleTraceId: traceId,
        exampleLagMs: 0,
      });
    if (operation.role === 'publish') {
      stats.published += 1;
      return;
    }
    stats.consumed += 1;
    if (operation.error) stats.consumeErrors += 1;
    addLatency(stats.processing, operation.durationMs, operation.error);
    if (operation.publishTimeMs === undefined) return;
    // Clocks of the publishing and consuming hosts may disagree: a negative wait is no wait.
    const lagMs = Math.max(0, operation.startTimeMs - operation.publishTimeMs);
    addLatency(stats.lag, lagMs, false);
    if (lagMs > stats.exampleLagMs) {
      stats.exampleLagMs = lagMs;
      stats.exampleTraceId = traceId;
    }
  }

  /**
   * Cache commands by key pattern, and what follows each miss in the same trace: the
   * first statement run after it, and whether a write of the same pattern refills it.
   */
  private recordCacheCommands(trace: AssembledTrace, nowMs: number) {
    // Commands and statements by start time; they mostly arrive in it, and then are not sorted
    // (a stable sort would keep them as they are). A loop rather than filter, sort and forEach:
    // this runs for every trace with a cache command.
    const operations: Operation[] = [];
    let inOrder = true;
    let lastStartMs = Number.NEGATIVE_INFINITY;
    for (const operation of trace.operations) {
      if (operation.type !== 'cache_command' && operation.type !== 'db_query') continue;
      if (!(operation.startTimeMs >= lastStartMs)) inOrder = false;
      lastStartMs = operation.startTimeMs;
      operations.push(operation);
    }
    if (!inOrder) operations.sort(byStartTime);
    for (let index = 0; index < operations.length; index++) {
      const operation = operations[index] as Operation;
      if (operation.type !== 'cache_command' || operation.keyPattern === undefined) continue;
      const bucket = this.bucketOf(operation.startTimeMs + operation.durationMs, nowMs);
      const stats = this.cacheStats(operation, operation.keyPattern, trace.traceId, bucket);
      stats.commandMs += operation.durationMs;
      if (operation.ttlSeconds !== undefined) countLabel(stats.ttlSeconds, String(operation.ttlSeconds));
      if (CACHE_WRITES.has(operation.command)) stats.writes += 1;
      const hits = operation.hit === undefined ? (operation.hits ?? 0) : operation.hit ? 1 : 0;
      const misses = operation.hit === undefined ? (operation.misses ?? 0) : operation.hit ? 0 : 1;
      if (hits + misses === 0) continue;
      stats.lookups += hits + misses;
      stats.hits += hits;
      stats.misses += misses;
      const label = trace.labelOf(operation);
      if (label) countLabel(stats.entries, label, hits + misses);
      if (misses === 0) continue;
      stats.exampleTraceId = trace.traceId;
      // Up to the refill, or to the next read of the same pattern (a later, separate lookup).
      let query: Operation | undefined;
      const followUpEnd = Math.min(operations.length, index + 1 + MISS_FOLLOW_UP_OPERATIONS);
      for (let at = index + 1; at < followUpEnd; at++) {
        const next = operations[at] as Operation;
        if (next.type === 'db_query') query ??= next;
        else if (next.type === 'cache_command' && next.keyPattern === operation.keyPattern) {
          if (CACHE_WRITES.has(next.command)) stats.refilledMisses += misses;
          if (CACHE_WRITES.has(next.command) || next.hit !== undefined || next.misses !== undefined) break;
        }
      }
      if (query?.type === 'db_query') {
        addMissQuery(stats.missQueries, query.fingerprintId, {
          system: query.system,
          fingerprint: query.fingerprint,
          tables: query.tables,
          count: misses,
          totalMs: query.durationMs,
        });
      }
    }
  }

  private cacheStats(operation: CacheCommandOperation, keyPattern: string, traceId: string, bucket: number) {
    const key = cacheKeys.join(operation.system, keyPattern);
    return (
      this.caches.find(bucket, operation.service, key) ??
      this.caches.add(bucket, operation.service, key, {
        service: operation.service,
        system: operation.system,
        keyPattern,
        lookups: 0,
        hits: 0,
        misses: 0,
        writes: 0,
        ttlSeconds: emptyLabels(),
        commandMs: 0,
        refilledMisses: 0,
        missQueries: emptyLabels<MissQuery>(),
        entries: emptyLabels(),
        exampleTraceId: traceId,
      })
    );
  }

  private serviceStats(service: string, bucket: number): ServiceStats {
    return (
      this.services.find(bucket, service, service) ??
      this.services.add(bucket, service, service, { service, requests: 0, dbMs: 0, dbQueries: 0 })
    );
  }
}
