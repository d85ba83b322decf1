/**
 * The collector goes away while an app under load exports to it, then comes back on the
 * same port. A real collector (`startCollector`, closed and started again in this process),
 * a real app under the built agent with short export settings; the long outage, with a
 * collector killed outright and the agent's defaults, is test/resilience/outage.test.ts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { type RunningCollector, startCollector } from '../../collector/index.js';
import { killApps } from '../support/agent-process.js';
import { loadFor, loadUntil, rssOf, startLoadedApp, until } from '../support/outage.js';

const directory = mkdtempSync(join(tmpdir(), 'chokepoint-outage-'));
const collectors: RunningCollector[] = [];

afterAll(async () => {
  killApps();
  for (const collector of collectors) await collector.close().catch(() => {});
});

async function collectorOn(otlpPort: number, name: string): Promise<RunningCollector> {
  const collector = await startCollector({
    otlpPort,
    port: 0,
    db: join(directory, `${name}.db`),
    quiet: true,
  });
  collectors.push(collector);
  return collector;
}

it('keeps answering every request with bounded memory while the collector is down, and exports again once it is back', async () => {
  const first = await collectorOn(0, 'first');
  const otlpPort = Number(new URL(first.otlpUrl).port);
  const app = await startLoadedApp('test/agent/fixtures/http-app.js', '/', {
    OTEL_EXPORTER_OTLP_ENDPOINT: first.otlpUrl,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
    CHOKEPOINT_RUNTIME_INTERVAL_MS: '250',
    // A stall on a busy machine would start a CPU profile, and its own warning is not this test's.
    CHOKEPOINT_PROFILE: 'off',
  });

  // Up: spans and runtime samples arrive, and the collector takes both.
  const counters = first.pipeline.counters;
  const warmUp = await loadUntil(
    app.url,
    until(
      () => counters.spansReceived > 200 && counters.runtimeSamplesReceived > 0,
      10_000,
      'spans and a runtime sample before the outage',
    ),
  );
  expect(warmUp.failures).toEqual([]);
  const rssBefore = rssOf(app.pid);

  // Down, under load for 4 s.
  await first.close();
  const down = await loadFor(app, 4_000);

  // Back on the same port: spans arrive again.
  const second = await collectorOn(otlpPort, 'second');
  const recovery = await loadUntil(
    app.url,
    until(() => second.pipeline.counters.spansReceived > 0, 10_000, 'spans after the restart'),
  );

  expect(down.requests).toBeGreaterThan(100);
  expect(down.failures).toEqual([]);
  expect(recovery.failures).toEqual([]);
  expect(Math.max(...down.rss) - rssBefore).toBeLessThan(64 * 2 ** 20);
  expect(second.pipeline.counters.spansReceived).toBeGreaterThan(0);
  // One line per kind of loss, rate-limited: runtime samples and spans.
  expect(app.run.agentLines().sort()).toEqual([
    expect.stringMatching(
      /^chokepoint: cannot export runtime samples: .* runtime sample\(s\) dropped so far/,
    ),
    expect.stringMatching(/^chokepoint: cannot export spans: .* span\(s\) dropped so far/),
  ]);
}, 30_000);
