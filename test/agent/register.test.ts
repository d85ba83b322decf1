/**
 * The agent as users run it: fixture apps under `node --require chokepoint/agent` (or
 * `--import`), exporting to a capture server decoded with the collector's own decoder.
 * Needs the build: `npx tsc -p tsconfig.json`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SpanRecord } from '../../model/index.js';
import { SpanKind } from '../../model/index.js';
import { killApps, runWithAgent } from '../support/agent-process.js';
import { type OtlpCapture, startOtlpCapture } from '../support/otlp-capture.js';
import { describeWithServices } from '../support/services.js';

let collector: OtlpCapture;
beforeEach(async () => {
  collector = await startOtlpCapture();
});
afterEach(async () => {
  killApps();
  await collector.close();
});

function exportTo(capture: OtlpCapture, env: Record<string, string> = {}): Record<string, string> {
  return { OTEL_EXPORTER_OTLP_ENDPOINT: capture.url, OTEL_BSP_SCHEDULE_DELAY: '200', ...env };
}

function spanNamed(spans: SpanRecord[], name: string): SpanRecord {
  const span = spans.find((candidate) => candidate.name === name);
  if (!span)
    throw new Error(`no span named ${name} among: ${spans.map((candidate) => candidate.name).join(', ')}`);
  return span;
}

await describeWithServices(['postgres'], 'CommonJS app under --require', () => {
  it('exports the request span with its route, pg and better-sqlite3 children, and the resource', async () => {
    const app = runWithAgent('test/agent/fixtures/express-app.js', { env: exportTo(collector) });
    const [, port] = await app.waitForStdout(/listening on (\d+)/);
    const response = await fetch(`http://127.0.0.1:${port}/orders/42`);
    expect(await response.json()).toEqual({ id: 42, items: 3 });

    const spans = await collector.waitFor((received) =>
      received.some((span) => span.kind === SpanKind.SERVER && span.name === 'GET /orders/:id'),
    );
    const request = spanNamed(spans, 'GET /orders/:id');
    expect(request.attributes).toMatchObject({
      'http.route': '/orders/:id',
      'http.response.status_code': 200,
    });

    const inTrace = spans.filter((span) => span.traceId === request.traceId);
    const query = inTrace.find((span) => span.attributes['db.query.text'] === 'SELECT $1::int AS id');
    // instrumentation-pg 0.76 writes the stable names (db.system.name, db.query.text, db.namespace) only.
    expect(query?.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'db.namespace': 'test' });
    expect(query?.attributes['db.statement']).toBeUndefined();
    expect(query?.kind).toBe(SpanKind.CLIENT);
    expect(isDescendant(query, request, inTrace)).toBe(true);

    const sqlite = spanNamed(inTrace, 'SELECT :memory:');
    expect(sqlite.attributes).toEqual({
      'db.system.name': 'sqlite',
      'db.namespace': ':memory:',
      'db.query.text': 'SELECT items FROM carts WHERE id = ?',
      'db.operation.name': 'SELECT',
      'db.response.returned_rows': 1,
    });
    expect(isDescendant(sqlite, request, inTrace)).toBe(true);
    expect(spans.some((span) => span.attributes['chokepoint.db.prepare'] === true)).toBe(true);

    // The fixture's own package.json (test/agent/fixtures), not the one of the working directory.
    expect(request.resource.serviceName).toBe('fixture-shop');
    expect(request.resource.serviceVersion).toBe('1.2.3');
    expect(request.resource.attributes).toMatchObject({ 'telemetry.distro.name': 'chokepoint' });
    expect(app.agentLines()).toEqual([]);
  });

  it('takes service.name from OTEL_SERVICE_NAME over package.json', async () => {
    const app = runWithAgent('test/agent/fixtures/exit-code-app.js', {
      env: exportTo(collector, { OTEL_SERVICE_NAME: 'checkout' }),
    });
    await app.exited;
    const [span] = await collector.waitFor((received) => received.length > 0);
    expect(span?.resource.serviceName).toBe('checkout');
    expect(span?.resource.serviceVersion).toBe('1.2.3');
  });
});

await describeWithServices(
  ['postgres', 'mariadb', 'redis', 'rabbitmq'],
  'ES module app under --import',
  () => {
    it('instruments imported pg, ioredis, better-sqlite3, express, node-redis and amqplib', async () => {
      const app = runWithAgent('test/agent/fixtures/esm-app.mjs', {
        loader: '--import',
        env: exportTo(collector),
      });
      const { code } = await app.exited;
      expect({ code, stderr: app.stderr() }).toEqual({ code: 0, stderr: '' });
      expect(app.stdout()).toBe('done\n');

      const spans = await collector.waitFor((received) =>
        ['pg', 'ioredis', 'sqlite', 'express', 'instrumentation-redis', 'amqplib'].every((scope) =>
          received.some((span) => span.scopeName.includes(scope)),
        ),
      );
      expect(
        spans.find((span) => span.attributes['db.query.text'] === 'SELECT 1 AS one')?.attributes,
      ).toMatchObject({
        'db.system.name': 'postgresql',
      });
      const redisCommands = spans
        .filter((span) => span.attributes['db.system.name'] === 'redis')
        .map((span) => span.name);
      expect(redisCommands).toEqual(expect.arrayContaining(['set', 'get']));
      expect(spanNamed(spans, 'SELECT :memory:').attributes['db.system.name']).toBe('sqlite');

      const request = spanNamed(spans, 'GET /carts/:id');
      expect(request.attributes['http.route']).toBe('/carts/:id');
      const cacheRead = spanNamed(spans, 'redis-GET');
      expect(cacheRead.traceId).toBe(request.traceId);
      expect(cacheRead.attributes).toMatchObject({
        'chokepoint.cache.key_pattern': 'chokepoint:esm:cart:{id}',
        'chokepoint.cache.hit': false,
      });

      const producer = spans.find((span) => span.kind === SpanKind.PRODUCER);
      const consumer = spans.find((span) => span.kind === SpanKind.CONSUMER);
      expect(producer?.attributes).toMatchObject({ 'messaging.operation.type': 'send' });
      expect(consumer?.attributes).toMatchObject({
        'messaging.operation.type': 'process',
        'chokepoint.messaging.publish_time_ms': expect.any(Number),
      });
      expect(consumer?.parentSpanId).toBe(producer?.spanId);
    });

    it('scrubs SQL literals and Redis values before export with CHOKEPOINT_SCRUB=all', async () => {
      const app = runWithAgent('test/agent/fixtures/scrub-app.js', {
        env: exportTo(collector, { CHOKEPOINT_SCRUB: 'all' }),
      });
      expect((await app.exited).code).toBe(0);

      const spans = await collector.waitFor((received) =>
        received.some((span) => span.attributes['db.system.name'] === 'redis' && span.name === 'set'),
      );
      const texts = spans.map((span) => [
        span.attributes['db.system.name'],
        span.attributes['db.query.text'],
      ]);
      expect(texts).toEqual(
        expect.arrayContaining([
          ['postgresql', 'SELECT ? AS email, ? AS customer'],
          ['mysql', 'SELECT ? AS email, ? AS customer'],
          ['redis', 'set chokepoint:user:{id}:profile'],
        ]),
      );
      const exported = JSON.stringify(spans);
      for (const secret of ['jane@example.com', '4242', 'secret-value'])
        expect(exported).not.toContain(secret);
    });
  },
);

describe('propagation', () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpanId = '00f067aa0ba902b7';

  async function serverSpanFor(
    env: Record<string, string>,
    headers: Record<string, string>,
  ): Promise<SpanRecord> {
    const app = runWithAgent('test/agent/fixtures/http-app.js', { env: exportTo(collector, env) });
    const [, port] = await app.waitForStdout(/listening on (\d+)/);
    await (await fetch(`http://127.0.0.1:${port}/`, { headers })).text();
    const spans = await collector.waitFor((received) =>
      received.some((span) => span.kind === SpanKind.SERVER),
    );
    expect(app.agentLines()).toEqual([]);
    const span = spans.find((candidate) => candidate.kind === SpanKind.SERVER);
    if (!span) throw new Error('no SERVER span');
    return span;
  }

  it('continues a W3C traceparent by default', async () => {
    const span = await serverSpanFor({}, { traceparent: `00-${traceId}-${callerSpanId}-01` });
    expect([span.traceId, span.parentSpanId]).toEqual([traceId, callerSpanId]);
  });

  it('reads B3 headers with OTEL_PROPAGATORS=b3', async () => {
    const span = await serverSpanFor({ OTEL_PROPAGATORS: 'b3' }, { b3: `${traceId}-${callerSpanId}-1` });
    expect([span.traceId, span.parentSpanId]).toEqual([traceId, callerSpanId]);
  });

  it('starts a trace of its own with OTEL_PROPAGATORS=none', async () => {
    const span = await serverSpanFor(
      { OTEL_PROPAGATORS: 'none' },
      { traceparent: `00-${traceId}-${callerSpanId}-01` },
    );
    expect(span.traceId).not.toBe(traceId);
    expect(span.parentSpanId).toBe('');
  });
});

describe('bad settings', () => {
  it.each([
    [
      'CHOKEPOINT_SCRUB',
      'bogus',
      'chokepoint: ignoring CHOKEPOINT_SCRUB=bogus: expected none, sql, redis or all',
    ],
    [
      'OTEL_TRACES_SAMPLER_ARG',
      'abc',
      'chokepoint: ignoring OTEL_TRACES_SAMPLER_ARG=abc: expected a number from 0 to 1',
    ],
  ])('%s=%s: the app starts, traced, after one warning', async (name, value, warning) => {
    const app = runWithAgent('test/agent/fixtures/exit-code-app.js', {
      env: exportTo(collector, { [name]: value }),
    });

    expect((await app.exited).code).toBe(3);
    expect(app.stdout()).toBe('done\n');
    expect(app.stderr()).toBe(`${warning}\n`);
    await collector.waitFor((received) => received.some((span) => span.name === 'SELECT :memory:'));
  });

  it('a start failure costs one warning line, and the app runs untraced', async () => {
    const app = runWithAgent('test/agent/fixtures/exit-code-app.js', {
      env: exportTo(collector),
      preload: ['test/agent/fixtures/without-sdk.cjs'],
    });

    expect((await app.exited).code).toBe(3);
    expect(app.stdout()).toBe('done\n');
    expect(app.stderr()).toBe(
      "chokepoint: agent not started, the app runs without tracing: Cannot find module '@opentelemetry/sdk-trace-base'\n",
    );
    expect(collector.spans).toEqual([]);
  });

  it('CHOKEPOINT_DISABLED=true: nothing loaded, nothing exported, nothing said', async () => {
    const app = runWithAgent('test/agent/fixtures/exit-code-app.js', {
      env: exportTo(collector, { CHOKEPOINT_DISABLED: 'true', NODE_DEBUG: 'module' }),
    });

    expect((await app.exited).code).toBe(3);
    expect(app.agentLines()).toEqual([]);
    expect(app.stderr()).not.toMatch(/@opentelemetry/);
    expect(collector.spans).toEqual([]);
  });
});

/** Whether `span` hangs below `ancestor`, following parent ids within one trace. */
function isDescendant(span: SpanRecord | undefined, ancestor: SpanRecord, trace: SpanRecord[]): boolean {
  const byId = new Map(trace.map((candidate) => [candidate.spanId, candidate]));
  for (let current = span; current; current = byId.get(current.parentSpanId)) {
    if (current.parentSpanId === ancestor.spanId) return true;
  }
  return false;
}
