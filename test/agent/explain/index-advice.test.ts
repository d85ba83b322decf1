/**
 * Issue 4 end to end: an app under the built agent runs an unindexed query on a real
 * database; the agent captures its plan and exports it on a later span; the real collector
 * reads it, and the slow_query finding recommends the index the plan asks for.
 */
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import type { Finding } from '../../../model/index.js';
import { type CollectorRun, startCollectorRun } from '../../collector/detect/real-drivers/collector-run.js';
import { killApps } from '../../support/agent-process.js';
import { describeWithServices } from '../../support/services.js';

const REQUESTS = 8;

async function slowQueryFinding(run: CollectorRun): Promise<Finding | undefined> {
  // Sequential, a moment apart: the plan asked for after the first request rides on a later one.
  for (let i = 0; i < REQUESTS; i++) {
    expect((await fetch(`${run.appUrl}/orders`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await run.finish();
  return (await run.findings()).find((finding) => finding.kind === 'slow_query');
}

const runs: CollectorRun[] = [];

afterAll(async () => {
  killApps();
  await Promise.all(runs.map((run) => run.close()));
});

function startRun(service: string, env: Record<string, string>): Promise<CollectorRun> {
  return startCollectorRun('test/agent/fixtures/explain-app.js', {
    service,
    // Every run counts as slow on both sides: the test is about the plan, not the clock.
    env: { CHOKEPOINT_EXPLAIN_THRESHOLD_MS: '0', ...env },
    collector: { slowQueryMs: 1 },
  }).then((run) => {
    runs.push(run);
    return run;
  });
}

it('SQLite: the finding carries the captured plan and recommends its index', async () => {
  const finding = await slowQueryFinding(await startRun('explain-sqlite', { EXPLAIN_DB: 'sqlite' }));
  expect(finding?.evidence.plan).toMatchObject({
    system: 'sqlite',
    fullScanTables: ['orders'],
    sortWithoutIndex: true,
  });
  expect(finding?.recommendation.summary).toBe('Add an index on orders (customer_email, created_at)');
  expect(finding?.recommendation.detail).toContain('The captured plan reads orders in full');
  expect(finding?.recommendation.code).toMatch(/^CREATE INDEX \S+ ON orders \(customer_email, created_at/m);
}, 60_000);

await describeWithServices(['postgres'], 'Postgres end to end', () => {
  const schema = `chokepoint_explain_app_${process.pid}`;

  afterAll(async () => {
    const client = new pg.Client({ host: '127.0.0.1', user: 'postgres', database: 'test' });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it('Postgres (pg Pool): the finding carries the captured plan and recommends its index', async () => {
    const run = await startRun('explain-postgres', { EXPLAIN_DB: 'postgres', EXPLAIN_SCHEMA: schema });
    const finding = await slowQueryFinding(run);
    expect(finding?.evidence.plan).toMatchObject({
      system: 'postgresql',
      fullScanTables: ['orders'],
      filterColumns: expect.arrayContaining([
        { table: 'orders', column: 'status', comparison: 'equality' },
        { table: 'orders', column: 'created_at', comparison: 'range' },
      ]),
    });
    expect(finding?.recommendation.summary).toBe(`Add an index on ${schema}.orders (status, created_at)`);
    expect(finding?.recommendation.code).toMatch(
      new RegExp(`^CREATE INDEX CONCURRENTLY \\S+ ON ${schema}\\.orders \\(status, created_at`, 'm'),
    );
  }, 60_000);
});
