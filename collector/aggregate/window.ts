/**
 * Time-bucketed aggregates of assembled traces. Recent buckets stay in memory so
 * detection reads them without I/O; changed buckets are handed to the store in
 * batches (`takeDirty`), and old ones are pruned from memory.
 */
import type { Operation } from '../../model/index.js';
import { type AssembledTrace, entryLabel } from '../assemble/trace.js';
import type { Occurrence } from '../detect/types.js';
import {
  addLatency,
  countLabel,
  type EndpointStats,
  emptyLatency,
  endpointFamily,
  type Family,
  type PatternStats,
  patternFamily,
  type QueryStats,
  queryFamily,
  type ServiceStats,
  serviceFamily,
} from './stats.js';

export interface AggregatorOptions {
  bucketMs: number;
  /** How long buckets stay in memory (the longest detection window). */
  memoryMs: number;
  /** Spans stamped further in the past than this count as arriving now (clock skew, replays). */
  maxLatenessMs: number;
}

export const defaultAggregatorOptions: AggregatorOptions = {
  bucketMs: 60_000,
  memoryMs: 60 * 60_000,
  maxLatenessMs: 60 * 60_000,
};

/** One stored bucket of one family, as the store persists it. */
export interface BucketRecord {
  family: string;
  service: string;
  key: string;
  bucketStartMs: number;
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
}

interface Entry<T> {
  service: string;
  key: string;
  stats: T;
}

class FamilyBuckets<T> {
  readonly buckets = new Map<number, Map<string, Entry<T>>>();
  readonly dirty = new Map<number, Set<string>>();

  constructor(readonly family: Family<T>) {}

  upsert(bucketStartMs: number, service: string, key: string, create: () => T): T {
    let bucket = this.buckets.get(bucketStartMs);
    if (!bucket) {
      bucket = new Map();
      this.buckets.set(bucketStartMs, bucket);
    }
    const id = `${service}\u0000${key}`;
    let entry = bucket.get(id);
    if (!entry) {
      entry = { service, key, stats: create() };
      bucket.set(id, entry);
    }
    let dirty = this.dirty.get(bucketStartMs);
    if (!dirty) {
      dirty = new Set();
      this.dirty.set(bucketStartMs, dirty);
    }
    dirty.add(id);
    return entry.stats;
  }

  load(record: BucketRecord): void {
    let bucket = this.buckets.get(record.bucketStartMs);
    if (!bucket) {
      bucket = new Map();
      this.buckets.set(record.bucketStartMs, bucket);
    }
    const stats = this.family.deserialize(record.data);
    const id = `${record.service}\u0000${record.key}`;
    const existing = bucket.get(id);
    if (existing) this.family.merge(existing.stats, stats);
    else bucket.set(id, { service: record.service, key: record.key, stats });
  }

  merged(fromMs: number, toMs: number): T[] {
    const merged = new Map<string, T>();
    for (const [start, bucket] of this.buckets) {
      if (start < fromMs || start >= toMs) continue;
      for (const [id, entry] of bucket) {
        const existing = merged.get(id);
        if (existing) this.family.merge(existing, entry.stats);
        else merged.set(id, this.family.clone(entry.stats));
      }
    }
    return [...merged.values()];
  }

  takeDirty(): BucketRecord[] {
    const records: BucketRecord[] = [];
    for (const [start, ids] of this.dirty) {
      const bucket = this.buckets.get(start);
      if (!bucket) continue;
      for (const id of ids) {
        const entry = bucket.get(id);
        if (!entry) continue;
        records.push({
          family: this.family.name,
          service: entry.service,
          key: entry.key,
          bucketStartMs: start,
          data: this.family.serialize(entry.stats),
        });
      }
    }
    this.dirty.clear();
    return records;
  }

  prune(beforeMs: number): void {
    for (const start of this.buckets.keys()) if (start < beforeMs) this.buckets.delete(start);
  }
}

const CHILD_TIME_FIELDS = {
  db_query: 'dbMs',
  cache_command: 'cacheMs',
  http_client: 'httpMs',
} as const satisfies Partial<Record<Operation['type'], keyof EndpointStats>>;

export class Aggregator {
  private readonly options: AggregatorOptions;
  private readonly queries = new FamilyBuckets(queryFamily);
  private readonly endpoints = new FamilyBuckets(endpointFamily);
  private readonly patterns = new FamilyBuckets(patternFamily);
  private readonly services = new FamilyBuckets(serviceFamily);
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

    for (const operation of trace.operations) {
      const bucket = this.bucketOf(operation.startTimeMs + operation.durationMs, nowMs);
      if (operation.type === 'db_query') this.recordQuery(operation, trace, bucket);
      else if (operation.type === 'http_server' && trace.entryOf(operation) === operation) {
        this.recordEndpoint(operation, childTime.get(operation.spanId), trace.traceId, bucket);
      }
    }

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
    };
  }

  /** Buckets changed since the last call, for the store. */
  takeDirty(): BucketRecord[] {
    return [this.queries, this.endpoints, this.patterns, this.services].flatMap((family) =>
      family.takeDirty(),
    );
  }

  /** Restores buckets read back from the store (collector restart). */
  load(records: Iterable<BucketRecord>): void {
    const families = new Map<string, FamilyBuckets<unknown>>(
      [this.queries, this.endpoints, this.patterns, this.services].map((f) => [
        f.family.name,
        f as FamilyBuckets<unknown>,
      ]),
    );
    for (const record of records) {
      families.get(record.family)?.load(record);
      this.firstDataMs = Math.min(this.firstDataMs, record.bucketStartMs);
    }
  }

  /** Drops in-memory buckets older than the memory horizon. */
  prune(nowMs: number): void {
    const before = nowMs - this.options.memoryMs;
    for (const family of [this.queries, this.endpoints, this.patterns, this.services]) family.prune(before);
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
    const stats = this.queries.upsert(bucket, operation.service, operation.fingerprintId, () => ({
      ...emptyLatency(),
      service: operation.service,
      system: operation.system,
      fingerprintId: operation.fingerprintId,
      fingerprint: operation.fingerprint,
      statementType: operation.statementType,
      tables: operation.tables,
      entries: {},
      exampleTraceId: trace.traceId,
      exampleDurationMs: 0,
    }));
    addLatency(stats, operation.durationMs, operation.error);
    const label = entryLabel(trace.entryOf(operation));
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
    traceId: string,
    bucket: number,
  ) {
    const entry = `${operation.method} ${operation.route}`;
    const stats = this.endpoints.upsert(bucket, operation.service, entry, () => ({
      ...emptyLatency(),
      service: operation.service,
      entry,
      dbMs: 0,
      cacheMs: 0,
      httpMs: 0,
      queueMs: 0,
      exampleTraceId: traceId,
      exampleDurationMs: 0,
    }));
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
    const stats = this.patterns.upsert(
      bucket,
      occurrence.service,
      `${occurrence.kind}:${occurrence.key}`,
      () => ({
        kind: occurrence.kind,
        service: occurrence.service,
        key: occurrence.key,
        occurrences: 0,
        totalRepeats: 0,
        maxRepeats: 0,
        totalMs: 0,
        entries: {},
        exampleTraceId: occurrence.traceId,
        exampleRepeats: 0,
        evidence: occurrence.evidence,
      }),
    );
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

  private serviceStats(service: string, bucket: number): ServiceStats {
    return this.services.upsert(bucket, service, service, () => ({
      service,
      requests: 0,
      dbMs: 0,
      dbQueries: 0,
    }));
  }
}
