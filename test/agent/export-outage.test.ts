/**
 * The collector goes away while an app under load exports to it, then comes back on the
 * same port. A real collector (`startCollector`), a real app under the built agent.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { type RunningCollector, startCollector } from '../../collector/index.js';
import { killApps, runWithAgent } from '../support/agent-process.js';

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

/** Resident set size of a process, from /proc (Linux), in bytes. */
function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB$/m);
  return Number(line?.[1]) * 1024;
}

interface Load {
  requests: number;
  failures: string[];
}

/** `concurrency` clients requesting `url` back to back until `stop()` resolves. */
async function loadUntil(url: string, concurrency: number, stop: Promise<unknown>): Promise<Load> {
  const load: Load = { requests: 0, failures: [] };
  let stopped = false;
  void stop.then(() => {
    stopped = true;
  });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
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
  return load;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

it('keeps answering every request with bounded memory while the collector is down, and exports again once it is back', async () => {
  const first = await collectorOn(0, 'first');
  const otlpPort = Number(new URL(first.otlpUrl).port);
  const app = runWithAgent('test/agent/fixtures/http-app.js', {
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: first.otlpUrl,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
      CHOKEPOINT_RUNTIME_INTERVAL_MS: '250',
    },
  });
  const [, appPort] = await app.waitForStdout(/listening on (\d+)/);
  const url = `http://127.0.0.1:${appPort}/`;
  const pid = app.child.pid ?? 0;

  // Up: spans and runtime samples arrive, and the collector takes both.
  const counters = first.pipeline.counters;
  const warmUp = loadUntil(
    url,
    8,
    until(() => counters.spansReceived > 200 && counters.runtimeSamplesReceived > 0, 10_000),
  );
  expect((await warmUp).failures).toEqual([]);
  const rssBefore = rssOf(pid);

  // Down, under load for 4 s.
  await first.close();
  const rss: number[] = [];
  const outage = loadUntil(url, 8, sleep(4000));
  const sampling = setInterval(() => rss.push(rssOf(pid)), 200);
  const down = await outage;
  clearInterval(sampling);

  // Back on the same port: spans arrive again.
  const second = await collectorOn(otlpPort, 'second');
  const recovery = await loadUntil(
    url,
    8,
    until(() => second.pipeline.counters.spansReceived > 0, 10_000),
  );

  expect(down.requests).toBeGreaterThan(100);
  expect(down.failures).toEqual([]);
  expect(recovery.failures).toEqual([]);
  expect(Math.max(...rss) - rssBefore).toBeLessThan(64 * 2 ** 20);
  expect(second.pipeline.counters.spansReceived).toBeGreaterThan(0);
  // One line per kind of loss, rate-limited: runtime samples and spans.
  expect(app.agentLines().sort()).toEqual([
    expect.stringMatching(
      /^chokepoint: cannot export runtime samples: .* runtime sample\(s\) dropped so far/,
    ),
    expect.stringMatching(/^chokepoint: cannot export spans: .* span\(s\) dropped so far/),
  ]);
}, 30_000);
