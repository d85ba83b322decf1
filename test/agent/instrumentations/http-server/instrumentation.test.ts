/**
 * The agent's inbound HTTP instrumentation on real servers: plain `http` and `https`,
 * Express 5 and Koa 3 (their upstream instrumentations name the route through the RPC
 * metadata the request's context holds), W3C propagation from an upstream caller, status
 * codes, aborted requests, and the request's listeners running in its context.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type BetterSqlite3 from 'better-sqlite3';
import type ExpressModule from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpServerInstrumentation } from '../../../../agent/instrumentations/http-server/instrumentation.js';
import { SpanKind, type SpanRecord, StatusCode } from '../../../../model/index.js';
import { killApps, runWithAgent } from '../../../support/agent-process.js';
import { type OtlpCapture, startOtlpCapture } from '../../../support/otlp-capture.js';
import { traceInProcess } from '../../support/in-process.js';

const tracing = traceInProcess(['http', 'express', 'koa', 'better-sqlite3']);
const http: typeof Http = tracing.require('node:http');
const https: typeof Https = tracing.require('node:https');
const express: typeof ExpressModule = tracing.require('express');
const Koa: new () => KoaApp = tracing.require('koa');
const KoaRouter: new () => KoaRouter = tracing.require('@koa/router');
const Database: typeof BetterSqlite3 = tracing.require('better-sqlite3');
const serverInstrumentation = tracing.instrumentations.find(
  (instrumentation) => instrumentation instanceof HttpServerInstrumentation,
);

/** The parts of Koa 3 and @koa/router 14 used here (neither ships types). */
interface KoaApp {
  use(middleware: unknown): void;
  callback(): Http.RequestListener;
}
interface KoaRouter {
  get(path: string, handler: (context: { params: Record<string, string>; body: unknown }) => void): void;
  routes(): unknown;
}

const servers: Http.Server[] = [];

async function listen(server: Http.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function serverSpans(count = 1): Promise<SpanRecord[]> {
  const spans = await tracing.waitFor(
    (records) => records.filter((span) => span.kind === SpanKind.SERVER).length >= count,
  );
  return spans.filter((span) => span.kind === SpanKind.SERVER);
}

async function serverSpan(): Promise<SpanRecord> {
  const [span] = await serverSpans();
  if (!span) throw new Error('no SERVER span');
  return span;
}

/** Whether `span` hangs below `ancestor`, following parent ids (Express adds spans of its own in between). */
function isDescendant(span: SpanRecord, ancestor: SpanRecord, spans: SpanRecord[]): boolean {
  const byId = new Map(spans.map((candidate) => [candidate.spanId, candidate]));
  for (let current: SpanRecord | undefined = span; current; current = byId.get(current.parentSpanId)) {
    if (current.parentSpanId === ancestor.spanId) return true;
  }
  return false;
}

afterEach(() => tracing.reset());

afterAll(async () => {
  for (const server of servers) server.close();
  await tracing.shutdown();
});

describe('plain http server', () => {
  let url: string;

  beforeAll(async () => {
    const server = http.createServer((request, response) => {
      if (request.url?.startsWith('/missing')) response.writeHead(404).end();
      else if (request.url?.startsWith('/broken')) response.writeHead(503).end();
      else if (request.url?.startsWith('/slow')) setTimeout(() => response.end('late'), 2_000);
      else response.end('ok');
    });
    url = `http://127.0.0.1:${await listen(server)}`;
  });

  it('records method, path without the query string, and status; the collector templates the path', async () => {
    await (await fetch(`${url}/orders/42?token=secret`)).text();

    const span = await serverSpan();
    expect(span.name).toBe('GET');
    expect(span.parentSpanId).toBe('');
    expect(span.attributes).toEqual({
      'http.request.method': 'GET',
      'url.path': '/orders/42',
      'http.response.status_code': 200,
    });
    expect(span.statusCode).toBe(StatusCode.UNSET);
    expect(span.scopeName).toBe('chokepoint/instrumentation-http-server');
    expect(tracing.operations()[0]).toMatchObject({
      type: 'http_server',
      method: 'GET',
      route: '/orders/{id}',
      statusCode: 200,
      error: false,
    });
  });

  it('continues the trace of a W3C traceparent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpanId = '00f067aa0ba902b7';
    await fetch(url, { headers: { traceparent: `00-${traceId}-${callerSpanId}-01` } });

    const span = await serverSpan();
    expect(span.traceId).toBe(traceId);
    expect(span.parentSpanId).toBe(callerSpanId);
  });

  it('reads the traceparent whatever its capitalisation, from the raw headers', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4737';
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `GET /orders HTTP/1.1\r\nHost: 127.0.0.1\r\nTraceParent: 00-${traceId}-00f067aa0ba902b7-01\r\n\r\n`,
    );
    try {
      const span = await serverSpan();
      expect([span.traceId, span.parentSpanId]).toEqual([traceId, '00f067aa0ba902b7']);
    } finally {
      socket.destroy();
    }
  });

  it('starts a new trace when the traceparent is repeated, as the joined header reads', async () => {
    const caller = (spanId: string) => `00-4bf92f3577b34da6a3ce929d0e0e4738-${spanId}-01`;
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `GET /orders HTTP/1.1\r\nHost: 127.0.0.1\r\ntraceparent: ${caller('00f067aa0ba902b7')}\r\n` +
        `traceparent: ${caller('00f067aa0ba902b8')}\r\n\r\n`,
    );
    try {
      const span = await serverSpan();
      expect(span.parentSpanId).toBe('');
      expect(span.traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4738');
    } finally {
      socket.destroy();
    }
  });

  it('leaves 4xx unset and marks 5xx as errors', async () => {
    await fetch(`${url}/missing`);
    await fetch(`${url}/broken`);

    const spans = await serverSpans(2);
    expect(spans.map((span) => [span.attributes['http.response.status_code'], span.statusCode])).toEqual([
      [404, StatusCode.UNSET],
      [503, StatusCode.ERROR],
    ]);
    expect(tracing.operations().map((operation) => operation.error)).toEqual([false, true]);
  });

  it('ends an aborted request when the connection closes, as an error without a status code', async () => {
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    // Long enough for the server to have taken the request, well before it answers.
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.destroy();

    const span = await serverSpan();
    expect(span.attributes['http.response.status_code']).toBeUndefined();
    expect(span.attributes['url.path']).toBe('/slow');
    expect(span.statusCode).toBe(StatusCode.ERROR);
    expect(span.statusMessage).toBe('connection closed before the response ended');
  });

  it('names a made-up method _OTHER, keeping it beside', async () => {
    await fetch(url, { method: 'PURGE' });

    const span = await serverSpan();
    expect(span.name).toBe('HTTP');
    expect(span.attributes).toMatchObject({
      'http.request.method': '_OTHER',
      'http.request.method_original': 'PURGE',
    });
  });

  it('serves a request it fails to trace as if it were not there', async () => {
    propagation.disable();
    propagation.setGlobalPropagator({
      inject() {},
      extract() {
        throw new Error('a propagator that breaks');
      },
      fields: () => [],
    });
    try {
      const response = await fetch(`${url}/orders/1`);
      expect([response.status, await response.text()]).toEqual([200, 'ok']);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(tracing.records()).toEqual([]);
    } finally {
      propagation.disable();
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    }
  });

  it('traces nothing once disabled, and restores the server', async () => {
    serverInstrumentation?.disable();
    try {
      expect((await fetch(url)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(tracing.records()).toEqual([]);
    } finally {
      serverInstrumentation?.enable();
    }
  });
});

describe('requests the configuration ignores', () => {
  it('are served untraced, and so is what their handlers do', async () => {
    const agentConfig = serverInstrumentation?.getConfig() ?? {};
    serverInstrumentation?.setConfig({
      ignoreIncomingRequestHook: (request: Http.IncomingMessage) => request.url === '/health',
    });
    try {
      const db = new Database(':memory:');
      const port = await listen(
        http.createServer((_request, response) => {
          db.prepare('SELECT 1').get();
          response.end('ok');
        }),
      );
      await fetch(`http://127.0.0.1:${port}/health`);
      await fetch(`http://127.0.0.1:${port}/orders`);

      const spans = await tracing.waitFor((records) => records.some((span) => span.kind === SpanKind.SERVER));
      const server = spans.filter((span) => span.kind === SpanKind.SERVER);
      expect(server.map((span) => span.attributes['url.path'])).toEqual(['/orders']);
      // The statement's preparation and its run, for /orders only.
      const queries = spans.filter((span) => span.attributes['db.query.text'] === 'SELECT 1');
      expect(queries.map((span) => span.parentSpanId)).toEqual([server[0]?.spanId, server[0]?.spanId]);
    } finally {
      serverInstrumentation?.setConfig(agentConfig);
    }
  });
});

describe('https server', () => {
  const directory = mkdtempSync(join(tmpdir(), 'chokepoint-https-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('is traced like http', async () => {
    const key = join(directory, 'key.pem');
    const cert = join(directory, 'cert.pem');
    execFileSync('openssl', [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'],
    ]);
    const server = https.createServer(
      { key: readFileSync(key), cert: readFileSync(cert) },
      (_request, response) => response.end('secure'),
    );
    const port = await listen(server);

    const body = await new Promise<string>((resolve, reject) => {
      const request = https.get(
        { host: '127.0.0.1', port, path: '/vault/7', rejectUnauthorized: false },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          response.on('end', () => resolve(text));
        },
      );
      request.on('error', reject);
    });
    expect(body).toBe('secure');

    const span = await serverSpan();
    expect(span.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/vault/7',
      'http.response.status_code': 200,
    });
  });
});

describe('Express', () => {
  let url: string;

  beforeAll(async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER)');
    const insert = db.prepare('INSERT INTO orders (id, total) VALUES (?, ?)');
    const app = express();
    app.use(express.json());
    app.get('/orders/:id', (request, response) => {
      response.json({ id: request.params.id });
    });
    app.post('/orders/:id', (request, response) => {
      // Runs after the body was read: in the request's context only if the request's listeners run in it.
      insert.run(Number(request.params.id), (request.body as { total: number }).total);
      response.status(201).json({ ok: true });
    });
    app.get('/fail', () => {
      throw new Error('route failed');
    });
    url = `http://127.0.0.1:${await listen(http.createServer(app))}`;
  });

  it('names the route', async () => {
    await (await fetch(`${url}/orders/42`)).text();

    const span = await serverSpan();
    expect(span.name).toBe('GET /orders/:id');
    expect(span.attributes['http.route']).toBe('/orders/:id');
    expect(span.attributes['url.path']).toBeUndefined();
    expect(tracing.operations().find((operation) => operation.type === 'http_server')).toMatchObject({
      route: '/orders/:id',
      statusCode: 200,
    });
  });

  it('keeps what a handler does after the body is parsed under the request', async () => {
    const response = await fetch(`${url}/orders/7`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ total: 1250 }),
    });
    expect(response.status).toBe(201);

    const spans = await tracing.waitFor(
      (records) =>
        records.some((span) => span.kind === SpanKind.SERVER) &&
        records.some((span) => span.attributes['db.operation.name'] === 'INSERT'),
    );
    const request = spans.find((span) => span.kind === SpanKind.SERVER);
    const insert = spans.find((span) => span.attributes['db.operation.name'] === 'INSERT');
    expect(request?.name).toBe('POST /orders/:id');
    expect(insert && request && isDescendant(insert, request, spans)).toBe(true);
  });

  it('records the 500 of a route that throws as an error', async () => {
    expect((await fetch(`${url}/fail`)).status).toBe(500);

    const span = await serverSpan();
    expect(span.attributes).toMatchObject({ 'http.route': '/fail', 'http.response.status_code': 500 });
    expect(span.statusCode).toBe(StatusCode.ERROR);
  });
});

describe('Koa with @koa/router', () => {
  it('names the route', async () => {
    const app = new Koa();
    const router = new KoaRouter();
    router.get('/carts/:id', (context) => {
      context.body = { id: context.params.id };
    });
    app.use(router.routes());
    const port = await listen(http.createServer(app.callback()));

    await (await fetch(`http://127.0.0.1:${port}/carts/9`)).text();

    const span = await serverSpan();
    expect(span.name).toBe('GET /carts/:id');
    expect(span.attributes).toMatchObject({ 'http.route': '/carts/:id', 'http.response.status_code': 200 });
  });
});

describe('a handler that throws, under the built agent', () => {
  let collector: OtlpCapture;
  beforeAll(async () => {
    collector = await startOtlpCapture();
  });
  afterAll(async () => {
    killApps();
    await collector.close();
  });

  it('ends the span as an error named after the exception, and the app keeps serving', async () => {
    const app = runWithAgent('test/agent/fixtures/throwing-app.js', {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
    const [, port] = await app.waitForStdout(/listening on (\d+)/);
    expect((await fetch(`http://127.0.0.1:${port}/throw`)).status).toBe(500);
    expect((await fetch(`http://127.0.0.1:${port}/fine`)).status).toBe(200);

    const spans = await collector.waitFor((received) => received.length >= 2);
    const [failed, fine] = spans;
    expect(failed?.attributes).toMatchObject({ 'url.path': '/throw', 'error.type': 'TypeError' });
    expect(failed?.statusCode).toBe(StatusCode.ERROR);
    expect(failed?.statusMessage).toBe('handler failed');
    expect(fine?.attributes).toMatchObject({ 'url.path': '/fine', 'http.response.status_code': 200 });
    expect(app.agentLines()).toEqual([]);
  });
});
