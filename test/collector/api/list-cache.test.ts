/**
 * The list routes' answers kept for as long as they were costly: a poll inside that time
 * reads no bucket, gets the same bytes (304 to its tag), and a later one, or another range,
 * limit or service, is merged from the store again. A small store is read on every poll.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Aggregator } from '../../../collector/aggregate/window.js';
import { createApiApp } from '../../../collector/api/app.js';
import { listBodies, listFreshMs } from '../../../collector/api/list-cache.js';
import { createCollectorMetrics } from '../../../collector/api/metrics.js';
import { TraceAssembler } from '../../../collector/assemble/trace-assembler.js';
import { SqliteStore } from '../../../collector/store/sqlite-store.js';
import type { Operation } from '../../../model/index.js';
import { FIXTURE_NOW } from '../../support/detect-harness.js';
import { unindexedLookup } from '../detect/fixtures/queries.js';

/** The real store, counting bucket reads. */
class CountingStore extends SqliteStore {
  reads = 0;

  override readBuckets(query: Parameters<SqliteStore['readBuckets']>[0]) {
    this.reads += 1;
    return super.readBuckets(query);
  }
}

let store: CountingStore;
let aggregator: Aggregator;
let nowMs: number;

/** What the pipeline does with traffic: aggregate it, then write the buckets it changed. */
function ingest(operations: Operation[], atMs: number) {
  const assembler = new TraceAssembler();
  assembler.add(operations, atMs);
  for (const trace of assembler.drainAll()) aggregator.record(trace, [], atMs);
  store.writeBuckets(aggregator.takeDirty());
}

function app(listFresh?: number) {
  return createApiApp({
    store,
    metrics: createCollectorMetrics(store, () => 0),
    dashboardDir: join(tmpdir(), 'no-dashboard'),
    seriesMs: 60 * 60_000,
    clock: () => nowMs,
    ...(listFresh === undefined ? {} : { listFreshMs: listFresh }),
  });
}

async function callsOfFirstQuery(response: Response): Promise<number> {
  const body = (await response.json()) as { queries: Array<{ count: number }> };
  return body.queries[0]?.count ?? 0;
}

beforeEach(() => {
  store = new CountingStore(join(mkdtempSync(join(tmpdir(), 'chokepoint-list-cache-')), 'lists.db'));
  aggregator = new Aggregator();
  nowMs = FIXTURE_NOW;
  ingest(unindexedLookup(), FIXTURE_NOW);
});

afterEach(() => store.close());

describe('list routes between merges', () => {
  it('answers a poll inside the fresh time from what it kept, and merges anew after it', async () => {
    const api = app(30_000);
    const first = await callsOfFirstQuery(await api.request('/api/queries?since=1h'));
    expect(first).toBeGreaterThan(0);
    expect(store.reads).toBe(1);

    // Traffic since: the kept answer stands for the 30 s it is kept.
    ingest(
      unindexedLookup().map((o) => ({ ...o, traceId: `again-${o.traceId}` })),
      FIXTURE_NOW,
    );
    nowMs += 29_000;
    expect(await callsOfFirstQuery(await api.request('/api/queries?since=1h'))).toBe(first);
    expect(store.reads).toBe(1);

    nowMs += 1_000;
    expect(await callsOfFirstQuery(await api.request('/api/queries?since=1h'))).toBe(2 * first);
    expect(store.reads).toBe(2);
  });

  it('reads a small store again on the next poll: an answer is kept 20× what it cost', async () => {
    const api = app();
    const first = await callsOfFirstQuery(await api.request('/api/queries?since=1h'));
    ingest(
      unindexedLookup().map((o) => ({ ...o, traceId: `again-${o.traceId}` })),
      FIXTURE_NOW,
    );
    nowMs += 1_000;
    expect(await callsOfFirstQuery(await api.request('/api/queries?since=1h'))).toBe(2 * first);
    expect(store.reads).toBe(2);
  });

  it('keeps one answer per route, range, service and limit', async () => {
    const api = app(30_000);
    for (const path of [
      '/api/queries?since=1h',
      '/api/queries?since=1h&limit=100',
      '/api/queries?since=15m',
      '/api/queries?since=1h&limit=5',
      '/api/queries?since=1h&service=shop',
      '/api/endpoints?since=1h',
    ]) {
      expect((await api.request(path)).status).toBe(200);
    }
    // The default limit is 100: the second is the first one's answer.
    expect(store.reads).toBe(5);
  });

  it('answers 304 to the kept answer’s tag, and a new tag once merged anew', async () => {
    const api = app(15_000);
    const first = await api.request('/api/queries?since=15m', { headers: { 'accept-encoding': 'gzip' } });
    expect(first.headers.get('content-encoding')).toBe('gzip');
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^W\/".+"$/);
    const again = await api.request('/api/queries?since=15m', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);

    nowMs += 15_000;
    const merged = await api.request('/api/queries?since=15m', { headers: { 'if-none-match': etag } });
    expect(merged.status).toBe(200);
    expect(merged.headers.get('etag')).not.toBe(etag);
  });

  it('reads the store on every request with listFreshMs 0, and after the clock went back', async () => {
    const api = app(0);
    await api.request('/api/queries');
    await api.request('/api/queries');
    expect(store.reads).toBe(2);

    const kept = app(30_000);
    await kept.request('/api/queries');
    nowMs -= 1_000;
    await kept.request('/api/queries');
    expect(store.reads).toBe(4);
  });
});

describe('listFreshMs', () => {
  it('is 0.25 ms per bucket read (20× its cost), at most a quarter of the sparkline slot, 15 s to 60 s', () => {
    expect(['15m', '1h', '24h', '7d'].map((since) => listFreshMs(since, 1_000_000))).toEqual([
      15_000, 30_000, 60_000, 60_000,
    ]);
    expect(listFreshMs('1h', 61_000)).toBe(15_250);
    expect(listFreshMs('1h', 400)).toBe(100);
    expect(listFreshMs('1h', 0)).toBe(0);
  });
});

describe('listBodies', () => {
  it('keeps at most maxEntries answers, the least recently used going first', async () => {
    const bodyOf = listBodies({ maxEntries: 2 });
    let builds = 0;
    const build = () => {
      builds += 1;
      return { json: JSON.stringify({ builds }), freshMs: 10_000 };
    };
    await bodyOf('a', 0, build);
    await bodyOf('b', 0, build);
    await bodyOf('a', 1, build); // a used again: b is now the oldest
    await bodyOf('c', 1, build);
    expect(builds).toBe(3);
    await bodyOf('a', 2, build);
    expect(builds).toBe(3);
    await bodyOf('b', 2, build);
    expect(builds).toBe(4);
  });

  it('merges once for requests that come while that answer is merged elsewhere', async () => {
    const bodyOf = listBodies();
    const merges: Array<(answer: { json: string; freshMs: number }) => void> = [];
    const build = () => new Promise<{ json: string; freshMs: number }>((resolve) => merges.push(resolve));
    const text = async (body: Promise<{ json: Uint8Array }>) => new TextDecoder().decode((await body).json);

    // Nothing older to show: every request waits for the one merge.
    const waiting = [bodyOf('a', 0, build), bodyOf('a', 0, build), bodyOf('a', 0, build)];
    merges[0]?.({ json: '{"n":1}', freshMs: 1_000 });
    expect(new Set(await Promise.all(waiting)).size).toBe(1);
    expect(merges).toHaveLength(1);

    // Past its fresh time: the older answer stands in while the next merges, then the new one.
    expect(await text(bodyOf('a', 1_000, build))).toBe('{"n":1}');
    expect(await text(bodyOf('a', 1_500, build))).toBe('{"n":1}');
    expect(merges).toHaveLength(2);
    merges[1]?.({ json: '{"n":2}', freshMs: 1_000 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(await text(bodyOf('a', 1_600, build))).toBe('{"n":2}');
    expect(merges).toHaveLength(2);
  });

  it('drops the older answer when the merge meant to replace it fails: the next request sees the failure', async () => {
    const bodyOf = listBodies();
    await bodyOf('a', 0, () => ({ json: '{"n":1}', freshMs: 1_000 }));
    const failing = () => Promise.reject(new Error('database is locked'));
    expect(new TextDecoder().decode((await bodyOf('a', 1_000, failing)).json)).toBe('{"n":1}');
    await new Promise((resolve) => setImmediate(resolve));
    await expect(bodyOf('a', 1_001, failing)).rejects.toThrow('database is locked');
  });
});
