/**
 * Outage: an app on real Postgres and Redis serves steady load under the built agent (its
 * default export settings) while its collector — the CLI in a child process — is killed
 * with SIGKILL and stays down for 8 s, then restarts on the same port and file. Kept short
 * for CI: a longer outage only repeats the drop path the first seconds already exercise.
 *
 * No app request fails; the app's RSS stays within 48 MiB of its level before the outage
 * (the agent holds a bounded number of spans waiting (8192 by default) and drops the rest, counted); and export
 * resumes: the restarted collector receives spans and turns the app's N+1 into a finding
 * seen after the restart. The agent says so on stderr at most once per kind of loss.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { Finding } from '../../model/index.js';
import { killApps, runWithAgent } from '../support/agent-process.js';
import { describeWithServices } from '../support/services.js';
import { killCollectorProcesses, startCollectorProcess } from './collector-process.js';

const OUTAGE_MS = 8_000;
const RSS_BOUND_BYTES = 48 * 2 ** 20;
const CLIENTS = 8;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function rssOf(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) * 1024;
}

interface Load {
  requests: number;
  failures: string[];
}

/** `CLIENTS` clients requesting `url` back to back until `stop` settles. */
async function loadUntil(url: string, stop: Promise<unknown>): Promise<Load> {
  const load: Load = { requests: 0, failures: [] };
  let stopped = false;
  const settled = stop.finally(() => {
    stopped = true;
  });
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (!stopped) {
        try {
          const response = await fetch(url);
          await response.text();
          load.requests += 1;
          if (response.status !== 200) load.failures.push(`HTTP ${response.status}`);
        } catch (error) {
          load.failures.push(String(error));
        }
      }
    }),
  );
  await settled;
  return load;
}

/** Polls until `check` resolves truthy; rejects after `timeoutMs`. */
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

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
      const app = runWithAgent('test/resilience/fixtures/orders-app.js', {
        env: {
          OTEL_SERVICE_NAME: 'orders-outage',
          OTEL_EXPORTER_OTLP_ENDPOINT: first.otlpUrl,
          PG_SCHEMA: `chokepoint_outage_${process.pid}`,
        },
      });
      const [, appPort] = await app.waitForStdout(/listening on (\d+)/);
      const url = `http://127.0.0.1:${appPort}/orders`;
      const pid = app.child.pid as number;

      const before = await loadUntil(
        url,
        until(
          async () => (await spansReceived(first.dashboardUrl)) > 1_000,
          15_000,
          'spans before the outage',
        ),
      );
      const rssBefore = rssOf(pid);

      first.child.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      const rss: number[] = [];
      const sampling = setInterval(() => rss.push(rssOf(pid)), 200);
      const down = await loadUntil(url, sleep(OUTAGE_MS));
      clearInterval(sampling);

      const restartedAt = Date.now();
      const second = await startCollectorProcess({ db, otlpPort });
      const after = await loadUntil(
        url,
        until(
          async () =>
            (await findings(second.dashboardUrl)).some(
              (finding) =>
                finding.service === 'orders-outage' &&
                finding.kind === 'n_plus_one' &&
                Date.parse(finding.lastSeen) >= restartedAt,
            ),
          20_000,
          'an N+1 finding from spans exported after the restart',
        ),
      );

      expect(before.failures).toEqual([]);
      expect(down.failures).toEqual([]);
      expect(after.failures).toEqual([]);
      expect(down.requests).toBeGreaterThan(100);
      expect(Math.max(...rss) - rssBefore).toBeLessThan(RSS_BOUND_BYTES);
      expect(await spansReceived(second.dashboardUrl)).toBeGreaterThan(0);
      // Whichever loss comes first (the queue filling while exports retry, or a refused export) is told, once.
      const spanWarnings = app.agentLines().filter((line) => line.includes('span(s) dropped so far'));
      expect(spanWarnings).toHaveLength(1);
      expect(spanWarnings[0]).toMatch(/span queue full \(\d+ spans waiting for export\)|cannot export spans/);

      app.child.kill('SIGTERM');
      await app.exited;
    });
  },
);
