/**
 * hot_path_cpu on a synchronous driver, end to end: examples/playbook/sqlite-report-app.js
 * under the built agent scans a million-row better-sqlite3 table per request. The agent's
 * CPU profile lands in the native statement call under customerReport; the collector links
 * that hot path to the query's slow_query finding (whose captured plan gives the index) and
 * advises making the query cheaper rather than a generic worker thread. The same app with
 * the index stays silent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../../../model/index.js';
import { type AppRun, killApps, runWithAgent } from '../../../support/agent-process.js';
import { type CollectorRun, requestsFor, startCollectorRun } from './collector-run.js';

const APP = 'examples/playbook/sqlite-report-app.js';
/** Fast runtime samples, and the plan captured for statements over 20 ms (the default is 100). */
const AGENT_ENV = { CHOKEPOINT_RUNTIME_INTERVAL_MS: '250', CHOKEPOINT_EXPLAIN_THRESHOLD_MS: '20' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reports for one customer after another, for `ms`. */
const reports = (baseUrl: string, ms: number) =>
  requestsFor(ms, (customer) => fetch(`${baseUrl}/report?customer=${customer}`));

describe('hot_path_cpu inside a synchronous SQLite query', () => {
  let run: CollectorRun;
  let indexed: AppRun;
  let findings: Finding[];

  beforeAll(async () => {
    run = await startCollectorRun(APP, { service: 'report-scan', env: AGENT_ENV });
    indexed = runWithAgent(APP, {
      env: {
        ...AGENT_ENV,
        INDEX: '1',
        OTEL_SERVICE_NAME: 'report-indexed',
        OTEL_EXPORTER_OTLP_ENDPOINT: run.collector.otlpUrl,
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    const [, indexedPort] = await indexed.waitForStdout(/listening on (\d+)/);
    // As for pbkdf2 (hot-path-cpu.test.ts): a profile starts after the sample that saw stalls and runs
    // 2 s; 6 s of reports cover it even when a loaded machine makes the profiler slow to start.
    const counts = await Promise.all([
      reports(run.appUrl, 6_000),
      reports(`http://127.0.0.1:${indexedPort}`, 6_000),
    ]);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(2);
    await sleep(750);
    indexed.child.kill('SIGTERM');
    await indexed.exited;
    await run.finish();
    findings = await run.findings();
  }, 60_000);

  afterAll(async () => {
    killApps();
    await run?.close();
  });

  it('names the app function whose query holds the loop, linked to the slow query and its index', () => {
    const hot = findings.filter((finding) => finding.kind === 'hot_path_cpu');
    // On failure, say what was found and what the agent said (a profiler that could not start, say).
    const seen = JSON.stringify({ found: findings.map((f) => f.title), agent: run.app.agentLines() });
    expect(
      hot.map((finding) => finding.service),
      seen,
    ).toEqual(['report-scan']);
    const [finding] = hot;
    expect(finding?.evidence).toMatchObject({
      functionName: 'customerReport',
      url: APP,
      leaf: { functionName: 'get', url: '' },
    });
    const slowQuery = findings.find((f) => f.kind === 'slow_query' && f.service === 'report-scan');
    expect(slowQuery?.evidence).toMatchObject({ system: 'sqlite', tables: ['orders'] });
    expect(slowQuery?.recommendation.code).toContain('CREATE INDEX');
    expect(slowQuery?.recommendation.code).toContain('orders (customer_email)');
    expect(finding?.evidence.related).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: slowQuery?.id, kind: 'slow_query' })]),
    );
    expect(finding?.recommendation.summary).toBe(
      'Make the SQLite query in customerReport cheaper: better-sqlite3 runs it on the event loop',
    );
    expect(finding?.recommendation.detail).toContain(`“${slowQuery?.title}”`);
  });

  it('stays silent once the query uses its index', () => {
    expect(findings.filter((f) => f.service === 'report-indexed' && f.kind === 'hot_path_cpu')).toEqual([]);
  });
});
