/**
 * The families' copies, written out field by field: a clone and a store round trip keep every
 * field, and a clone merged into leaves the stats it was copied from as they were.
 */
import { describe, expect, it } from 'vitest';
import { QuantileSketch } from '../../../collector/aggregate/sketch.js';
import {
  type CacheStats,
  cacheFamily,
  type EndpointStats,
  endpointFamily,
  type Family,
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
} from '../../../collector/aggregate/stats.js';

function sketchOf(...values: number[]): QuantileSketch {
  const sketch = new QuantileSketch();
  for (const value of values) sketch.add(value);
  return sketch;
}

function latency(...values: number[]) {
  return {
    count: values.length,
    errors: 1,
    totalMs: values.reduce((a, b) => a + b, 0),
    maxMs: Math.max(...values),
    sketch: sketchOf(...values),
  };
}

/** Stats of every family with every field set, and a change to merge into a copy. */
const samples: Array<{ family: Family<unknown>; stats: () => unknown }> = [
  {
    family: queryFamily as Family<unknown>,
    stats: (): QueryStats => ({
      ...latency(3, 40),
      service: 'shop',
      system: 'postgresql',
      fingerprintId: 'f1',
      fingerprint: 'select * from orders where id = ?',
      statementType: 'select',
      tables: ['orders'],
      entries: { 'GET /orders': 2 },
      exampleTraceId: 't1',
      exampleDurationMs: 40,
      plan: {
        system: 'postgresql',
        fullScanTables: ['orders'],
        filterColumns: [{ table: 'orders', column: 'id', comparison: 'equality' }],
        sortWithoutIndex: false,
        sortColumns: [],
        indexesUsed: [],
      },
    }),
  },
  {
    family: endpointFamily as Family<unknown>,
    stats: (): EndpointStats => ({
      ...latency(50),
      service: 'shop',
      entry: 'GET /orders',
      dbMs: 30,
      cacheMs: 2,
      httpMs: 5,
      queueMs: 1,
      exampleTraceId: 't1',
      exampleDurationMs: 50,
    }),
  },
  {
    family: patternFamily as Family<unknown>,
    stats: (): PatternStats => ({
      kind: 'n_plus_one',
      service: 'shop',
      key: 'f1',
      occurrences: 2,
      totalRepeats: 12,
      maxRepeats: 7,
      totalMs: 30,
      entries: { 'GET /orders': 2 },
      exampleTraceId: 't1',
      exampleRepeats: 7,
      evidence: { fingerprint: 'select 1' },
    }),
  },
  {
    family: serviceFamily as Family<unknown>,
    stats: (): ServiceStats => ({ service: 'shop', requests: 3, dbMs: 12, dbQueries: 4 }),
  },
  {
    family: cacheFamily as Family<unknown>,
    stats: (): CacheStats => ({
      service: 'shop',
      system: 'redis',
      keyPattern: 'user:{id}',
      lookups: 4,
      hits: 1,
      misses: 3,
      writes: 2,
      ttlSeconds: { '60': 2 },
      commandMs: 3,
      refilledMisses: 2,
      missQueries: {
        f1: { system: 'postgresql', fingerprint: 'select 1', tables: ['users'], count: 3, totalMs: 9 },
      },
      entries: { 'GET /users/:id': 4 },
      exampleTraceId: 't1',
    }),
  },
  {
    family: queueFamily as Family<unknown>,
    stats: (): QueueStats => ({
      service: 'shop',
      system: 'rabbitmq',
      destination: 'orders',
      published: 3,
      consumed: 2,
      consumeErrors: 1,
      lag: latency(100, 200),
      processing: latency(5, 8),
      exampleTraceId: 't1',
      exampleLagMs: 200,
    }),
  },
  {
    family: runtimeFamily as Family<unknown>,
    stats: (): RuntimeStats => ({
      service: 'shop',
      instanceId: 'web-1:42',
      serviceVersion: '1.2.0',
      samples: 2,
      intervalMs: 20_000,
      delayP50: sketchOf(1, 2),
      delayMax: sketchOf(30, 60),
      maxDelayMs: 60,
      blockedMs: 90,
      gcCount: 4,
      gcPauseMs: 12,
      gcMaxPauseMs: 6,
      gcWorstMsPerSecond: 0.6,
      gcPauseMsByKind: { major: 8, minor: 4 },
      heapUsedMaxBytes: 1e8,
      rssMaxBytes: 2e8,
      cpuMs: 900,
    }),
  },
];

describe.each(samples)('$family.name family', ({ family, stats }) => {
  it('clones every field', () => {
    expect(family.clone(stats())).toEqual(stats());
  });

  it('reads back every field it wrote for the store', () => {
    const stored = JSON.parse(JSON.stringify(family.serialize(stats())));
    expect(family.deserialize(stored)).toEqual(stats());
  });

  it('leaves the original as it was when a clone is merged into', () => {
    const original = stats();
    const copy = family.clone(original);
    family.merge(copy, stats());
    expect(copy).not.toEqual(stats());
    expect(original).toEqual(stats());
  });
});
