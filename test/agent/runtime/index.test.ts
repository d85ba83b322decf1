/**
 * Runtime sampling in an app under the built agent: samples reach `/v1/runtime` with the
 * app's identity, the optional Prometheus endpoint serves, and neither touches the app's
 * own prom-client registry nor shows up among its spans.
 */
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleIdentity } from '../../../agent/runtime/index.js';
import { SpanKind } from '../../../model/index.js';
import { killApps, runWithAgent } from '../../support/agent-process.js';
import { type OtlpCapture, startOtlpCapture } from '../../support/otlp-capture.js';

describe('sampleIdentity', () => {
  it('names the process by service.instance.id, else host and pid', () => {
    expect(
      sampleIdentity(
        resourceFromAttributes({
          'service.name': 'shop',
          'service.version': '1.4.0',
          'service.instance.id': 'web-1',
        }),
      ),
    ).toEqual({ service: 'shop', serviceVersion: '1.4.0', instanceId: 'web-1' });
    expect(sampleIdentity(resourceFromAttributes({ 'service.name': 'shop', 'host.name': 'web-2' }))).toEqual({
      service: 'shop',
      serviceVersion: undefined,
      instanceId: `web-2:${process.pid}`,
    });
    expect(sampleIdentity(resourceFromAttributes({})).instanceId).toBe(`${hostname()}:${process.pid}`);
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('an app under the agent', () => {
  let capture: OtlpCapture;
  beforeEach(async () => {
    capture = await startOtlpCapture();
  });
  afterEach(async () => {
    killApps();
    await capture.close();
  });

  it('reports runtime samples, serves Prometheus text on request, and keeps both out of the app’s data', async () => {
    const app = runWithAgent('test/agent/fixtures/runtime-app.js', {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: capture.url,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        CHOKEPOINT_RUNTIME_INTERVAL_MS: '200',
        CHOKEPOINT_METRICS_PORT: '0',
        // A stall on a busy machine would start a CPU profile, whose warning would join the one line expected.
        CHOKEPOINT_PROFILE: 'off',
      },
    });
    const [, port] = await app.waitForStdout(/listening on (\d+)/);
    expect(await (await fetch(`http://127.0.0.1:${port}/order`)).text()).toBe('ordered');

    const samples = await capture.waitForRuntime((received) => received.length >= 2);
    expect(samples[1]).toMatchObject({
      service: 'fixture-shop',
      serviceVersion: '1.2.3',
      instanceId: `${hostname()}:${app.child.pid}`,
      eventLoopLag: expect.objectContaining({ p99Ms: expect.any(Number) }),
      memory: expect.objectContaining({ rssBytes: expect.any(Number) }),
    });
    expect(samples[1]?.intervalMs).toBeGreaterThan(0);

    const announced = app.agentLines().find((line) => line.startsWith('chokepoint: Prometheus metrics on '));
    const metricsUrl = announced?.split(' ').at(-1) ?? '';
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(await (await fetch(metricsUrl)).text()).toMatch(/^nodejs_eventloop_lag_p99_seconds /m);

    const own = await (await fetch(`http://127.0.0.1:${port}/app-metrics`)).text();
    expect(own).toMatch(/^shop_orders_total 1$/m);
    expect(own).not.toContain('nodejs_eventloop_lag');

    const spans = await capture.waitFor((received) =>
      received.some(
        (span) => span.kind === SpanKind.SERVER && span.attributes['url.path'] === '/app-metrics',
      ),
    );
    expect(
      spans.filter((span) => span.kind === SpanKind.SERVER).map((span) => span.attributes['url.path']),
    ).toEqual(['/order', '/app-metrics']);
    expect(JSON.stringify(spans)).not.toContain('/v1/runtime');
    expect(app.agentLines()).toEqual([announced]);
  });

  it('a short script still ends by itself: sampling never holds the process', async () => {
    const app = runWithAgent('test/agent/fixtures/exit-code-app.js', {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: capture.url, CHOKEPOINT_RUNTIME_INTERVAL_MS: '50' },
    });
    expect((await app.exited).code).toBe(3);
  });

  it('with the collector down, one rate-limited warning about runtime samples, and the app answers', async () => {
    const port = await closedPort();
    const app = runWithAgent('test/agent/fixtures/runtime-app.js', {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, CHOKEPOINT_RUNTIME_INTERVAL_MS: '50' },
    });
    const [, appPort] = await app.waitForStdout(/listening on (\d+)/);
    for (let i = 0; i < 10; i++) {
      expect((await fetch(`http://127.0.0.1:${appPort}/order`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 60));
    }

    const runtimeWarnings = app.agentLines().filter((line) => line.includes('runtime sample'));
    expect(runtimeWarnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^chokepoint: cannot export runtime samples: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}; \\d+ runtime sample\\(s\\) dropped so far \\(collector http://127\\.0\\.0\\.1:${port}/v1/runtime;`,
        ),
      ),
    ]);
  });
});
