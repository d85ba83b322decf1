/**
 * cache_hit_ratio on real traffic: ioredis and node-redis against the real Redis, with
 * pg behind them, in an app under the built agent whose hooks record hits, misses and TTLs.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../../../../model/index.js';
import { killApps } from '../../../support/agent-process.js';
import { describeWithServices } from '../../../support/services.js';
import { type CollectorRun, startCollectorRun } from './collector-run.js';

const PREFIX = `cpt${process.pid}`;
const SCHEMA = `chokepoint_cache_${process.pid}`;

await describeWithServices(['redis', 'postgres'], 'cache hit ratio from real Redis spans', () => {
  let run: CollectorRun;
  let findings: Finding[];
  let caches: Array<Record<string, unknown>>;

  beforeAll(async () => {
    run = await startCollectorRun('test/collector/detect/fixtures/apps/cache-app.js', {
      service: 'catalog',
      env: { KEY_PREFIX: PREFIX, PG_SCHEMA: SCHEMA },
    });
    // 60 lookups each, over 40 ids: the first pass misses, the repeats may hit.
    for (let i = 0; i < 60; i++) {
      for (const path of [`/product/${1 + (i % 40)}`, `/price/${1 + (i % 40)}`, '/config', '/session']) {
        expect((await fetch(run.appUrl + path)).status).toBe(200);
      }
    }
    await run.finish();
    caches = (
      (await (await fetch(`${run.collector.dashboardUrl}/api/caches`)).json()) as {
        caches: Array<Record<string, unknown>>;
      }
    ).caches;
    findings = (await run.findings()).filter((finding) => finding.kind === 'cache_hit_ratio');
  });

  afterAll(async () => {
    killApps();
    await run?.close();
  });

  it('finds ioredis cache-aside whose entries expire too soon, with the TTL and the statement behind the misses', () => {
    const product = findings.find((finding) => finding.key === `redis ${PREFIX}:product:{id}`);
    expect(product?.evidence).toMatchObject({
      lookups: 60,
      misses: expect.any(Number),
      pattern: 'cache_aside',
      ttlsSeconds: [{ ttlSeconds: 1, count: expect.any(Number) }],
      routes: [{ route: 'GET /product/{id}', count: 60 }],
    });
    expect(Number(product?.evidence.hitRatio)).toBeLessThan(0.5);
    expect(product?.evidence.missQueries).toContainEqual(
      expect.objectContaining({ fingerprint: `select name from ${SCHEMA}.products where id = ?` }),
    );
    expect(product?.recommendation.summary).toBe(
      `Keep ${PREFIX}:product:{id} entries longer: they expire before they are read again`,
    );
  });

  it('finds node-redis lookups that nothing refills, naming the statement to cache', () => {
    const price = findings.find((finding) => finding.key === `redis ${PREFIX}:price:{id}`);
    expect(price?.evidence).toMatchObject({
      lookups: 60,
      hits: 0,
      refilledMisses: 0,
      pattern: 'never_filled',
    });
    expect(price?.recommendation.code).toContain(`select cents from ${SCHEMA}.prices where sku = ?`);
  });

  it('leaves the warm key and the session lookups alone', () => {
    expect(findings.map((finding) => finding.key).sort()).toEqual([
      `redis ${PREFIX}:price:{id}`,
      `redis ${PREFIX}:product:{id}`,
    ]);
    const config = caches.find((cache) => cache.keyPattern === `${PREFIX}:config`);
    expect(config).toMatchObject({ hitRatio: 1 });
    expect(caches.find((cache) => cache.keyPattern === 'sess:{hash}')).toMatchObject({ hits: 0 });
  });
});
