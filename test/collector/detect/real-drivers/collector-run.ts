/**
 * A fixture app under the built agent, exporting to a real collector on ephemeral ports
 * with its own SQLite file: what the real-driver detector suites share.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CollectorOptions, type RunningCollector, startCollector } from '../../../../collector/index.js';
import type { Finding } from '../../../../model/index.js';
import { type AppRun, runWithAgent } from '../../../support/agent-process.js';

export interface CollectorRun {
  collector: RunningCollector;
  app: AppRun;
  appUrl: string;
  /** Stops the app (the agent flushes on SIGTERM), then completes detection in the collector. */
  finish(): Promise<void>;
  findings(): Promise<Finding[]>;
  close(): Promise<void>;
}

/**
 * @example
 * const run = await startCollectorRun('test/collector/detect/fixtures/apps/http-app.js', { service: 'shop' });
 * await fetch(`${run.appUrl}/orders/42`);
 * await run.finish();
 * const findings = await run.findings();
 */
export async function startCollectorRun(
  fixture: string,
  options: { service: string; env?: Record<string, string>; collector?: Partial<CollectorOptions> },
): Promise<CollectorRun> {
  const db = join(mkdtempSync(join(tmpdir(), 'chokepoint-real-')), 'findings.db');
  const collector = await startCollector({ otlpPort: 0, port: 0, db, quiet: true, ...options.collector });
  const app = runWithAgent(fixture, {
    env: {
      OTEL_SERVICE_NAME: options.service,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpUrl,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      ...options.env,
    },
  });
  const [, port] = await app.waitForStdout(/listening on (\d+)/);
  return {
    collector,
    app,
    appUrl: `http://127.0.0.1:${port}`,
    async finish() {
      app.child.kill('SIGTERM');
      await app.exited;
      await collector.flush();
    },
    async findings() {
      const response = await fetch(`${collector.dashboardUrl}/api/findings`);
      return ((await response.json()) as { findings: Finding[] }).findings;
    },
    close: () => collector.close(),
  };
}

/**
 * Sends one request after another for `ms` (each must answer 200) and resolves with how many were sent.
 *
 * @example
 * const count = await requestsFor(4_000, (i) => fetch(`${run.appUrl}/report?customer=${i}`));
 */
export async function requestsFor(ms: number, send: (index: number) => Promise<Response>): Promise<number> {
  const end = Date.now() + ms;
  let count = 0;
  while (Date.now() < end) {
    const response = await send(count);
    if (response.status !== 200) throw new Error(`request ${count}: HTTP ${response.status}`);
    await response.arrayBuffer();
    count += 1;
  }
  return count;
}
