/**
 * The collector's real `/metrics`, after real traffic, through Prometheus' own checker
 * (`promtool check metrics`): naming, units, types and help text. Fed first with demo-like
 * OTLP fixtures, then with spans from real pg, ioredis and amqplib calls made by an app
 * under the built agent (`npx tsc -p tsconfig.json` first). Secrets planted in SQL, keys,
 * URLs and messages must not reach any label.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type RunningCollector, startCollector } from '../../collector/index.js';
import { killApps, ROOT, runWithAgent } from '../support/agent-process.js';
import { postTraces } from '../support/otlp-fixtures.js';
import { parseExposition, type Sample, samplesOf, sampleValue } from '../support/prometheus-text.js';
import { describeWithServices } from '../support/services.js';
import { describeWithTools } from './tools.js';
import { demoTraffic, PLANTED, postMalformed, runtimeSamples } from './traffic.js';

function promtool(args: string[], input?: string) {
  const result = spawnSync('promtool', args, { cwd: ROOT, input, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

async function startTestCollector(dir: string): Promise<RunningCollector> {
  return startCollector({ port: 0, otlpPort: 0, db: join(dir, 'metrics.db'), quiet: true });
}

async function scrape(collector: RunningCollector): Promise<string> {
  const response = await fetch(`${collector.dashboardUrl}/metrics`);
  expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4');
  return response.text();
}

function expectNoSecrets(text: string, secrets: string[]): void {
  for (const secret of secrets) expect(text, `leaked ${secret}`).not.toContain(secret);
}

describeWithTools(['promtool'], 'prometheus.yml', () => {
  it('passes promtool check config', () => {
    const { status, output } = promtool(['check', 'config', 'prometheus.yml']);
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });
});

describeWithTools(['promtool'], '/metrics after demo-like traffic', () => {
  let dir: string;
  let collector: RunningCollector;
  let text: string;
  let samples: Sample[];
  let spansSent: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chokepoint-metrics-'));
    collector = await startTestCollector(dir);
    const requests = [demoTraffic(), demoTraffic(), demoTraffic()].flat();
    for (const request of requests) await postTraces(collector.otlpUrl, request);
    spansSent = requests
      .flatMap((request) => request.resourceSpans)
      .flatMap((resource) => resource.scopeSpans)
      .reduce((count, scope) => count + scope.spans.length, 0);
    expect(await postMalformed(collector.otlpUrl)).toBe(400);
    collector.pipeline.ingestRuntime(runtimeSamples(Date.now()));
    await collector.flush();
    text = await scrape(collector);
    samples = parseExposition(text);
  });

  afterAll(async () => {
    await collector?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes promtool check metrics with no lint problem', () => {
    const { status, output } = promtool(['check', 'metrics'], text);
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it('has every series family the dashboards read, from this traffic', () => {
    const series = (name: string, labels: Record<string, string> = {}) =>
      samplesOf(samples, name, labels).length;
    expect(series('chokepoint_http_server_request_duration_seconds_count', { route: '/orders/:id' })).toBe(1);
    expect(
      series('chokepoint_http_server_request_errors_total', { method: 'POST', route: '/checkout/{id}' }),
    ).toBe(1);
    expect(series('chokepoint_db_query_info', { system: 'postgresql' })).toBe(3);
    expect(
      sampleValue(samples, 'chokepoint_cache_lookups_total', {
        key_pattern: 'session:{uuid}',
        outcome: 'hit',
      }),
    ).toBe(3);
    expect(
      sampleValue(samples, 'chokepoint_cache_lookups_total', {
        key_pattern: 'user:{id}:profile',
        outcome: 'miss',
      }),
    ).toBe(6);
    expect(
      sampleValue(samples, 'chokepoint_queue_messages_total', { service: 'worker', role: 'consume' }),
    ).toBe(3);
    expect(sampleValue(samples, 'chokepoint_queue_lag_seconds_sum', { destination: 'orders' })).toBeCloseTo(
      4.5,
    );
    expect(sampleValue(samples, 'chokepoint_pattern_occurrences_total', { kind: 'n_plus_one' })).toBe(3);
    expect(sampleValue(samples, 'chokepoint_findings_open', { kind: 'slow_query', service: 'shop' })).toBe(1);
    expect(sampleValue(samples, 'chokepoint_collector_requests_rejected_total', { reason: '400' })).toBe(1);
    expect(sampleValue(samples, 'chokepoint_collector_spans_received_total')).toBe(spansSent);
    expect(series('chokepoint_runtime_rss_bytes', { service: 'shop' })).toBe(2);
  });

  it('carries no literal, key value, id or email in any label', () => {
    expectNoSecrets(text, Object.values(PLANTED));
  });
});

await describeWithServices(['postgres', 'redis', 'rabbitmq'], '/metrics after real driver spans', () => {
  describeWithTools(['promtool'], 'through the agent', () => {
    const planted = {
      PLANTED_EMAIL: 'zoe.private@example.org',
      PLANTED_TOKEN: randomUUID(),
      PLANTED_ID: '918273645',
      QUEUE: 'chokepoint-metrics-orders',
    };
    let dir: string;
    let collector: RunningCollector;
    let text: string;
    let samples: Sample[];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'chokepoint-metrics-real-'));
      collector = await startTestCollector(dir);
      const app = runWithAgent('test/metrics/fixtures/traffic-app.js', {
        env: {
          ...planted,
          OTEL_SERVICE_NAME: 'metrics-traffic',
          OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpUrl,
          OTEL_BSP_SCHEDULE_DELAY: '100',
        },
      });
      const { code } = await app.exited;
      expect(code, app.stderr()).toBe(0);
      expect(app.stdout()).toContain('traffic done');
      await collector.flush();
      text = await scrape(collector);
      samples = parseExposition(text);
    });

    afterEach(() => killApps());

    afterAll(async () => {
      await collector?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('passes promtool check metrics with no lint problem', () => {
      const { status, output } = promtool(['check', 'metrics'], text);
      expect(output).toBe('');
      expect(status).toBe(0);
    });

    it('times the request under its templated route and each statement under its fingerprint', () => {
      const service = { service: 'metrics-traffic' };
      expect(
        sampleValue(samples, 'chokepoint_http_server_request_duration_seconds_count', {
          ...service,
          route: '/users/{id}',
        }),
      ).toBe(1);
      const statements = samplesOf(samples, 'chokepoint_db_query_info', { ...service, system: 'postgresql' });
      const looped = statements.find((sample) => sample.labels.fingerprint?.includes('doubled'));
      expect(looped?.labels.fingerprint).toContain('?');
      expect(
        sampleValue(samples, 'chokepoint_db_queries_total', {
          ...service,
          fingerprint_id: looped?.labels.fingerprint_id ?? '',
        }),
      ).toBe(6);
      expect(statements.some((sample) => sample.labels.fingerprint?.includes('as email'))).toBe(true);
      expect(
        sampleValue(samples, 'chokepoint_pattern_occurrences_total', { ...service, kind: 'n_plus_one' }),
      ).toBe(1);
    });

    it('counts the Redis commands and the RabbitMQ message on both sides', () => {
      const service = { service: 'metrics-traffic' };
      const commands = samplesOf(samples, 'chokepoint_cache_command_duration_seconds_count', service);
      expect(
        Object.fromEntries(commands.map((sample) => [sample.labels.command, sample.value])),
      ).toMatchObject({
        GET: 2,
        SET: 1,
      });
      const messages = samplesOf(samples, 'chokepoint_queue_messages_total', {
        ...service,
        destination: planted.QUEUE,
      });
      expect(messages.map((sample) => [sample.labels.role, sample.value]).sort()).toEqual([
        ['consume', 1],
        ['publish', 1],
      ]);
    });

    it('carries none of the email, token or id the app sent', () => {
      expectNoSecrets(text, [planted.PLANTED_EMAIL, planted.PLANTED_TOKEN, planted.PLANTED_ID]);
    });
  });
});
