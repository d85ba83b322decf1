/**
 * Per-row sparklines on the list routes: operations spread over known minutes go through
 * the real aggregator into a real SQLite store, and each row's series puts them back in
 * the slots they came from.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mergeBucketData } from '../../../collector/aggregate/stats.js';
import { Aggregator } from '../../../collector/aggregate/window.js';
import { createApiApp } from '../../../collector/api/app.js';
import { createCollectorMetrics } from '../../../collector/api/metrics.js';
import { TraceAssembler } from '../../../collector/assemble/trace-assembler.js';
import { SqliteStore } from '../../../collector/store/sqlite-store.js';
import type { Operation, RuntimeSample } from '../../../model/index.js';
import { cacheCommand, query, queueMessage, request } from '../../support/operations.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Half past a minute: the 15 minute range starts mid-slot and the last slot is half covered. */
const NOW = Date.parse('2026-11-26T12:00:30Z');
const DAY = 24 * HOUR;

let store: SqliteStore;

/** Aggregates as the pipeline does and stores the buckets. */
function ingest(operations: Operation[], samples: RuntimeSample[] = []) {
  const assembler = new TraceAssembler();
  const aggregator = new Aggregator({ maxLatenessMs: 2 * DAY });
  aggregator.recordRuntime(samples, NOW);
  assembler.add(operations, NOW);
  for (const trace of assembler.drainAll()) aggregator.record(trace, [], NOW);
  store.writeBuckets(aggregator.takeDirty());
}

/** `calls` requests of `route`, each running one statement of `queryMs`, ending `minutesAgo` before now. */
function traffic(minutesAgo: number, calls: number, queryMs: number): Operation[] {
  return Array.from({ length: calls }, (_, index) => {
    const startTimeMs = NOW - minutesAgo * MINUTE + index;
    const root = request(`t-${minutesAgo}-${index}`, {
      route: '/orders',
      startTimeMs,
      durationMs: queryMs + 2,
    });
    return [
      root,
      query(root, {
        fingerprint: 'select * from orders where id = ?',
        fingerprintId: 'fp-orders',
        durationMs: queryMs,
      }),
    ];
  }).flat();
}

function runtimeSample(minutesAgo: number, heapMb: number): RuntimeSample {
  return {
    service: 'shop',
    instanceId: 'host:1',
    timeMs: NOW - minutesAgo * MINUTE,
    intervalMs: 10_000,
    eventLoopLag: { minMs: 10, meanMs: 12, p50Ms: 11, p90Ms: 20, p99Ms: 40, maxMs: 60 },
    gc: { count: 2, pauseMs: 8, maxPauseMs: 5, byKind: { minor: { count: 2, pauseMs: 8 } } },
    memory: {
      rssBytes: 200 * 2 ** 20,
      heapUsedBytes: heapMb * 2 ** 20,
      heapTotalBytes: 2 ** 30,
      externalBytes: 0,
    },
    cpu: { userMs: 100, systemMs: 10 },
  };
}

async function list<T>(path: string) {
  const app = createApiApp({
    store,
    metrics: createCollectorMetrics(store, () => 0),
    dashboardDir: join(tmpdir(), 'no-dashboard'),
    seriesMs: DAY,
    clock: () => NOW,
  });
  const response = await app.request(path);
  expect(response.status).toBe(200);
  return (await response.json()) as { sparkline: { from: string; slotMs: number; count: number } } & T;
}

type Series = Record<string, Array<number | null>>;

beforeEach(() => {
  store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'chokepoint-sparklines-')), 'sparklines.db'));
});

afterEach(() => store.close());

describe('list sparklines', () => {
  it('slots a 15 minute range by the minute, rates per minute and p95 where there was traffic', async () => {
    ingest([...traffic(10, 2, 100), ...traffic(4, 6, 40)]);
    const body = await list<{ queries: Array<{ series: Series; count: number }> }>('/api/queries?since=15m');

    // From the minute the range starts in, to the minute now is in.
    expect(body.sparkline).toEqual({ from: '2026-11-26T11:45:00.000Z', slotMs: MINUTE, count: 16 });
    const [row] = body.queries;
    expect(row?.count).toBe(8);
    const calls = row?.series.callsPerMin ?? [];
    expect(calls).toHaveLength(16);
    // 11:50:30 and 11:56:30 fall in slots 5 and 11.
    expect(calls.map((value, slot) => (value === 0 ? null : [slot, value])).filter(Boolean)).toEqual([
      [5, 2],
      [11, 6],
    ]);
    const p95 = row?.series.p95Ms ?? [];
    expect(p95[5]).toBeCloseTo(100, -1);
    expect(p95[11]).toBeCloseTo(40, 0);
    expect(p95.filter((value) => value === null)).toHaveLength(14);
  });

  it('uses wider slots for longer ranges and puts a rolled-up hour in one of them', async () => {
    ingest(traffic(5 * 60, 120, 20));
    ingest(traffic(0, 10, 20));
    store.rollUpBuckets(NOW - 2 * HOUR, mergeBucketData);

    const body = await list<{ queries: Array<{ series: Series }> }>('/api/queries?since=24h');
    expect(body.sparkline).toEqual({ from: '2026-11-25T12:00:00.000Z', slotMs: HOUR, count: 25 });
    const calls = body.queries[0]?.series.callsPerMin ?? [];
    // 120 calls in the hour from 07:00 (slot 19); 10 in the last 30 s, counted over one minute at least.
    expect(calls[19]).toBe(2);
    expect(calls[24]).toBe(10);
    expect(calls.filter((value) => value !== 0)).toHaveLength(2);

    const week = await list<{ queries: Array<{ series: Series }> }>('/api/queries?since=7d');
    expect(week.sparkline.slotMs).toBe(6 * HOUR);
    expect(
      (week.queries[0]?.series.callsPerMin ?? []).reduce<number>((sum, value) => sum + (value ?? 0), 0),
    ).toBeGreaterThan(0);
  });

  it('gives caches their hit ratio per slot and leaves the rows’ totals alone', async () => {
    const lookups = (minutesAgo: number, hits: boolean[]) =>
      hits.flatMap((hit, index) => {
        const root = request(`c-${minutesAgo}-${index}`, {
          route: '/products/:id',
          startTimeMs: NOW - minutesAgo * MINUTE + index,
        });
        return [root, cacheCommand(root, { command: 'GET', keyPattern: 'product:{id}', hit })];
      });
    ingest([...lookups(8, [true, false, false, false]), ...lookups(2, [true, true, true, false])]);

    const { caches } = await list<{ caches: Array<{ lookups: number; hits: number; series: Series }> }>(
      '/api/caches?since=15m',
    );
    expect(caches[0]).toMatchObject({ lookups: 8, hits: 4 });
    const ratios = caches[0]?.series.hitRatio ?? [];
    expect([ratios[7], ratios[13]]).toEqual([0.25, 0.75]);
    expect(ratios.filter((value) => value === null)).toHaveLength(14);
    expect(caches[0]?.series.lookupsPerMin?.[7]).toBe(4);
  });

  it('gives queues their lag per slot, publishers and consumers apart', async () => {
    const consumed = Array.from({ length: 5 }, (_, index) =>
      queueMessage(`q-${index}`, {
        role: 'consume',
        destination: 'orders',
        startTimeMs: NOW - 6 * MINUTE + index,
        publishTimeMs: NOW - 6 * MINUTE + index - 1_500,
      }),
    );
    ingest(consumed);
    const { queues } = await list<{ queues: Array<{ destination: string; series: Series }> }>(
      '/api/queues?since=1h',
    );
    expect(queues.map((q) => q.destination)).toEqual(['orders']);
    const series = queues[0]?.series ?? {};
    // 2 minute slots from 11:00: 11:54:30 is slot 27.
    expect(series.consumedPerMin?.[27]).toBe(2.5);
    expect(series.lagP95Ms?.[27]).toBeCloseTo(1_500, -2);
    expect(series.publishedPerMin?.every((value) => value === 0)).toBe(true);
  });

  it('leaves runtime slots without a sample empty rather than zero', async () => {
    ingest([], [runtimeSample(9, 40), runtimeSample(3, 64)]);
    const { runtime } = await list<{ runtime: Array<{ instanceId: string; series: Series }> }>(
      '/api/runtime?since=15m',
    );
    const series = runtime[0]?.series ?? {};
    expect(series.heapUsedMaxMb?.filter((value) => value !== null)).toEqual([40, 64]);
    expect(series.maxDelayMs?.[6]).toBe(50);
    expect(series.gcPauseMsPerMin?.[12]).toBe(8);
    expect(series.gcPauseMsPerMin?.[0]).toBeNull();
  });

  it('draws endpoints by requests per minute and p95', async () => {
    ingest(traffic(1, 3, 300));
    const { endpoints } = await list<{ endpoints: Array<{ route: string; series: Series }> }>(
      '/api/endpoints?since=15m',
    );
    expect(endpoints[0]?.route).toBe('GET /orders');
    expect(endpoints[0]?.series.requestsPerMin?.[14]).toBe(3);
    expect(endpoints[0]?.series.p95Ms?.[14]).toBeCloseTo(302, -1);
  });
});
