/**
 * dependency_resilience for databases, caches and brokers on real traffic:
 * examples/playbook/datastore-app.js under the built agent, with real pg, ioredis and amqplib
 * clients. With FAULTS=1 its statements hit statement_timeout or a missing table, its Redis is a
 * closed port and its publishes are nacked; without, the same routes run against healthy servers.
 * A nack comes back in about a millisecond: twelve of them hold the requests far less than the
 * default 100 ms/min impact floor (unit fixtures cover that floor), so both runs use 10 ms/min
 * and judge the failure rate itself, the healthy run included.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../../../../model/index.js';
import { killApps } from '../../../support/agent-process.js';
import { describeWithServices } from '../../../support/services.js';
import { type CollectorRun, startCollectorRun } from './collector-run.js';

const REQUESTS = 12;
const ROUTES = ['/report', '/legacy', '/product', '/order'];

async function dependencyFindings(faults: boolean): Promise<{ run: CollectorRun; findings: Finding[] }> {
  const run = await startCollectorRun('examples/playbook/datastore-app.js', {
    service: faults ? 'datastores-failing' : 'datastores-healthy',
    env: faults ? { FAULTS: '1' } : {},
    collector: { detection: { dependencyMinImpact: 10 } },
  });
  for (const route of ROUTES) {
    for (let i = 0; i < REQUESTS; i++) {
      const { status } = await fetch(run.appUrl + route);
      expect(status, route).toBe(faults ? 503 : 200);
    }
  }
  await run.finish();
  const findings = (await run.findings()).filter((finding) => finding.kind === 'dependency_resilience');
  return { run, findings };
}

await describeWithServices(
  ['postgres', 'redis', 'rabbitmq'],
  'dependency_resilience from real datastores',
  () => {
    const runs: CollectorRun[] = [];
    let failing: Finding[];
    let healthy: Finding[];

    beforeAll(async () => {
      const broken = await dependencyFindings(true);
      const fine = await dependencyFindings(false);
      runs.push(broken.run, fine.run);
      failing = broken.findings;
      healthy = fine.findings;
    }, 30_000);

    afterAll(async () => {
      killApps();
      await Promise.all(runs.map((run) => run.close()));
    });

    const bySystem = (system: string) => failing.find((finding) => finding.evidence.system === system);

    it('finds Postgres failing: statement timeouts and a missing table, told apart', () => {
      const finding = bySystem('postgresql');
      expect(finding?.key).toBe('postgresql 127.0.0.1:5432');
      expect(finding?.evidence).toMatchObject({
        dependency: 'database',
        failed: 2 * REQUESTS,
        timeouts: REQUESTS,
        errorKinds: { timeout: REQUESTS, connection: 0, rejected: REQUESTS },
      });
      // The statements, plus the connections the pool opened.
      expect(Number(finding?.evidence.calls)).toBeGreaterThan(2 * REQUESTS);
      expect(finding?.evidence.failing).toEqual(
        expect.arrayContaining([
          { call: 'select pg_sleep(?)', failures: REQUESTS },
          { call: 'select * from chokepoint_orders_v1', failures: REQUESTS },
        ]),
      );
      expect(finding?.recommendation.code).toContain('statement_timeout:');
      expect(finding?.recommendation.detail).toContain('`select * from chokepoint_orders_v1`');
    });

    it('finds the unreachable Redis, with ioredis settings', () => {
      const finding = bySystem('redis');
      expect(finding?.evidence).toMatchObject({
        dependency: 'cache',
        calls: REQUESTS,
        failed: REQUESTS,
        errorKinds: { connection: REQUESTS },
      });
      expect(finding?.recommendation.code).toContain('commandTimeout:');
    });

    it('finds the nacked publishes, with a confirm channel in the fix', () => {
      const finding = bySystem('rabbitmq');
      expect(finding?.key).toBe('rabbitmq 127.0.0.1:5672');
      expect(finding?.evidence).toMatchObject({ dependency: 'queue', calls: REQUESTS, failed: REQUESTS });
      expect(finding?.recommendation.code).toContain('createConfirmChannel()');
    });

    it('stays silent when the same routes run against healthy servers', () => {
      expect(failing).toHaveLength(3);
      expect(healthy).toEqual([]);
    });
  },
);
