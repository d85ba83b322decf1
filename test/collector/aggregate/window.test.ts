/**
 * The aggregator's buckets as the store and the detectors see them: changed buckets handed
 * over in bounded batches, oldest change first, none lost; late data for buckets memory no
 * longer holds kept apart as a delta to merge; and views that merge buckets correctly while
 * reusing the older buckets' merge between runs.
 */
import { describe, expect, it } from 'vitest';
import type { QueryStats } from '../../../collector/aggregate/stats.js';
import { Aggregator, type BucketRecord } from '../../../collector/aggregate/window.js';
import { AssembledTrace } from '../../../collector/assemble/trace.js';
import { cacheCommand, query, request } from '../../support/operations.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-20T08:00:00Z');

let traces = 0;

/** One request at `endMs` running `statements` (one execution each) of `durationMs`. */
function trace(endMs: number, statements: string[], durationMs = 5): AssembledTrace {
  traces += 1;
  const root = request(`trace-${traces}`, { route: '/orders', startTimeMs: endMs - 50, durationMs: 50 });
  const queries = statements.map((fingerprint) =>
    query(root, { fingerprint, fingerprintId: fingerprint, durationMs, startTimeMs: endMs - 40 }),
  );
  return new AssembledTrace(root.traceId, [root, ...queries]);
}

function queryRecords(records: BucketRecord[]): BucketRecord[] {
  return records.filter((record) => record.family === 'query');
}

function countOf(record: BucketRecord | undefined): number | undefined {
  return (record?.data as QueryStats | undefined)?.count;
}

describe('Aggregator.takeDirty', () => {
  it('hands over at most the limit, oldest change first, and the rest on later calls', () => {
    const aggregator = new Aggregator();
    const now = T0 + 30_000;
    for (let i = 0; i < 10; i++) aggregator.record(trace(now, [`select ${i}`]), [], now);
    // Each request changes a query, the endpoint and the service: 12 changed buckets.
    expect(aggregator.dirtyCount).toBe(12);

    const first = aggregator.takeDirty(5);
    expect(first).toHaveLength(5);
    expect(first.map((record) => record.key)).toEqual([
      'GET /orders',
      'shop',
      'select 0',
      'select 1',
      'select 2',
    ]);
    expect(aggregator.dirtyCount).toBe(7);

    // A bucket changed again while it waits is handed over once, in its latest state; one
    // changed again after it was taken (the endpoint, the service) is queued again, behind.
    aggregator.record(trace(now, ['select 9']), [], now);
    const rest = aggregator.takeDirty(100);
    expect(rest.map((record) => record.key)).toEqual([
      ...['select 3', 'select 4', 'select 5', 'select 6', 'select 7', 'select 8', 'select 9'],
      'GET /orders',
      'shop',
    ]);
    expect(countOf(rest.find((record) => record.key === 'select 9'))).toBe(2);
    expect(aggregator.dirtyCount).toBe(0);
    expect(aggregator.takeDirty()).toEqual([]);
  });

  it('queues a bucket changed after it was taken again', () => {
    const aggregator = new Aggregator();
    const now = T0 + 30_000;
    aggregator.record(trace(now, ['select 1']), [], now);
    expect(countOf(queryRecords(aggregator.takeDirty())[0])).toBe(1);
    aggregator.record(trace(now, ['select 1']), [], now);
    expect(countOf(queryRecords(aggregator.takeDirty())[0])).toBe(2);
  });

  it('still hands over changes to buckets pruned before they were taken', () => {
    const aggregator = new Aggregator({ memoryMs: 15 * MINUTE });
    aggregator.record(trace(T0 + 1_000, ['select 1']), [], T0 + 2_000);
    aggregator.prune(T0 + 30 * MINUTE);
    const records = queryRecords(aggregator.takeDirty());
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ bucketStartMs: T0, key: 'select 1' });
    expect(records[0]?.merge).toBeUndefined();
  });
});

describe('late data', () => {
  it('is a merge delta once its bucket is pruned, dropped from memory once handed over', () => {
    const aggregator = new Aggregator({ memoryMs: 15 * MINUTE, maxLatenessMs: 60 * MINUTE });
    aggregator.record(trace(T0 + 1_000, ['select 1']), [], T0 + 2_000);
    expect(countOf(queryRecords(aggregator.takeDirty())[0])).toBe(1);

    const now = T0 + 20 * MINUTE;
    aggregator.prune(now);
    aggregator.record(trace(T0 + 1_000, ['select 1']), [], now);
    aggregator.record(trace(T0 + 2_000, ['select 1']), [], now);
    const late = queryRecords(aggregator.takeDirty());
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({ bucketStartMs: T0, merge: true });
    // Only what arrived late: the stored bucket's first execution is not counted again.
    expect(countOf(late[0])).toBe(2);

    // The next late execution is a new delta, not one added to the delta already handed over.
    aggregator.record(trace(T0 + 3_000, ['select 1']), [], now);
    expect(countOf(queryRecords(aggregator.takeDirty())[0])).toBe(1);
    // And none of it is in the window detectors read.
    expect(aggregator.view(now - 15 * MINUTE, now + 1).queries).toEqual([]);
  });

  it('is a merge delta for buckets older than what was loaded at start-up', () => {
    const aggregator = new Aggregator({ maxLatenessMs: 60 * MINUTE });
    const now = T0 + 30 * MINUTE;
    aggregator.load([], now - 15 * MINUTE);
    aggregator.record(trace(T0 + 1_000, ['select 1']), [], now);
    aggregator.record(trace(now - 1_000, ['select 1']), [], now);
    const records = queryRecords(aggregator.takeDirty());
    expect(records.map((record) => [record.bucketStartMs, record.merge])).toEqual([
      [T0, true],
      [now - 1_000 - ((now - 1_000) % MINUTE), undefined],
    ]);
  });
});

describe('Aggregator.view', () => {
  it('merges each key over the buckets of the window', () => {
    const aggregator = new Aggregator();
    const now = T0 + 3 * MINUTE + 30_000;
    aggregator.record(trace(T0 + 10_000, ['select 1', 'select 2'], 10), [], now);
    aggregator.record(trace(T0 + MINUTE + 10_000, ['select 1'], 30), [], now);
    aggregator.record(trace(T0 + 3 * MINUTE + 10_000, ['select 1', 'select 3'], 20), [], now);
    const queries = new Map(aggregator.view(T0, now + 1).queries.map((q) => [q.fingerprintId, q]));
    expect(queries.get('select 1')).toMatchObject({ count: 3, totalMs: 60, maxMs: 30 });
    expect(queries.get('select 1')?.entries).toEqual({ 'GET /orders': 3 });
    expect(queries.get('select 1')?.sketch.count).toBe(3);
    expect(queries.get('select 2')).toMatchObject({ count: 1, totalMs: 10 });
    expect(queries.get('select 3')).toMatchObject({ count: 1, totalMs: 20 });
    // A narrower window leaves the older buckets out.
    const recent = aggregator.view(T0 + MINUTE, now + 1).queries;
    expect(recent.find((q) => q.fingerprintId === 'select 1')).toMatchObject({ count: 2, totalMs: 50 });
    expect(recent.find((q) => q.fingerprintId === 'select 2')).toBeUndefined();
  });

  it('sees data that arrives for an older bucket of the window after a previous view', () => {
    const aggregator = new Aggregator();
    const now = T0 + 2 * MINUTE + 30_000;
    aggregator.record(trace(T0 + 10_000, ['select 1']), [], now);
    aggregator.record(trace(now - 1_000, ['select 1']), [], now);
    expect(aggregator.view(T0, now + 1).queries[0]?.count).toBe(2);
    // A late span for the first minute: the cached merge of the older buckets must not hide it.
    aggregator.record(trace(T0 + 20_000, ['select 1']), [], now);
    expect(aggregator.view(T0, now + 1).queries[0]?.count).toBe(3);
    // And the merge handed out before is not changed by the views after it.
    const before = aggregator.view(T0, now + 1).queries[0];
    aggregator.record(trace(now - 500, ['select 1']), [], now);
    expect(aggregator.view(T0, now + 1).queries[0]?.count).toBe(4);
    expect(before?.count).toBe(3);
    // The first minute changes again after its last change was merged: merged again.
    aggregator.record(trace(T0 + 30_000, ['select 1']), [], now);
    expect(aggregator.view(T0, now + 1).queries[0]?.count).toBe(5);
  });

  it('answers a view over the same buckets with every key changed since, and only those merged again', () => {
    const aggregator = new Aggregator();
    const now = T0 + 2 * MINUTE + 30_000;
    aggregator.record(trace(T0 + 10_000, ['select 1', 'select 2']), [], now);
    aggregator.record(trace(now - 1_000, ['select 1']), [], now);
    const first = new Map(aggregator.view(T0, now + 1).queries.map((q) => [q.fingerprintId, q]));
    // New in the newest bucket, new in an older one, more of an older-only key, more of a merged key.
    aggregator.record(trace(now - 900, ['select 3']), [], now);
    aggregator.record(trace(T0 + 20_000, ['select 4', 'select 2']), [], now);
    aggregator.record(trace(now - 800, ['select 1']), [], now);
    const second = new Map(aggregator.view(T0, now + 1).queries.map((q) => [q.fingerprintId, q]));
    expect(Object.fromEntries([...second].map(([id, q]) => [id, q.count]))).toEqual({
      'select 1': 3,
      'select 2': 2,
      'select 3': 1,
      'select 4': 1,
    });
    // The answer for select 1 (two buckets) was built anew; the one handed out before still says
    // what it said. A key one bucket holds is handed out as kept: valid until the next change.
    expect(first.get('select 1')?.count).toBe(2);
  });

  it('never changes a bucket while merging it into a view', () => {
    const aggregator = new Aggregator();
    const now = T0 + 2 * MINUTE + 30_000;
    const countIn = (fromMs: number, toMs: number) =>
      aggregator.view(fromMs, toMs).queries.find((q) => q.fingerprintId === 'select 1')?.count;
    aggregator.record(trace(T0 + 10_000, ['select 1']), [], now);
    aggregator.record(trace(now - 1_000, ['select 2']), [], now);
    expect(countIn(T0, now + 1)).toBe(1);
    // A second older bucket gets the key: a view built afresh, then one merging it again.
    aggregator.record(trace(T0 + MINUTE + 10_000, ['select 1']), [], now);
    expect(countIn(T0, now + 1)).toBe(2);
    aggregator.record(trace(T0 + MINUTE + 20_000, ['select 1']), [], now);
    expect(countIn(T0, now + 1)).toBe(3);
    expect(countIn(T0, T0 + MINUTE)).toBe(1);
    expect(countIn(T0 + MINUTE, T0 + 2 * MINUTE)).toBe(2);
    const stored = queryRecords(aggregator.takeDirty()).filter((record) => record.key === 'select 1');
    expect(stored.map(countOf)).toEqual([1, 2]);
  });
});

describe('Aggregator: cache commands', () => {
  it('follows a miss in start-time order, whatever order the spans arrived in', () => {
    const aggregator = new Aggregator();
    const now = T0 + 30_000;
    const root = request('trace-cache', { route: '/orders', startTimeMs: now - 100, durationMs: 100 });
    const at = (offsetMs: number) => now - 100 + offsetMs;
    const statement = (fingerprint: string, offsetMs: number) =>
      query(root, { fingerprint, fingerprintId: fingerprint, startTimeMs: at(offsetMs), durationMs: 2 });
    const miss = cacheCommand(root, {
      command: 'GET',
      keyPattern: 'order:{id}',
      hit: false,
      startTimeMs: at(10),
    });
    const refill = cacheCommand(root, { command: 'SET', keyPattern: 'order:{id}', startTimeMs: at(30) });
    // Arrival order: the statement that ran before the miss arrives after it, the refill first.
    const operations = [root, refill, miss, statement('select before', 5), statement('select after', 20)];
    aggregator.record(new AssembledTrace(root.traceId, operations), [], now);
    const [cache] = aggregator.view(now - MINUTE, now + 1).caches;
    expect(cache).toMatchObject({ misses: 1, refilledMisses: 1, writes: 1 });
    expect(Object.keys(cache?.missQueries ?? {})).toEqual(['select after']);
  });
});
