/**
 * The list routes and per-kind series, through `app.request` against a real SQLite
 * store holding what the aggregator and detectors made of the detector fixtures.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeBucketData } from '../../../collector/aggregate/stats.js';
import { Aggregator } from '../../../collector/aggregate/window.js';
import { createApiApp } from '../../../collector/api/app.js';
import { createCollectorMetrics } from '../../../collector/api/metrics.js';
import { TraceAssembler } from '../../../collector/assemble/trace-assembler.js';
import { detectors } from '../../../collector/detect/registry.js';
import { defaultDetectionConfig } from '../../../collector/detect/types.js';
import { recommend } from '../../../collector/recommend/index.js';
import { findingId, HOUR_MS, SqliteStore } from '../../../collector/store/sqlite-store.js';
import { FINDING_KINDS, type Operation, type RuntimeSample } from '../../../model/index.js';
import { FIXTURE_NOW } from '../../support/detect-harness.js';
import { assetHeavyService, imageUploads } from '../detect/fixtures/assets.js';
import { coldCacheAside, warmMget } from '../detect/fixtures/caches.js';
import { sqlBoundRoute } from '../detect/fixtures/http.js';
import { unindexedLookup } from '../detect/fixtures/queries.js';
import { backloggedQueue } from '../detect/fixtures/queues.js';
import { busyLoop, idleProcess } from '../detect/fixtures/runtime.js';

const DAY = 24 * 60 * 60_000;
let store: SqliteStore;

/** What the pipeline does, without its timer: aggregate, detect, recommend, store. */
function ingest(operations: Operation[], samples: RuntimeSample[], nowMs: number) {
  const assembler = new TraceAssembler();
  const aggregator = new Aggregator({ maxLatenessMs: 3 * DAY });
  aggregator.recordRuntime(samples, nowMs);
  assembler.add(operations, nowMs);
  for (const trace of assembler.drainAll()) {
    const occurrences = detectors.flatMap((d) => d.inspectTrace?.(trace, defaultDetectionConfig) ?? []);
    aggregator.record(trace, occurrences, nowMs);
  }
  const window = aggregator.view(nowMs - 15 * 60_000, nowMs + 1);
  const candidates = detectors.flatMap((d) => d.detect(window, defaultDetectionConfig, nowMs));
  store.upsertFindings(
    candidates.map((candidate) => ({ ...candidate, recommendation: recommend(candidate) })),
    nowMs,
  );
  store.writeBuckets(aggregator.takeDirty());
}

function app() {
  return createApiApp({
    store,
    metrics: createCollectorMetrics(store, () => 0),
    dashboardDir: join(tmpdir(), 'no-dashboard'),
    seriesMs: 7 * DAY,
    clock: () => FIXTURE_NOW,
    detection: { ...defaultDetectionConfig, slowEndpointMs: 450 },
  });
}

async function get<T>(path: string): Promise<T> {
  const response = await app().request(path);
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

beforeAll(() => {
  store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'chokepoint-lists-')), 'lists.db'));
  // Two days ago: the same shop traffic, only in the long ranges.
  const old = (operations: Operation[]) =>
    operations.map((o) => ({ ...o, traceId: `old-${o.traceId}`, startTimeMs: o.startTimeMs - 2 * DAY }));
  ingest(old(unindexedLookup()), [], FIXTURE_NOW - 2 * DAY + 60_000);
  ingest(
    [
      ...unindexedLookup(),
      ...sqlBoundRoute(),
      ...coldCacheAside(),
      ...warmMget(),
      ...backloggedQueue(),
      ...backloggedQueue({ destination: 'emails', lagMs: 20 }),
    ],
    [...busyLoop(), ...idleProcess().map((s) => ({ ...s, instanceId: 'host-b:7' }))],
    FIXTURE_NOW,
  );
  ingest(
    sqlBoundRoute().map((o) => ({ ...o, service: 'billing', traceId: `billing-${o.traceId}` })),
    [],
    FIXTURE_NOW,
  );
});

afterAll(() => store.close());

describe('GET /api/queries', () => {
  it('lists statements by time spent, with percentiles, rates and routes', async () => {
    const body = await get<{ since: string; queries: Array<Record<string, unknown>> }>(
      '/api/queries?service=shop',
    );
    expect(body.since).toBe('1h');
    expect(body.queries.map((q) => q.fingerprint)).toEqual([
      'select * from sales where region = ?',
      'select * from orders where customer_email = ?',
      'select * from products where id = ?',
    ]);
    expect(body.queries[0]).toMatchObject({
      service: 'shop',
      count: 20,
      totalMs: 12_000,
      routes: [{ route: 'GET /reports/:id', count: 20 }],
    });
    expect(Number(body.queries[1]?.p95Ms)).toBeGreaterThan(240);
  });

  it('filters by service and time range, and bounds the list', async () => {
    const billing = await get<{ queries: Array<{ service: string }> }>('/api/queries?service=billing');
    expect(billing.queries.map((q) => q.service)).toEqual(['billing']);
    const week = await get<{ queries: Array<{ fingerprint: string; count: number }> }>(
      '/api/queries?service=shop&since=7d',
    );
    expect(week.queries.find((q) => q.fingerprint.includes('customer_email'))?.count).toBe(40);
    const one = await get<{ queries: unknown[] }>('/api/queries?limit=1');
    expect(one.queries).toHaveLength(1);
  });

  it('answers 400 with the valid values to an unknown range or a bad limit', async () => {
    const since = await app().request('/api/queries?since=2w');
    expect(since.status).toBe(400);
    expect(await since.json()).toEqual({ error: 'unknown since "2w": expected one of 15m, 1h, 24h, 7d' });
    expect((await app().request('/api/endpoints?limit=0')).status).toBe(400);
    expect((await app().request('/api/caches?limit=abc')).status).toBe(400);
  });
});

describe('GET /api/endpoints, /api/caches, /api/queues, /api/runtime', () => {
  it('lists routes by time spent, with where the time goes', async () => {
    const { endpoints } = await get<{ endpoints: Array<Record<string, unknown>> }>(
      '/api/endpoints?service=shop',
    );
    expect(endpoints[0]).toMatchObject({
      route: 'GET /reports/:id',
      count: 20,
      breakdownMs: { sql: 600, cache: 0, http: 40, queue: 0 },
    });
  });

  it('lists key patterns by misses, with hit ratio and TTLs', async () => {
    const { caches } = await get<{ caches: Array<Record<string, unknown>> }>('/api/caches');
    expect(caches.map((c) => [c.keyPattern, c.hitRatio, c.misses])).toEqual([
      ['product:{id}', 0.2, 48],
      ['item:{id}', 0.9, 30],
    ]);
    expect(caches[0]).toMatchObject({ refilledMisses: 48, ttlsSeconds: [{ ttlSeconds: 5, count: 48 }] });
  });

  it('lists queues by wait, publishers and consumers apart', async () => {
    const { queues } = await get<{ queues: Array<Record<string, unknown>> }>('/api/queues');
    expect(queues.map((q) => [q.service, q.destination])).toEqual([
      ['worker', 'orders'],
      ['worker', 'emails'],
      ['api', 'emails'],
      ['api', 'orders'],
    ]);
    expect(queues[0]).toMatchObject({ consumed: 120, published: 0, processingMeanMs: 400 });
    expect(Number(queues[0]?.lagP95Ms)).toBeGreaterThan(2_500);
    expect(queues[3]).toMatchObject({ published: 120, consumed: 0, lagP95Ms: null });
  });

  it('lists process instances by blocked time', async () => {
    const { runtime } = await get<{ runtime: Array<Record<string, unknown>> }>('/api/runtime?service=api');
    expect(runtime.map((r) => r.instanceId)).toEqual(['host-a:101', 'host-b:7']);
    expect(runtime[0]).toMatchObject({ samples: 6, maxDelayMs: 80 });
    expect(runtime[1]).toMatchObject({ blockedMsPerMin: 0 });
  });
});

describe('GET /api/findings/:id series per kind', () => {
  const seriesOf = async (kind: string, service: string, key: string) =>
    (await get<{ series: Array<Record<string, unknown>> }>(`/api/findings/${findingId(kind, service, key)}`))
      .series;

  it('charts hit ratio, queue lag, the route breakdown and the event loop', async () => {
    expect(await seriesOf('cache_hit_ratio', 'shop', 'redis product:{id}')).toEqual([
      {
        t: new Date(Math.floor((FIXTURE_NOW - 60_000) / 60_000) * 60_000).toISOString(),
        bucketMs: 60_000,
        lookups: 60,
        hits: 12,
        misses: 48,
        hitRatio: 0.2,
      },
    ]);
    const [lag] = await seriesOf('queue_lag', 'worker', 'rabbitmq orders');
    expect(lag).toMatchObject({ consumed: 120 });
    expect(Number(lag?.lagP95Ms)).toBeGreaterThan(2_500);
    const [route] = await seriesOf('slow_endpoint', 'shop', 'GET /reports/:id');
    expect(route).toMatchObject({ count: 20, breakdownMs: { sql: 600 } });
    const [loop] = await seriesOf('event_loop_blocked', 'api', 'event_loop');
    expect(loop).toMatchObject({ instances: 2, maxDelayMs: 80 });
  });

  it('carries the width of rolled-up hourly points', async () => {
    store.rollUpBuckets(FIXTURE_NOW - DAY, mergeBucketData);
    const series = await seriesOf('slow_query', 'shop', Object.keys(await fingerprintIds())[0] as string);
    expect(series.map((p) => p.bucketMs)).toEqual([HOUR_MS, 60_000]);
    expect(series.map((p) => p.count)).toEqual([20, 20]);
  });

  it('charts static files from the routes’ buckets: GET and HEAD of static routes, summed per bucket', async () => {
    // A service of its own, so the lists above keep their rows: 40 static files of 4 ms among 60 API
    // calls, the minute before 30 more; uploads to image-like routes are writes, not static files.
    const web = (operations: Operation[], prefix: string, shiftMs = 0) =>
      operations.map((o) => ({
        ...o,
        service: 'web',
        traceId: `${prefix}-${o.traceId}`,
        startTimeMs: o.startTimeMs - shiftMs,
      }));
    ingest(
      [
        ...web(assetHeavyService(60, 30), 'web-before', 60_000),
        ...web(assetHeavyService(), 'web-now'),
        ...web(imageUploads(), 'web-uploads'),
      ],
      [],
      FIXTURE_NOW,
    );
    const series = await seriesOf('static_assets', 'web', 'static');
    expect(series.map((p) => [p.count, p.totalMs, p.bucketMs])).toEqual([
      [30, 120, 60_000],
      [40, 160, 60_000],
    ]);
    expect(Date.parse(String(series[1]?.t)) - Date.parse(String(series[0]?.t))).toBe(60_000);
  });
});

async function fingerprintIds(): Promise<Record<string, string>> {
  const { queries } = await get<{ queries: Array<{ fingerprintId: string; fingerprint: string }> }>(
    '/api/queries?service=shop&since=7d',
  );
  return Object.fromEntries(
    queries
      .filter((q) => q.fingerprint.includes('customer_email'))
      .map((q) => [q.fingerprintId, q.fingerprint]),
  );
}

describe('GET /api/meta', () => {
  it('explains impact, severity and every kind’s rule with the thresholds in force', async () => {
    const meta = await get<{
      impactExplained: string;
      severityImpactMsPerMin: Record<string, number>;
      kinds: Array<{ kind: string; rule: string; impact: string }>;
    }>('/api/meta');
    expect(meta.impactExplained).toContain('milliseconds per minute');
    expect(meta.severityImpactMsPerMin).toEqual({ critical: 30_000, high: 5_000, medium: 500 });
    expect(meta.kinds.map((k) => k.kind)).toEqual(detectors.map((detector) => detector.kind));
    expect(FINDING_KINDS).toEqual(expect.arrayContaining(meta.kinds.map((k) => k.kind)));
    expect(meta.kinds.find((k) => k.kind === 'slow_endpoint')?.rule).toContain('450 ms');
    for (const kind of meta.kinds) expect(kind.impact).toContain('per minute');
  });
});
