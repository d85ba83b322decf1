/**
 * A stalled event loop stretching an asynchronous driver's queries, end to end: the fixture
 * app under the built agent reads PostgreSQL rows by primary key while another route holds
 * the loop with 200 ms of synchronous work. The pg replies wait for the loop, so the lookup
 * turns into a slow_query; the collector links it to the service's event_loop_blocked and
 * advises unblocking the loop before touching the query. The same app, never stalled, answers
 * the same lookups fast.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../../../../model/index.js';
import { type AppRun, killApps, runWithAgent } from '../../../support/agent-process.js';
import { describeWithServices } from '../../../support/services.js';
import { type CollectorRun, requestsFor, startCollectorRun } from './collector-run.js';

const APP = 'test/collector/detect/fixtures/apps/stalled-loop-app.js';
const SAMPLING = { CHOKEPOINT_RUNTIME_INTERVAL_MS: '250' };
const LOAD_MS = 4_000;
const IN_FLIGHT = 8;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Account lookups one after another, for `ms`. */
const lookups = (baseUrl: string, ms: number) =>
  requestsFor(ms, (i) => fetch(`${baseUrl}/accounts/${(i % 20_000) + 1}`));

/** A 200 ms stall after every 20 ms of free loop, for `ms`. */
async function stalls(baseUrl: string, ms: number): Promise<number> {
  const end = Date.now() + ms;
  let count = 0;
  while (Date.now() < end) {
    expect((await fetch(`${baseUrl}/rebuild`)).status).toBe(200);
    count += 1;
    await sleep(20);
  }
  return count;
}

await describeWithServices(['postgres'], 'a stalled event loop behind slow primary-key lookups', () => {
  let run: CollectorRun;
  let calm: AppRun;
  let findings: Finding[];
  /** The lookup's latency by service, from /api/queries (whether or not a finding names it). */
  let lookupP95Ms: Map<string, number>;

  beforeAll(async () => {
    run = await startCollectorRun(APP, { service: 'accounts-stalled', env: SAMPLING });
    calm = runWithAgent(APP, {
      env: {
        ...SAMPLING,
        OTEL_SERVICE_NAME: 'accounts-calm',
        OTEL_EXPORTER_OTLP_ENDPOINT: run.collector.otlpUrl,
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    const [, calmPort] = await calm.waitForStdout(/listening on (\d+)/);
    const calmUrl = `http://127.0.0.1:${calmPort}`;
    const [stalledLookups, stallCount, calmLookups] = await Promise.all([
      // Lookups in flight all the time, as in a busy service: a stall holds the replies of those under way.
      Promise.all(Array.from({ length: IN_FLIGHT }, () => lookups(run.appUrl, LOAD_MS))),
      stalls(run.appUrl, LOAD_MS),
      lookups(calmUrl, LOAD_MS),
    ]);
    expect(Math.min(...stalledLookups)).toBeGreaterThanOrEqual(5);
    expect(stallCount).toBeGreaterThanOrEqual(5);
    expect(calmLookups).toBeGreaterThanOrEqual(20);
    await sleep(500);
    calm.child.kill('SIGTERM');
    await calm.exited;
    await run.finish();
    findings = await run.findings();
    const { queries } = (await (
      await fetch(`${run.collector.dashboardUrl}/api/queries?since=1h`)
    ).json()) as {
      queries: Array<{ service: string; tables: string[]; statementType: string; p95Ms: number }>;
    };
    lookupP95Ms = new Map(
      queries
        .filter(
          (query) => query.statementType === 'select' && query.tables[0] === 'chokepoint_stalled_accounts',
        )
        .map((query) => [query.service, query.p95Ms]),
    );
  }, 60_000);

  afterAll(async () => {
    killApps();
    await run?.close();
  });

  it('links the stretched lookup to the stall and advises unblocking the loop first', () => {
    const ofStalled = findings.filter((finding) => finding.service === 'accounts-stalled');
    const seen = JSON.stringify(ofStalled.map((finding) => [finding.kind, finding.title]));
    const blocked = ofStalled.find((finding) => finding.kind === 'event_loop_blocked');
    const lookup = ofStalled.find(
      (finding) => finding.kind === 'slow_query' && finding.evidence.system === 'postgresql',
    );
    expect(blocked, seen).toBeDefined();
    expect(lookup, seen).toBeDefined();
    expect(lookup?.evidence.tables).toEqual(['chokepoint_stalled_accounts']);
    expect(lookupP95Ms.get('accounts-stalled')).toBeGreaterThanOrEqual(100);
    expect(lookup?.title).toMatch(/^Slow SELECT on chokepoint_stalled_accounts: p95 /);
    expect(lookup?.evidence.related).toEqual([
      expect.objectContaining({ id: blocked?.id, kind: 'event_loop_blocked' }),
    ]);
    expect(lookup?.recommendation.summary).toBe(
      'Unblock the event loop first: its stalls are counted in this query’s time',
    );
    expect(lookup?.recommendation.detail).toContain(`“${blocked?.title}”`);
  });

  it('leaves the same lookups fast on a loop that never stalls', () => {
    // Only the latency is asserted: on a loaded 2-core machine, 250 ms runtime samples of an app
    // serving flat out may show a stall or GC pressure of their own (runtime.test.ts has an idle app).
    expect(lookupP95Ms.get('accounts-calm')).toBeLessThan(100);
    const lookup = findings.find(
      (finding) => finding.service === 'accounts-calm' && finding.kind === 'slow_query',
    );
    // It may be named for its share of the service's database time, never as slow.
    expect(lookup?.title ?? 'none').not.toMatch(/^Slow /);
  });
});
