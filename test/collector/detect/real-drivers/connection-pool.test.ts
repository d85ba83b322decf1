/**
 * connection_pool on real traffic: examples/playbook/pool-app.js under the built agent,
 * real pg connections to the local PostgreSQL, then real mysql2 connections to the local
 * MariaDB (the agent's own connection spans: upstream traces none), 8 requests at a time.
 * A pool of 1 makes requests queue for the connection; a connection per request (pg
 * `new Client()`, mysql2 `createConnection()`) opens one every time; a pool of 8 does
 * neither (it opens its 8 connections once).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../../../../model/index.js';
import { killApps } from '../../../support/agent-process.js';
import { describeWithServices } from '../../../support/services.js';
import { type CollectorRun, startCollectorRun } from './collector-run.js';

const CONCURRENCY = 8;
const ROUNDS = 5;

async function poolFindings(
  poolMax: number,
  connect: string,
  driver: string,
): Promise<{ run: CollectorRun; findings: Finding[] }> {
  const run = await startCollectorRun('examples/playbook/pool-app.js', {
    service: `${driver}-${connect}-${poolMax}`,
    env: { POOL_MAX: String(poolMax), CONNECT: connect, DRIVER: driver },
  });
  for (let round = 0; round < ROUNDS; round++) {
    const statuses = await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => (await fetch(`${run.appUrl}/orders`)).status),
    );
    expect(statuses).toEqual(Array(CONCURRENCY).fill(200));
  }
  await run.finish();
  return { run, findings: (await run.findings()).filter((finding) => finding.kind === 'connection_pool') };
}

/**
 * A driver's three apps, run before its suite and closed after it: a pool of 1 (starved), a
 * connection per request, and a pool with a connection for every concurrent request (healthy).
 */
function poolRuns(driver: string) {
  const found = {
    runs: [] as CollectorRun[],
    starved: [] as Finding[],
    perRequest: [] as Finding[],
    healthy: [] as Finding[],
  };
  beforeAll(async () => {
    const small = await poolFindings(1, 'pool', driver);
    const connections = await poolFindings(CONCURRENCY, 'client', driver);
    const large = await poolFindings(CONCURRENCY, 'pool', driver);
    found.runs.push(small.run, connections.run, large.run);
    found.starved = small.findings;
    found.perRequest = connections.findings;
    found.healthy = large.findings;
  });
  afterAll(async () => {
    killApps();
    await Promise.all(found.runs.map((run) => run.close()));
  });
  return found;
}

await describeWithServices(['postgres'], 'connection_pool from a real pg Pool', () => {
  const found = poolRuns('pg');

  it('finds requests queueing for the one connection, with a larger pool in the advice', () => {
    expect(found.starved).toHaveLength(1);
    const [finding] = found.starved;
    expect(finding?.key).toBe('postgresql');
    expect(finding?.evidence).toMatchObject({ system: 'postgresql', requests: CONCURRENCY * ROUNDS });
    expect(finding?.evidence.routes).toEqual([{ route: 'GET /orders', requests: CONCURRENCY * ROUNDS }]);
    // Eight requests share one connection: on average a request waits for several others' 50 ms statements.
    expect(Number(finding?.evidence.waitShare)).toBeGreaterThan(0.5);
    expect(Number(finding?.evidence.dbMsPerRequest)).toBeGreaterThanOrEqual(50);
    expect(finding?.recommendation.code).toMatch(/max: \d+,/);
    const size = Number(/max: (\d+),/.exec(finding?.recommendation.code ?? '')?.[1]);
    // Requests queued behind several others' statements: the advice covers that burst, not just the average.
    expect(size).toBeGreaterThanOrEqual(CONCURRENCY / 2);
    expect(Number(finding?.evidence.peakConnectionsWanted)).toBeLessThanOrEqual(size);
  });

  it('serves the wait as the finding’s series', async () => {
    const [finding] = found.starved;
    const response = await fetch(`${found.runs[0]?.collector.dashboardUrl}/api/findings/${finding?.id}`);
    const { series } = (await response.json()) as { series: Array<{ count: number; totalMs: number }> };
    const requests = series.reduce((sum, point) => sum + point.count, 0);
    const waitMs = series.reduce((sum, point) => sum + point.totalMs, 0);
    expect(requests).toBe(CONCURRENCY * ROUNDS);
    expect(waitMs / requests).toBeCloseTo(Number(finding?.evidence.waitMsPerRequest), 0);
  });

  it('finds a connection opened per request, and advises one pool', () => {
    expect(found.perRequest).toHaveLength(1);
    const [finding] = found.perRequest;
    expect(finding?.key).toBe('postgresql @opened');
    expect(finding?.evidence).toMatchObject({
      rule: 'new_connections',
      pooled: false,
      requests: CONCURRENCY * ROUNDS,
      requestsOpening: CONCURRENCY * ROUNDS,
      connectionsOpened: CONCURRENCY * ROUNDS,
      openShare: 1,
    });
    expect(Number(finding?.evidence.openMsPerRequest)).toBeGreaterThan(0);
    expect(Number(finding?.evidence.dbMsPerRequest)).toBeGreaterThanOrEqual(50);
    expect(finding?.recommendation.summary).toMatch(/^Reuse postgresql connections: one pool of \d+/);
    expect(finding?.recommendation.code).toContain('new Pool({');
  });

  it('stays silent when the pool has a connection for every concurrent request', () => {
    expect(found.healthy).toEqual([]);
  });
});

await describeWithServices(['mariadb'], 'connection_pool from real mysql2 connections', () => {
  const found = poolRuns('mysql2');

  it('finds requests queueing for the one connection of a createPool, with connectionLimit in the advice', () => {
    expect(found.starved).toHaveLength(1);
    const [finding] = found.starved;
    expect(finding?.key).toBe('mysql');
    expect(finding?.evidence).toMatchObject({
      rule: 'pool_wait',
      system: 'mysql',
      requests: CONCURRENCY * ROUNDS,
    });
    expect(Number(finding?.evidence.waitShare)).toBeGreaterThan(0.5);
    expect(Number(finding?.evidence.dbMsPerRequest)).toBeGreaterThanOrEqual(50);
    const size = Number(/connectionLimit: (\d+),/.exec(finding?.recommendation.code ?? '')?.[1]);
    expect(size).toBeGreaterThanOrEqual(CONCURRENCY / 2);
  });

  it('finds a createConnection per request, and advises one pool', () => {
    expect(found.perRequest).toHaveLength(1);
    const [finding] = found.perRequest;
    expect(finding?.key).toBe('mysql @opened');
    expect(finding?.evidence).toMatchObject({
      rule: 'new_connections',
      pooled: false,
      requests: CONCURRENCY * ROUNDS,
      requestsOpening: CONCURRENCY * ROUNDS,
      connectionsOpened: CONCURRENCY * ROUNDS,
      openShare: 1,
    });
    expect(Number(finding?.evidence.openMsPerRequest)).toBeGreaterThan(0);
    expect(finding?.recommendation.summary).toMatch(/^Reuse mysql connections: one pool of \d+/);
    expect(finding?.recommendation.code).toContain('mysql.createPool({');
  });

  it('stays silent when the pool has a connection for every concurrent request', () => {
    expect(found.healthy).toEqual([]);
  });
});
