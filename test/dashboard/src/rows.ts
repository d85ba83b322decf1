/** Rows as the collector's list routes serve them, with only the fields a test names changed. */
import type {
  CacheRow,
  EndpointRow,
  QueryRow,
  QueueRow,
  RuntimeRow,
} from '../../../dashboard/src/api-types.js';

export function endpointRow(fields: Partial<EndpointRow> & { route: string }): EndpointRow {
  return {
    service: 'shop',
    count: 60,
    errors: 0,
    requestsPerMin: 6,
    totalMs: 6_000,
    msPerMin: 600,
    p50Ms: 80,
    p95Ms: 150,
    p99Ms: 200,
    maxMs: 210,
    breakdownMs: { sql: 50, cache: 0, http: 0, queue: 0, ownCode: 50 },
    exampleTraceId: 'a'.repeat(32),
    ...fields,
  };
}

export function queryRow(fields: Partial<QueryRow> & { fingerprint: string }): QueryRow {
  return {
    service: 'shop',
    fingerprintId: `fp-${fields.fingerprint.length}`,
    system: 'postgresql',
    statementType: 'select',
    tables: [],
    count: 10,
    errors: 0,
    callsPerMin: 1,
    totalMs: 100,
    msPerMin: 10,
    p50Ms: 8,
    p95Ms: 12,
    p99Ms: 15,
    maxMs: 16,
    routes: [],
    exampleTraceId: 'b'.repeat(32),
    ...fields,
  };
}

export function cacheRow(fields: Partial<CacheRow> & { keyPattern: string }): CacheRow {
  return {
    service: 'shop',
    system: 'redis',
    lookups: 100,
    lookupsPerMin: 10,
    hits: 50,
    misses: 50,
    hitRatio: 0.5,
    writes: 50,
    refilledMisses: 50,
    ttlsSeconds: [],
    commandMs: 50,
    routes: [],
    ...fields,
  };
}

export function queueRow(fields: Partial<QueueRow> & { destination: string }): QueueRow {
  return {
    service: 'worker',
    system: 'rabbitmq',
    published: 0,
    publishedPerMin: 0,
    consumed: 10,
    consumedPerMin: 1,
    consumeErrors: 0,
    lagP50Ms: 10,
    lagP95Ms: 20,
    lagMaxMs: 25,
    processingMeanMs: 5,
    processingP95Ms: 8,
    ...fields,
  };
}

export function runtimeRow(fields: Partial<RuntimeRow> & { instanceId: string }): RuntimeRow {
  return {
    service: 'shop',
    serviceVersion: null,
    samples: 6,
    medianDelayMs: 0.5,
    maxDelayMs: 3,
    blockedMsPerMin: 0,
    gcPauseMsPerMin: 20,
    gcWorstMsPerSecond: 4,
    gcMaxPauseMs: 3,
    heapUsedMaxMb: 60,
    rssMaxMb: 180,
    cpuMsPerMin: 2_000,
    ...fields,
  };
}
