/**
 * The store with its writer on a worker thread (the built `writer-thread.js`: run
 * `node scripts/build.mjs` first): what it was asked to write is committed by `flushed()`,
 * kept by `close()`, survives a SIGKILL once committed, late data is merged there, the writer
 * collects its garbage when asked, after the writes before, and a writer that cannot start
 * leaves writes on the calling thread rather than losing them.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { QuantileSketch } from '../../../collector/aggregate/sketch.js';
import { queryFamily } from '../../../collector/aggregate/stats.js';
import type { BucketRecord } from '../../../collector/aggregate/window.js';
import { SqliteStore } from '../../../collector/store/sqlite-store.js';
import { ThreadedStore } from '../../../collector/store/threaded-store.js';
import type { FindingUpdate } from '../../../collector/store/types.js';

const T0 = Date.parse('2026-11-20T08:00:00Z');
const ROOT = join(import.meta.dirname, '..', '..', '..');
const workDir = mkdtempSync(join(tmpdir(), 'chokepoint-threaded-'));
let files = 0;
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function dbPath(): string {
  files += 1;
  return join(workDir, `store-${files}.db`);
}

function queryBucket(key: string, startMs: number, durations: number[], merge = false): BucketRecord {
  const sketch = new QuantileSketch();
  for (const ms of durations) sketch.add(ms);
  const record: BucketRecord = {
    family: 'query',
    service: 'shop',
    key,
    bucketStartMs: startMs,
    data: queryFamily.serialize({
      count: durations.length,
      errors: 0,
      totalMs: durations.reduce((sum, ms) => sum + ms, 0),
      maxMs: Math.max(...durations),
      sketch,
      service: 'shop',
      system: 'postgresql',
      fingerprintId: key,
      fingerprint: 'select * from orders where id = ?',
      statementType: 'select',
      tables: ['orders'],
      entries: { 'GET /orders': durations.length },
      exampleTraceId: 'trace-1',
      exampleDurationMs: Math.max(...durations),
    }),
  };
  if (merge) record.merge = true;
  return record;
}

const finding: FindingUpdate = {
  kind: 'slow_query',
  service: 'shop',
  key: 'q1',
  title: 'Slow SELECT on orders',
  severity: 'high',
  impact: 120,
  evidence: { exampleTraceId: 'trace-1' },
  recommendation: { summary: 'Add an index', detail: 'On orders (email).' },
};

function counts(store: { readBuckets: SqliteStore['readBuckets'] }): Record<string, number> {
  return Object.fromEntries(
    store.readBuckets({ fromMs: 0 }).map((record) => [record.key, (record.data as { count: number }).count]),
  );
}

describe('ThreadedStore', () => {
  it('has committed every write by flushed(), readable on the calling thread, and keeps them after close', async () => {
    const path = dbPath();
    const errors: string[] = [];
    const store = new ThreadedStore(path, { onError: (message) => errors.push(message) });
    store.writeBuckets([queryBucket('q1', T0, [5, 7]), queryBucket('q2', T0, [3])]);
    store.writeBuckets([queryBucket('q1', T0, [5, 7, 9])]);
    store.upsertFindings([finding], T0);
    store.saveExampleTraces([{ traceId: 'trace-1', operations: [] }], T0);
    store.updateLifecycle(T0);
    expect(store.queuedWrites).toBeGreaterThan(0);
    await store.flushed();
    expect(store.queuedWrites).toBe(0);
    expect(counts(store)).toEqual({ q1: 3, q2: 1 });
    expect(store.listFindings().map((f) => f.key)).toEqual(['q1']);
    expect(store.hasExampleTrace('trace-1')).toBe(true);
    expect(store.hasExampleTrace('trace-2')).toBe(false);

    store.writeBuckets([queryBucket('q3', T0, [4])]);
    await store.close();
    await store.close();
    const reopened = new SqliteStore(path);
    expect(counts(reopened)).toEqual({ q1: 3, q2: 1, q3: 1 });
    reopened.close();
    expect(errors).toEqual([]);
  });

  it('merges late data into the stored bucket on the writer thread', async () => {
    const store = new ThreadedStore(dbPath());
    store.writeBuckets([queryBucket('q1', T0, [5, 7])]);
    store.writeBuckets([queryBucket('q1', T0, [100], true), queryBucket('q1', T0, [1, 2], true)]);
    // Late data for a bucket the store does not hold yet is stored as it is.
    store.writeBuckets([queryBucket('q2', T0, [3], true)]);
    await store.flushed();
    expect(counts(store)).toEqual({ q1: 5, q2: 1 });
    const [q1] = store.readBuckets({ fromMs: 0, key: 'q1' });
    expect(q1?.data).toMatchObject({ maxMs: 100, totalMs: 115, entries: { 'GET /orders': 5 } });
    await store.close();
  });

  it('keeps what it committed when its process is killed mid-write', async () => {
    const path = dbPath();
    const script = `
      const { ThreadedStore } = require('./dist/collector/store/threaded-store.js');
      const { queryFamily } = require('./dist/collector/aggregate/stats.js');
      const { QuantileSketch } = require('./dist/collector/aggregate/sketch.js');
      const store = new ThreadedStore(${JSON.stringify(path)});
      const bucket = (key) => ({ family: 'query', service: 'shop', key, bucketStartMs: ${T0},
        data: queryFamily.serialize({ count: 1, errors: 0, totalMs: 1, maxMs: 1, sketch: new QuantileSketch(),
          service: 'shop', system: 'postgresql', fingerprintId: key, fingerprint: 'select ?', statementType: 'select',
          tables: [], entries: {}, exampleTraceId: 't', exampleDurationMs: 1 }) });
      (async () => {
        for (let i = 0; i < 100; i++) store.writeBuckets([bucket('committed-' + i)]);
        await store.flushed();
        console.log('committed');
        // Then keep the writer busy until killed.
        for (let i = 0; ; i++) {
          store.writeBuckets(Array.from({ length: 500 }, (_, j) => bucket('later-' + i + '-' + j)));
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
    `;
    const child = spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_, signal) => resolve(signal)),
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('committed')) resolve();
      });
      exited.then(() => reject(new Error(`the writer process exited early: ${stderr}`)));
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const db = new Database(path, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const reopened = new SqliteStore(path);
    const keys = new Set(Object.keys(counts(reopened)));
    reopened.close();
    for (let i = 0; i < 100; i++) expect(keys.has(`committed-${i}`)).toBe(true);
  });

  it('writes on the calling thread, and says so, when its writer thread cannot start', async () => {
    const errors: string[] = [];
    const store = new ThreadedStore(dbPath(), {
      onError: (message) => errors.push(message),
      writerScript: join(workDir, 'no-such-writer.js'),
    });
    store.writeBuckets([queryBucket('q1', T0, [5])]);
    store.upsertFindings([finding], T0);
    await store.flushed();
    expect(counts(store)).toEqual({ q1: 1 });
    expect(store.listFindings()).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/store writer thread .*writing on the main thread/);
    await store.close();
  });

  it('has the writer thread run a full collection when asked, after the writes queued before', async () => {
    // The writer's script behind a watcher that notes each forced full collection in a file.
    const noted = join(workDir, 'forced-collections.txt');
    const watched = join(workDir, 'watched-writer.js');
    writeFileSync(
      watched,
      `const { appendFileSync } = require('node:fs');
      const { PerformanceObserver, constants } = require('node:perf_hooks');
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          const { kind, flags } = entry.detail;
          if (kind === constants.NODE_PERFORMANCE_GC_MAJOR && flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED)
            appendFileSync(${JSON.stringify(noted)}, 'forced\\n');
        }
      }).observe({ entryTypes: ['gc'] });
      // Collections are told to observers on a later turn of the thread's loop: keep it turning.
      setInterval(() => {}, 20).unref();
      require(${JSON.stringify(join(ROOT, 'dist', 'collector', 'store', 'writer-thread.js'))});`,
    );
    const errors: string[] = [];
    const store = new ThreadedStore(dbPath(), {
      onError: (message) => errors.push(message),
      writerScript: watched,
    });
    store.writeBuckets([queryBucket('q1', T0, [5, 7])]);
    await store.flushed();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(existsSync(noted)).toBe(false);

    store.writeBuckets([queryBucket('q2', T0, [3])]);
    store.releaseMemory();
    await store.flushed();
    expect(counts(store)).toEqual({ q1: 2, q2: 1 });
    for (let waited = 0; waited < 2_000 && !existsSync(noted); waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // One forced collection per round (see release-memory.ts), and none before it was asked for.
    expect(readFileSync(noted, 'utf8')).toMatch(/^(forced\n)+$/);
    await store.close();
    expect(errors).toEqual([]);
  });
});
