/**
 * HTTP N+1 and slow routes on real traffic: a fixture app under the built agent makes
 * real fetch (undici) calls and a real pg statement; its spans reach a real collector.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findingId } from '../../../../collector/store/sqlite-store.js';
import type { Finding } from '../../../../model/index.js';
import { killApps } from '../../../support/agent-process.js';
import { describeWithServices } from '../../../support/services.js';
import { type CollectorRun, startCollectorRun } from './collector-run.js';

await describeWithServices(['postgres'], 'HTTP N+1 and slow endpoints from real spans', () => {
  let run: CollectorRun;
  let findings: Finding[];

  beforeAll(async () => {
    // The planted slow routes take 1.5 s; a 1 s threshold keeps the fast routes (tens of ms, a few
    // hundred on a loaded 2-core machine) far below it.
    run = await startCollectorRun('test/collector/detect/fixtures/apps/http-app.js', {
      service: 'api',
      collector: { slowEndpointMs: 1_000 },
    });
    const hit = async (path: string, times: number) => {
      for (let i = 0; i < times; i++) expect((await fetch(run.appUrl + path)).status).toBe(200);
    };
    await hit('/orders/42', 5);
    await hit('/home', 5);
    await hit('/report', 3);
    await hit('/export', 3);
    await run.finish();
    findings = await run.findings();
  });

  afterAll(async () => {
    killApps();
    await run?.close();
  });

  const ofKind = (kind: string) => findings.filter((finding) => finding.kind === kind);

  it('finds the per-line user lookups as an HTTP N+1 with the fetch calls’ URL template', () => {
    const [nPlusOne, ...others] = ofKind('n_plus_one_http');
    expect(others).toEqual([]);
    expect(nPlusOne?.key).toMatch(/^GET 127\.0\.0\.1:\d+\/users\/\{id\}$/);
    expect(nPlusOne?.evidence).toMatchObject({
      method: 'GET',
      urlTemplate: '/users/{id}',
      requests: 5,
      avgRepeats: 6,
      routes: [{ route: 'GET /orders/{id}', requests: 5 }],
    });
    expect(nPlusOne?.recommendation.code).toContain('mapLimit');
  });

  it('finds the slow routes, SQL-bound and own-code-bound, and links the slow query behind the first', () => {
    const slow = ofKind('slow_endpoint');
    expect(slow.map((finding) => finding.key).sort()).toEqual(['GET /export', 'GET /report']);
    const report = slow.find((finding) => finding.key === 'GET /report');
    expect(report?.evidence).toMatchObject({ count: 3, dominant: 'sql' });
    expect(Number(report?.p95Ms)).toBeGreaterThanOrEqual(1_400);
    const query = ofKind('slow_query').find((finding) =>
      String(finding.evidence.fingerprint).includes('pg_sleep'),
    );
    expect(query).toBeDefined();
    expect(report?.evidence.related).toContainEqual(
      expect.objectContaining({ id: findingId('slow_query', 'api', query?.key ?? ''), kind: 'slow_query' }),
    );
    expect(slow.find((finding) => finding.key === 'GET /export')?.evidence.dominant).toBe('ownCode');
  });

  it('leaves the fast routes and the fan-out alone', () => {
    const keys = findings.map((finding) => finding.key);
    expect(keys).not.toContain('GET /orders/{id}');
    expect(keys).not.toContain('GET /home');
  });
});
