import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QuantileSketch } from '../../../collector/aggregate/sketch.js';
import { queryFamily } from '../../../collector/aggregate/stats.js';
import { createApiApp } from '../../../collector/api/app.js';
import { createCollectorMetrics } from '../../../collector/api/metrics.js';
import { findingId, SqliteStore } from '../../../collector/store/sqlite-store.js';
import { FINDING_KINDS } from '../../../model/index.js';

const NOW = Date.parse('2026-11-26T12:00:00Z');
let store: SqliteStore;
let dir: string;

function app(dashboardDir = join(dir, 'dashboard')) {
  return createApiApp({
    store,
    metrics: createCollectorMetrics(store, () => 3),
    dashboardDir,
    seriesMs: 60 * 60_000,
    clock: () => NOW,
  });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chokepoint-api-'));
  store = new SqliteStore(join(dir, 'api.db'));
  const base = { service: 'shop', severity: 'high' as const, recommendation: { summary: 's', detail: 'd' } };
  store.upsertFindings(
    [
      {
        ...base,
        kind: 'slow_query',
        key: 'fp1',
        title: 'slow',
        impact: 100,
        evidence: { fingerprint: 'select ?' },
      },
      { ...base, kind: 'n_plus_one', key: 'fp2', title: 'n+1', impact: 900, evidence: {} },
      {
        ...base,
        kind: 'slow_query',
        key: 'fp3',
        title: 'other service',
        impact: 50,
        evidence: {},
        service: 'billing',
      },
    ],
    NOW - 5 * 60_000,
  );
  const sketch = new QuantileSketch();
  for (const ms of [100, 200, 300]) sketch.add(ms);
  store.writeBuckets([
    {
      family: 'query',
      service: 'shop',
      key: 'fp1',
      bucketStartMs: NOW - 2 * 60_000,
      data: queryFamily.serialize({
        count: 3,
        errors: 0,
        totalMs: 600,
        maxMs: 300,
        sketch,
        service: 'shop',
        system: 'sqlite',
        fingerprintId: 'fp1',
        fingerprint: 'select ?',
        statementType: 'select',
        tables: [],
        entries: {},
        exampleTraceId: 't',
        exampleDurationMs: 300,
      }),
    },
  ]);
});

afterEach(() => store.close());

describe('API', () => {
  it('answers health', async () => {
    const res = await app().request('/api/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('lists findings by impact with the contract fields, filtered by service and kind', async () => {
    const body = (await (await app().request('/api/findings')).json()) as {
      findings: Array<Record<string, unknown>>;
    };
    expect(body.findings.map((f) => f.key)).toEqual(['fp2', 'fp1', 'fp3']);
    for (const field of [
      'id',
      'kind',
      'service',
      'title',
      'severity',
      'impact',
      'firstSeen',
      'lastSeen',
      'evidence',
      'recommendation',
    ]) {
      expect(body.findings[0]).toHaveProperty(field);
    }
    const filtered = (await (await app().request('/api/findings?service=shop&kind=slow_query')).json()) as {
      findings: Array<{ key: string }>;
    };
    expect(filtered.findings.map((f) => f.key)).toEqual(['fp1']);
  });

  it('rejects an unknown kind or status with 400 and the valid values', async () => {
    const res = await app().request('/api/findings?kind=slow');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe(
      `unknown kind "slow": expected one of ${FINDING_KINDS.join(', ')}`,
    );
    expect((await app().request('/api/findings?status=open')).status).toBe(400);
  });

  it('returns one finding with its per-bucket series, and 404 for an unknown id', async () => {
    const res = await app().request(`/api/findings/${findingId('slow_query', 'shop', 'fp1')}`);
    const body = (await res.json()) as {
      finding: { key: string };
      series: Array<Record<string, number | string>>;
    };
    expect(body.finding.key).toBe('fp1');
    expect(body.series).toHaveLength(1);
    expect(body.series[0]).toMatchObject({
      t: new Date(NOW - 2 * 60_000).toISOString(),
      count: 3,
      totalMs: 600,
    });
    expect(Number(body.series[0]?.p50Ms)).toBeGreaterThan(195);
    expect(Number(body.series[0]?.p50Ms)).toBeLessThan(205);
    expect((await app().request('/api/findings/nope')).status).toBe(404);
  });

  it('serves Prometheus metrics with open findings and collector health', async () => {
    const res = await app().request('/metrics');
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('chokepoint_findings_open{service="shop",kind="n_plus_one",severity="high"} 1');
    expect(text).toContain('chokepoint_collector_pending_traces 3');
    expect(text).toMatch(/chokepoint_collector_sqlite_size_bytes [1-9]\d+/);
  });

  it('gzips JSON and Prometheus text for a client that asks, and only for one', async () => {
    const gzip = { headers: { 'accept-encoding': 'gzip' } };
    for (const path of [
      `/api/findings/${findingId('slow_query', 'shop', 'fp1')}`,
      '/api/queries',
      '/metrics',
    ]) {
      const plain = await app().request(path);
      expect(plain.headers.get('content-encoding'), path).toBeNull();
      const zipped = await app().request(path, gzip);
      expect(zipped.headers.get('content-encoding'), path).toBe('gzip');
      expect(gunzipSync(Buffer.from(await zipped.arrayBuffer())).toString(), path).toBe(await plain.text());
    }
  });

  it('serves the built dashboard from memory and nothing outside it', async () => {
    const dashboard = join(dir, 'dashboard');
    mkdirSync(join(dashboard, 'assets'), { recursive: true });
    writeFileSync(join(dashboard, 'index.html'), '<!doctype html><title>Chokepoint</title>');
    writeFileSync(join(dashboard, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'secret');
    const served = app(dashboard);
    const index = await served.request('/');
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await index.text()).toContain('<title>Chokepoint</title>');
    expect((await served.request('/assets/app.js')).headers.get('content-type')).toBe(
      'text/javascript; charset=utf-8',
    );
    expect((await served.request('/../secret.txt')).status).toBe(404);
    expect((await served.request('/assets/%2e%2e/%2e%2e/secret.txt')).status).toBe(404);
  });

  it('explains how to build the dashboard when it is missing', async () => {
    const res = await app(join(dir, 'nowhere')).request('/');
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('Run: npm run build');
  });
});
