/**
 * Outage: an app on real Postgres and Redis serves steady load under the built agent (its
 * default export settings) while its collector — the CLI in a child process — is killed
 * with SIGKILL and stays down for 30 s, then restarts on the same port and file.
 *
 * No app request fails, and export resumes: the restarted collector receives spans and
 * turns the app's N+1 into a finding seen after the restart. Memory is bounded: the agent
 * keeps at most its queue bound (`OTEL_BSP_MAX_QUEUE_SIZE`, 8192 spans by default) waiting,
 * encoded, plus a batch of 2048 being exported, and drops the rest, counted. The app, loaded
 * flat out, ends more spans than that during the outage (at the paced load, 9.5k on a busy machine
 * fell short of the bound). What it retains (read after a
 * full garbage collection, 3 s before the collector comes back) stays within 16 MiB of its
 * level before the outage (+9.1 MiB measured: the 10,240 spans held, encoded, and the buffers
 * grown to hold them); its RSS, which also counts the heap V8 grows under load ahead of what it
 * retains, within 96 MiB (+31 MiB on an idle machine, +61 MiB in a busy CI run). The agent says
 * so on stderr at most once per kind of loss.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { Finding } from '../../model/index.js';
import { killApps } from '../support/agent-process.js';
import { loadFor, loadUntil, retainedBytes, rssOf, sleep, startLoadedApp, until } from '../support/outage.js';
import { describeWithServices } from '../support/services.js';
import { killCollectorProcesses, startCollectorProcess } from './collector-process.js';

const OUTAGE_MS = 30_000;
/** What the app may retain beyond its level before: the queue's spans, encoded, and the buffers that held them. */
const RETAINED_BOUND_BYTES = 16 * 2 ** 20;
/** What the OS may see beyond that: V8 grows its heap under load well ahead of what it retains. */
const RSS_BOUND_BYTES = 96 * 2 ** 20;
/** The most spans the agent holds by default: `OTEL_BSP_MAX_QUEUE_SIZE` waiting plus a batch of 2048 in flight. */
const HELD_BOUND = 8192 + 2048;
/** Spans one `/orders` request ends: the server span, six Postgres queries, a Redis GET. */
const SPANS_PER_REQUEST = 8;
/**
 * Steady load the collector keeps up with on a busy 2-core machine: flat out, the app ends
 * spans faster than one export at a time ships them, the queue stays full after the restart
 * and traces reach the collector in pieces.
 */
const PACE = { clients: 8, pauseMs: 20 };
/** While the collector is down there is nothing to keep up with: as many spans as the app can end. */
const FLAT_OUT = { clients: 8, pauseMs: 0 };

async function spansReceived(dashboardUrl: string): Promise<number> {
  const metrics = await (await fetch(`${dashboardUrl}/metrics`)).text();
  return Number(/^chokepoint_collector_spans_received_total (\d+)/m.exec(metrics)?.[1] ?? 0);
}

async function findings(dashboardUrl: string): Promise<Finding[]> {
  return ((await (await fetch(`${dashboardUrl}/api/findings`)).json()) as { findings: Finding[] }).findings;
}

await describeWithServices(
  ['postgres', 'redis'],
  'collector down while an instrumented app serves load',
  () => {
    const workDir = mkdtempSync(join(tmpdir(), 'chokepoint-outage-'));
    const db = join(workDir, 'collector.db');

    afterAll(() => {
      killApps();
      killCollectorProcesses();
      rmSync(workDir, { recursive: true, force: true });
    });

    it('answers every request with bounded memory, and exports again once the collector is back', async () => {
      const first = await startCollectorProcess({ db });
      const otlpPort = Number(new URL(first.otlpUrl).port);
      const app = await startLoadedApp('test/resilience/fixtures/orders-app.js', '/orders', {
        OTEL_SERVICE_NAME: 'orders-outage',
        OTEL_EXPORTER_OTLP_ENDPOINT: first.otlpUrl,
        PG_SCHEMA: `chokepoint_outage_${process.pid}`,
      });

      const before = await loadUntil(
        app.url,
        until(
          async () => (await spansReceived(first.dashboardUrl)) > 1_000,
          30_000,
          'spans before the outage',
        ),
        PACE,
      );
      const rssBefore = rssOf(app.pid);
      const retainedBefore = await retainedBytes(app);

      first.child.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      const outage = loadFor(app, OUTAGE_MS, FLAT_OUT);
      await sleep(OUTAGE_MS - 3_000);
      const retainedDown = await retainedBytes(app);
      const down = await outage;

      const restartedAt = Date.now();
      const second = await startCollectorProcess({ db, otlpPort });
      const after = await loadUntil(
        app.url,
        until(
          async () =>
            (await findings(second.dashboardUrl)).some(
              (finding) =>
                finding.service === 'orders-outage' &&
                finding.kind === 'n_plus_one' &&
                Date.parse(finding.lastSeen) >= restartedAt,
            ),
          30_000,
          'an N+1 finding from spans exported after the restart',
        ),
        PACE,
      );

      expect(before.failures).toEqual([]);
      expect(down.failures).toEqual([]);
      expect(after.failures).toEqual([]);
      // More spans ended while the collector was down than the agent can hold: the bound was reached.
      expect(down.requests * SPANS_PER_REQUEST).toBeGreaterThan(HELD_BOUND);
      expect(retainedDown - retainedBefore).toBeLessThan(RETAINED_BOUND_BYTES);
      expect(Math.max(...down.rss) - rssBefore).toBeLessThan(RSS_BOUND_BYTES);
      expect(await spansReceived(second.dashboardUrl)).toBeGreaterThan(0);
      // Whichever loss comes first (the queue filling while exports retry, or a refused export) is told, once.
      const spanWarnings = app.run.agentLines().filter((line) => line.includes('span(s) dropped so far'));
      expect(spanWarnings).toHaveLength(1);
      expect(spanWarnings[0]).toMatch(/span queue full \(\d+ spans waiting for export\)|cannot export spans/);

      app.run.child.kill('SIGTERM');
      await app.run.exited;
    }, 120_000);
  },
);
