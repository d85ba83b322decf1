/**
 * The optional Prometheus endpoint, in a process traced by the agent's http
 * instrumentation: scrapes answer with prom-client's default metrics, are not traced as
 * the app's requests, and leave the app's own prom-client registry alone.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as PromClient from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MetricsServer, startMetricsServer } from '../../../agent/runtime/prometheus.js';
import { SpanKind } from '../../../model/index.js';
import { traceInProcess } from '../support/in-process.js';

const tracing = traceInProcess(['http']);
const http: typeof import('node:http') = tracing.require('node:http');
const promClient: typeof PromClient = tracing.require('prom-client');

describe('startMetricsServer', () => {
  let metrics: MetricsServer;

  beforeAll(async () => {
    metrics = await startMetricsServer({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await metrics?.close();
    await tracing.shutdown();
  });

  it('serves prom-client’s default metrics as Prometheus text on /metrics, and nothing else', async () => {
    expect(metrics.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const response = await fetch(metrics.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (const name of [
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'process_resident_memory_bytes',
    ]) {
      expect(text).toMatch(new RegExp(`^${name}`, 'm'));
    }
    expect((await fetch(metrics.url.replace('/metrics', '/'))).status).toBe(404);
    expect((await fetch(metrics.url, { method: 'POST' })).status).toBe(404);
  });

  it('is not the app’s traffic: no SERVER span for a scrape, one for the app’s own server', async () => {
    const app = http.createServer((_request, response) => response.end('ok'));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    try {
      tracing.reset();
      await (await fetch(metrics.url)).text();
      await (await fetch(`http://127.0.0.1:${(app.address() as AddressInfo).port}/`)).text();
      const records = await tracing.waitFor((spans) => spans.some((span) => span.kind === SpanKind.SERVER));
      expect(records.map((span) => span.attributes['url.path'])).toEqual(['/']);
    } finally {
      app.close();
    }
  });

  it('leaves the app’s global registry as it was', () => {
    expect(promClient.register.getMetricsAsArray()).toEqual([]);
  });

  it('rejects when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as AddressInfo;
      await expect(startMetricsServer({ host: '127.0.0.1', port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      taken.close();
    }
  });
});
