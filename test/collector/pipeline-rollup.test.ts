/**
 * The pipeline over simulated hours: minute buckets roll up into hourly ones on its own
 * runs, the hourly data still answers the API, and a store that fails to roll up is
 * reported once without stopping detection. Late data is merged into the minute the store
 * holds, never written over it, and a run hands the store a bounded number of buckets. A
 * per-trace detector that throws is reported once; the others' occurrences still go on.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Detector, Occurrence } from '../../collector/detect/types.js';
import { Pipeline } from '../../collector/pipeline.js';
import { HOUR_MS, SqliteStore } from '../../collector/store/sqlite-store.js';
import type { MergeBuckets } from '../../collector/store/types.js';
import { SpanKind, type SpanRecord, StatusCode } from '../../model/index.js';

const MINUTE = 60_000;
const START = Date.parse('2026-11-20T08:00:00Z');
const open: SqliteStore[] = [];
afterEach(() => {
  for (const store of open.splice(0)) store.close();
});

/** One request running one slow statement (or `statement`), ending at `endMs`. */
function slowRequest(
  endMs: number,
  index: number,
  statement = 'SELECT * FROM orders WHERE email = $1',
): SpanRecord[] {
  const base = {
    traceId: index.toString(16).padStart(32, '0'),
    statusCode: StatusCode.UNSET,
    statusMessage: '',
    events: [],
    links: [],
    resource: { serviceName: 'shop', attributes: {} },
    scopeName: 'test',
    scopeVersion: '0',
  };
  const rootId = `${index.toString(16).padStart(15, '0')}a`;
  return [
    {
      ...base,
      spanId: rootId,
      parentSpanId: '',
      name: 'GET /orders',
      kind: SpanKind.SERVER,
      startTimeMs: endMs - 300,
      endTimeMs: endMs,
      attributes: { 'http.request.method': 'GET', 'http.route': '/orders' },
    },
    {
      ...base,
      spanId: `${index.toString(16).padStart(15, '0')}b`,
      parentSpanId: rootId,
      name: 'SELECT',
      kind: SpanKind.CLIENT,
      startTimeMs: endMs - 290,
      endTimeMs: endMs - 10,
      attributes: {
        'db.system.name': 'postgresql',
        'db.query.text': statement,
      },
    },
  ];
}

function newStore(): SqliteStore {
  const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'chokepoint-pipeline-')), 'p.db'));
  open.push(store);
  return store;
}

/** Three hours of one request a minute, with a pipeline run every minute. */
function runHours(store: SqliteStore, onError: (message: string) => void = () => {}) {
  let now = START;
  const pipeline = new Pipeline(store, { rollupAfterMs: 2 * HOUR_MS, onError }, () => now);
  for (let minute = 0; minute < 180; minute++) {
    now = START + minute * MINUTE + 30_000;
    pipeline.ingest(slowRequest(now - 1_000, minute));
    pipeline.flush();
  }
  return { now, pipeline };
}

describe('pipeline roll-ups', () => {
  it('rolls minutes older than the roll-up age into hours as it runs, losing no count', () => {
    const store = newStore();
    const { now } = runHours(store);
    const records = store.readBuckets({ family: 'query', fromMs: 0 });
    const hourly = records.filter((record) => record.bucketMs === HOUR_MS);
    const minutes = records.filter((record) => record.bucketMs === undefined);
    expect(hourly.map((record) => record.bucketStartMs)).toEqual([START]);
    expect(minutes[0]?.bucketStartMs).toBeGreaterThanOrEqual(now - 2 * HOUR_MS - MINUTE);
    const count = records.reduce((sum, record) => sum + (record.data as { count: number }).count, 0);
    expect(count).toBe(180);
    expect(store.listFindings({ kind: 'slow_query' })).toHaveLength(1);
  });

  it('reports a store that fails to roll up once, and keeps detecting', () => {
    class FailingStore extends SqliteStore {
      failures = 0;
      override rollUpBuckets(beforeMs: number, merge: MergeBuckets, budgetMs?: number): number {
        if (this.failures < 100) {
          this.failures += 1;
          throw new Error('database or disk is full');
        }
        return super.rollUpBuckets(beforeMs, merge, budgetMs);
      }
    }
    const store = new FailingStore(join(mkdtempSync(join(tmpdir(), 'chokepoint-pipeline-')), 'f.db'));
    open.push(store);
    const errors: string[] = [];
    runHours(store, (message) => errors.push(message));
    expect(errors).toEqual(['roll-up failed: database or disk is full']);
    expect(store.listFindings({ kind: 'slow_query' })).toHaveLength(1);
    expect(
      store.readBuckets({ family: 'query', fromMs: 0 }).some((record) => record.bucketMs === HOUR_MS),
    ).toBe(true);
  });
});

/** The stored executions of the query bucket starting at `startMs`. */
function storedCount(store: SqliteStore, startMs: number): number | undefined {
  const [record] = store.readBuckets({ family: 'query', fromMs: startMs, toMs: startMs + 1 });
  return (record?.data as { count: number } | undefined)?.count;
}

describe('late data', () => {
  const options = { windowMs: 15 * MINUTE, aggregator: { maxLatenessMs: 60 * MINUTE } };

  it('is merged into the stored minute once memory no longer holds it, not written over it', () => {
    const store = newStore();
    let now = START + 30_000;
    const pipeline = new Pipeline(store, options, () => now);
    pipeline.ingest(slowRequest(START + 10_000, 1));
    pipeline.flush();
    expect(storedCount(store, START)).toBe(1);

    now = START + 20 * MINUTE;
    pipeline.flush(); // prunes the first minute from memory
    pipeline.ingest(slowRequest(START + 20_000, 2));
    pipeline.flush();
    pipeline.ingest(slowRequest(START + 40_000, 3));
    pipeline.flush();
    expect(storedCount(store, START)).toBe(3);
  });

  it('is merged into minutes stored before a restart that were not loaded back', () => {
    const store = newStore();
    let now = START + 30_000;
    const first = new Pipeline(store, options, () => now);
    first.ingest(slowRequest(START + 10_000, 1));
    first.flush();

    now = START + 30 * MINUTE;
    const second = new Pipeline(store, options, () => now);
    second.ingest(slowRequest(START + 20_000, 2));
    second.flush();
    expect(storedCount(store, START)).toBe(2);
  });
});

describe('store work per run', () => {
  class CountingStore extends SqliteStore {
    readonly batches: number[] = [];
    override writeBuckets(...args: Parameters<SqliteStore['writeBuckets']>): void {
      if (args[0].length > 0) this.batches.push(args[0].length);
      super.writeBuckets(...args);
    }
  }

  it('hands the store at most maxBucketWritesPerTick buckets per run, and all of them by flush', () => {
    const store = new CountingStore(join(mkdtempSync(join(tmpdir(), 'chokepoint-pipeline-')), 'c.db'));
    open.push(store);
    const now = START + 30_000;
    const pipeline = new Pipeline(store, { maxBucketWritesPerTick: 3, assembler: { graceMs: 0 } }, () => now);
    for (let i = 0; i < 10; i++) pipeline.ingest(slowRequest(now - 1_000, i, `SELECT * FROM orders_${i}`));
    pipeline.tick();
    pipeline.tick();
    expect(store.batches).toEqual([3, 3]);
    pipeline.flush();
    // The rest in one batch: every bucket (ten statements, the endpoint, the service, …) written once.
    expect(store.batches).toEqual([3, 3, store.readBuckets({ fromMs: 0 }).length - 6]);
    expect(store.readBuckets({ family: 'query', fromMs: 0 })).toHaveLength(10);
  });
});

describe('per-trace detectors', () => {
  it('reports a detector that throws once, and still hands on what the others found', () => {
    const failing: Detector = {
      kind: 'n_plus_one',
      explain: () => ({ rule: '', impact: '' }),
      inspectTrace: () => {
        throw new Error('broken rule');
      },
      detect: () => [],
    };
    const counting: Detector = {
      kind: 'slow_query',
      explain: () => ({ rule: '', impact: '' }),
      inspectTrace: (trace) => [
        {
          kind: 'slow_query',
          service: 'shop',
          key: trace.traceId,
          traceId: trace.traceId,
          repeats: trace.operations.length,
          durationMs: 0,
          evidence: {},
        },
      ],
      detect: () => [],
    };
    const errors: string[] = [];
    const seen: Occurrence[][] = [];
    const now = START + 30_000;
    const pipeline = new Pipeline(
      newStore(),
      {
        detectors: [failing, counting],
        onError: (message) => errors.push(message.split('\n')[0] ?? ''),
        observers: [{ onTrace: (_trace, occurrences) => seen.push([...occurrences]) }],
      },
      () => now,
    );
    for (let i = 0; i < 3; i++) pipeline.ingest(slowRequest(now - 1_000, i));
    pipeline.flush();
    expect(errors).toEqual(['detector n_plus_one failed: Error: broken rule']);
    expect(seen.map((occurrences) => occurrences.map(({ kind, repeats }) => [kind, repeats]))).toEqual([
      [['slow_query', 2]],
      [['slow_query', 2]],
      [['slow_query', 2]],
    ]);
  });
});
