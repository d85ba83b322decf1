/**
 * The shipped dashboards against a real Prometheus: `/usr/bin/prometheus`, configured from
 * the shipped prometheus.yml (target swapped for a test collector, intervals cut to 1 s),
 * scrapes a collector fed with demo-like traffic. Every panel query and every variable query,
 * with Grafana's macros expanded, must return data through Prometheus' HTTP API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningCollector, startCollector } from '../../collector/index.js';
import { ROOT } from '../support/agent-process.js';
import { postTraces } from '../support/otlp-fixtures.js';
import { expandQuery, loadDashboards, panelQueries } from './dashboards.js';
import { describeWithTools } from './tools.js';
import { demoTraffic, postMalformed, runtimeSamples } from './traffic.js';

/** What Grafana would substitute with a 1 s scrape interval; every variable on "All". */
const MACROS = {
  __rate_interval: '10s',
  job: '.*',
  instance: '.*',
  service: '.*',
  service_instance: '.*',
  system: '.*',
};

interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

const dashboards = loadDashboards();
const queries = panelQueries(dashboards).map((query) => ({
  ...query,
  name: `${query.file} "${query.panel.title}" ${query.target.refId}`,
}));
const variableQueries = dashboards.flatMap(({ file, dashboard }) =>
  dashboard.templating.list
    .filter((variable) => variable.type === 'query')
    .map((variable) => ({ name: `${file} $${variable.name}`, definition: variable.definition ?? '' })),
);

describeWithTools(['prometheus'], 'dashboards on a real Prometheus', () => {
  let dir: string;
  let collector: RunningCollector;
  let prometheus: ChildProcess | undefined;
  let prometheusUrl: string;
  let feeder: NodeJS.Timeout | undefined;
  const feedErrors: string[] = [];

  async function feed(): Promise<void> {
    for (const request of demoTraffic()) await postTraces(collector.otlpUrl, request);
    collector.pipeline.ingestRuntime(runtimeSamples(Date.now()));
    const status = await postMalformed(collector.otlpUrl);
    if (status !== 400) throw new Error(`malformed export answered ${status}`);
  }

  async function instantQuery(promql: string): Promise<PromResult[]> {
    const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: { result: PromResult[] };
    };
    if (body.status !== 'success') throw new Error(`Prometheus refused ${promql}: ${body.error}`);
    return body.data?.result ?? [];
  }

  /** Polls until `check` holds: Prometheus scrapes once a second, so fresh data can be a scrape away. */
  async function eventually<T>(
    read: () => Promise<T>,
    check: (value: T) => boolean,
    timeoutMs: number,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (check(value) || Date.now() > deadline) return value;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chokepoint-prometheus-'));
    collector = await startCollector({
      port: 0,
      otlpPort: 0,
      db: join(dir, 'collector.db'),
      detectIntervalMs: 250,
      quiet: true,
    });
    await feed();
    feeder = setInterval(() => {
      feed().catch((error: Error) => feedErrors.push(error.message));
    }, 500);

    const shipped = readFileSync(join(ROOT, 'prometheus.yml'), 'utf8');
    const config = shipped
      .replace('"127.0.0.1:7070"', `"${new URL(collector.dashboardUrl).host}"`)
      .replace(/scrape_interval: 15s/g, 'scrape_interval: 1s')
      .replace('scrape_timeout: 10s', 'scrape_timeout: 1s');
    expect(config).not.toBe(shipped);
    writeFileSync(join(dir, 'prometheus.yml'), config);
    prometheusUrl = await startPrometheus(dir, (child) => {
      prometheus = child;
    });
    const scrapes = await eventually(
      () => instantQuery('count_over_time(chokepoint_collector_spans_received_total[1m])'),
      (result) => Number(result[0]?.value[1] ?? 0) >= 4,
      15_000,
    );
    expect(Number(scrapes[0]?.value[1] ?? 0), 'scrapes of the collector').toBeGreaterThanOrEqual(4);
  });

  afterAll(async () => {
    clearInterval(feeder);
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus?.once('exit', resolve));
      prometheus.kill('SIGTERM');
      const timer = setTimeout(() => prometheus?.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await collector?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes the collector healthy, fed without a hitch', async () => {
    const [up] = await instantQuery('up{job="chokepoint"}');
    expect(up?.value[1]).toBe('1');
    expect(feedErrors).toEqual([]);
  });

  it.each(queries)('$name returns data', async ({ target }) => {
    const promql = expandQuery(target.expr, MACROS);
    const hasNumber = (result: PromResult[]) =>
      result.some((series) => Number.isFinite(Number(series.value[1])));
    const result = await eventually(() => instantQuery(promql), hasNumber, 6_000);
    expect(result.length, promql).toBeGreaterThan(0);
    expect(hasNumber(result), `only NaN from ${promql}`).toBe(true);
  });

  it.each(variableQueries)('$name lists values', async ({ definition }) => {
    const match = /^label_values\((.+), (\w+)\)$/.exec(definition);
    expect(match, definition).not.toBeNull();
    const [, selector = '', label = ''] = match ?? [];
    const url = `${prometheusUrl}/api/v1/label/${label}/values?match[]=${encodeURIComponent(expandQuery(selector, MACROS))}`;
    const body = (await (await fetch(url)).json()) as { status: string; data: string[] };
    expect(body.status).toBe('success');
    expect(body.data.length, definition).toBeGreaterThan(0);
  });
});

/** Starts Prometheus on a free port and resolves with its URL once it is ready. */
function startPrometheus(dir: string, started: (child: ChildProcess) => void): Promise<string> {
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--web.listen-address=127.0.0.1:0',
      '--log.level=info',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  started(child);
  return new Promise((resolve, reject) => {
    let log = '';
    let address: string | undefined;
    const timer = setTimeout(() => reject(new Error(`Prometheus did not become ready:\n${log}`)), 15_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      address ??= /msg="Listening on" address=(\S+)/.exec(log)?.[1];
      if (address && log.includes('Server is ready to receive web requests')) {
        clearTimeout(timer);
        resolve(`http://${address}`);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Prometheus exited with ${code}:\n${log}`));
    });
  });
}
