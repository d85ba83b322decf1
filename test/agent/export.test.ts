import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type BatchSettings, createDropWarning, OtlpExportSpanProcessor } from '../../agent/export.js';
import { decodeProtobufTraceRequest } from '../../collector/receive/otlp-protobuf.js';
import { killApps, runWithAgent } from '../support/agent-process.js';
import { type OtlpCapture, startOtlpCapture } from '../support/otlp-capture.js';

describe('createDropWarning', () => {
  it('warns on the first loss, then at most once per interval, with the running total', () => {
    let now = 1_000_000;
    const warnings: string[] = [];
    const onDrop = createDropWarning({
      endpoint: 'http://127.0.0.1:4318/v1/traces',
      now: () => now,
      warn: (message) => warnings.push(message),
    });

    onDrop(10, 'cannot export spans: connect ECONNREFUSED 127.0.0.1:4318');
    now += 30_000;
    onDrop(5, 'cannot export spans: connect ECONNREFUSED 127.0.0.1:4318');
    now += 29_999;
    onDrop(1, 'span queue full (2048 spans waiting for export)');
    expect(warnings).toEqual([
      'cannot export spans: connect ECONNREFUSED 127.0.0.1:4318; 10 span(s) dropped so far' +
        ' (collector http://127.0.0.1:4318/v1/traces; this warning repeats at most once every 60 s)',
    ]);

    now += 1;
    onDrop(2, 'span queue full (2048 spans waiting for export)');
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatch(
      /^span queue full \(2048 spans waiting for export\); 18 span\(s\) dropped so far /,
    );
  });
});

describe('createDropWarning for runtime samples', () => {
  it('names what was lost', () => {
    const warnings: string[] = [];
    createDropWarning({
      endpoint: 'http://127.0.0.1:4318/v1/runtime',
      unit: 'runtime sample',
      warn: (message) => warnings.push(message),
    })(2, 'cannot export runtime samples: HTTP 404 Not Found');
    expect(warnings).toEqual([
      'cannot export runtime samples: HTTP 404 Not Found; 2 runtime sample(s) dropped so far' +
        ' (collector http://127.0.0.1:4318/v1/runtime; this warning repeats at most once every 60 s)',
    ]);
  });
});

const unhurried: BatchSettings = {
  maxQueueSize: 100,
  maxExportBatchSize: 100,
  scheduledDelayMillis: 60_000,
  exportTimeoutMillis: 30_000,
};

interface Drop {
  count: number;
  reason: string;
}

function tracedThrough(
  processor: OtlpExportSpanProcessor,
  provider = new BasicTracerProvider({ spanProcessors: [processor] }),
) {
  const tracer = provider.getTracer('test');
  return (...names: string[]) => {
    for (const name of names) tracer.startSpan(name).end();
  };
}

/** A collector that keeps every export waiting for its answer until the test gives it. */
interface HoldingSink {
  url: string;
  /** The span names of each request received, in arrival order. */
  batches: string[][];
  /** The most requests that were waiting for an answer at once. */
  mostHeld: number;
  /** Answers the oldest request still waiting. */
  answerOldest(): void;
  close(): Promise<void>;
}

async function startHoldingSink(): Promise<HoldingSink> {
  const held: ServerResponse[] = [];
  const server = createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      sink.batches.push(decodeProtobufTraceRequest(Buffer.concat(chunks)).map((span) => span.name));
      held.push(response);
      sink.mostHeld = Math.max(sink.mostHeld, held.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sink: HoldingSink = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    batches: [],
    mostHeld: 0,
    answerOldest: () => held.shift()?.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return sink;
}

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('OtlpExportSpanProcessor', () => {
  let collector: OtlpCapture | undefined;
  afterEach(async () => {
    await collector?.close();
    collector = undefined;
  });

  it('exports over OTLP/HTTP, losing nothing', async () => {
    collector = await startOtlpCapture();
    const drops: Drop[] = [];
    const processor = new OtlpExportSpanProcessor({
      ...unhurried,
      url: `${collector.url}/v1/traces`,
      onDrop: (count, reason) => drops.push({ count, reason }),
    });

    tracedThrough(processor)('one', 'two');
    await processor.forceFlush();

    expect(collector.spans.map((span) => span.name)).toEqual(['one', 'two']);
    expect(drops).toEqual([]);
  });

  it('sends a full batch at once, without waiting for the timer', async () => {
    collector = await startOtlpCapture();
    const processor = new OtlpExportSpanProcessor({
      ...unhurried,
      maxExportBatchSize: 3,
      url: `${collector.url}/v1/traces`,
      onDrop: () => {},
    });

    tracedThrough(processor)('one', 'two', 'three', 'four');

    const spans = await collector.waitFor((received) => received.length >= 3);
    expect(spans.map((span) => span.name)).toEqual(['one', 'two', 'three']);
  });

  it('groups spans by resource and scope, and waits for resource attributes still being detected', async () => {
    collector = await startOtlpCapture();
    const processor = new OtlpExportSpanProcessor({
      ...unhurried,
      url: `${collector.url}/v1/traces`,
      onDrop: () => {},
    });
    let settleHost: (host: string) => void = () => {};
    const checkout = resourceFromAttributes({
      'service.name': 'checkout',
      'host.name': new Promise<string>((resolve) => {
        settleHost = resolve;
      }),
    });
    const billing = resourceFromAttributes({ 'service.name': 'billing' });
    const checkoutProvider = new BasicTracerProvider({ resource: checkout, spanProcessors: [processor] });
    const billingProvider = new BasicTracerProvider({ resource: billing, spanProcessors: [processor] });
    checkoutProvider.getTracer('http').startSpan('GET /cart').end();
    checkoutProvider.getTracer('pg', '0.76.0').startSpan('SELECT shop').end();
    billingProvider.getTracer('http').startSpan('POST /invoices').end();

    const flushed = processor.forceFlush();
    setTimeout(() => settleHost('web-1'), 50);
    await flushed;

    expect(
      collector.spans.map((span) => [
        span.name,
        span.resource.serviceName,
        span.resource.attributes['host.name'],
        span.scopeName,
      ]),
    ).toEqual([
      ['GET /cart', 'checkout', 'web-1', 'http'],
      ['SELECT shop', 'checkout', 'web-1', 'pg'],
      ['POST /invoices', 'billing', undefined, 'http'],
    ]);
  });

  it('drops a span it cannot encode, with the reason, and keeps the others intact', async () => {
    collector = await startOtlpCapture();
    const drops: Drop[] = [];
    const processor = new OtlpExportSpanProcessor({
      ...unhurried,
      url: `${collector.url}/v1/traces`,
      onDrop: (count, reason) => drops.push({ count, reason }),
    });
    const trace = tracedThrough(processor);
    trace('before');
    const broken = new BasicTracerProvider().getTracer('test').startSpan('broken') as unknown as ReadableSpan;
    // A span some other code tampered with: reading its attributes throws.
    Object.defineProperty(broken, 'attributes', {
      get() {
        throw new Error('attributes unavailable');
      },
    });
    expect(() => processor.onEnd(broken)).not.toThrow();
    trace('after');
    await processor.forceFlush();

    expect(drops).toEqual([{ count: 1, reason: 'cannot encode span broken: attributes unavailable' }]);
    expect(collector.spans.map((span) => span.name)).toEqual(['before', 'after']);
  });

  it('gives up on an export that hangs beyond exportTimeoutMillis, and the next one goes', async () => {
    collector = await startOtlpCapture({ hang: true });
    const drops: Drop[] = [];
    const processor = new OtlpExportSpanProcessor({
      ...unhurried,
      exportTimeoutMillis: 200,
      url: `${collector.url}/v1/traces`,
      timeoutMillis: 60_000,
      onDrop: (count, reason) => drops.push({ count, reason }),
    });
    const trace = tracedThrough(processor);

    trace('first', 'second');
    await expect(processor.forceFlush()).rejects.toThrow('no answer within 200 ms');
    trace('third');
    await expect(processor.forceFlush()).rejects.toThrow();

    expect(drops).toEqual([
      { count: 2, reason: 'cannot export spans: no answer within 200 ms' },
      { count: 1, reason: 'cannot export spans: no answer within 200 ms' },
    ]);
    expect(collector.spans.map((span) => span.name)).toEqual(['first', 'second', 'third']);
  });

  it('counts the spans of a failed export, with the reason', async () => {
    const port = await closedPort();
    const drops: Drop[] = [];
    const processor = new OtlpExportSpanProcessor({
      ...unhurried,
      url: `http://127.0.0.1:${port}/v1/traces`,
      timeoutMillis: 200,
      onDrop: (count, reason) => drops.push({ count, reason }),
    });

    tracedThrough(processor)('one', 'two', 'three');
    await expect(processor.forceFlush()).rejects.toThrow();

    expect(drops).toEqual([
      { count: 3, reason: `cannot export spans: connect ECONNREFUSED 127.0.0.1:${port}` },
    ]);
  });

  it('drops and counts spans beyond the queue bound while the collector hangs', async () => {
    collector = await startOtlpCapture({ hang: true });
    const drops: Drop[] = [];
    const processor = new OtlpExportSpanProcessor({
      ...unhurried,
      maxQueueSize: 5,
      maxExportBatchSize: 5,
      url: `${collector.url}/v1/traces`,
      timeoutMillis: 60_000,
      onDrop: (count, reason) => drops.push({ count, reason }),
    });
    const trace = tracedThrough(processor);

    // A full batch leaves at once, and hangs; the next five wait in the queue, which is then full.
    trace('a1', 'a2', 'a3', 'a4', 'a5');
    await collector.waitFor((spans) => spans.length === 5);
    trace('b1', 'b2', 'b3', 'b4', 'b5', 'c1', 'c2', 'c3');

    expect(drops).toEqual([
      { count: 1, reason: 'span queue full (5 spans waiting for export)' },
      { count: 1, reason: 'span queue full (5 spans waiting for export)' },
      { count: 1, reason: 'span queue full (5 spans waiting for export)' },
    ]);

    // Giving up reports what is still queued or in flight, once.
    processor.abandon(2000);
    processor.abandon(2000);
    expect(drops.slice(3)).toEqual([{ count: 10, reason: 'no answer from the collector within 2000 ms' }]);
  });
});

describe('OtlpExportSpanProcessor with a collector slow to answer', () => {
  let sink: HoldingSink | undefined;
  afterEach(async () => {
    await sink?.close();
    sink = undefined;
  });

  it('sends a second batch while the first awaits its answer, never a third, and holds no more spans than one export at a time would', async () => {
    sink = await startHoldingSink();
    const drops: Drop[] = [];
    const processor = new OtlpExportSpanProcessor({
      ...unhurried,
      maxQueueSize: 10,
      maxExportBatchSize: 5,
      url: sink.url,
      timeoutMillis: 60_000,
      onDrop: (count, reason) => drops.push({ count, reason }),
    });
    const trace = tracedThrough(processor);
    const received = (requests: number) =>
      vi.waitFor(() => expect(sink?.batches).toHaveLength(requests), { timeout: 10_000 });

    trace('a1', 'a2', 'a3', 'a4', 'a5');
    await received(1);
    trace('b1', 'b2', 'b3', 'b4', 'b5');
    await received(2);
    // Both exports are out: this batch waits. 15 spans held is one export's bound (queue 10 + batch 5).
    trace('c1', 'c2', 'c3', 'c4', 'c5', 'd1');
    expect(drops).toEqual([{ count: 1, reason: 'span queue full (5 spans waiting for export)' }]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sink.batches).toHaveLength(2);

    // An answer frees a place: the waiting batch goes.
    sink.answerOldest();
    await received(3);
    const flushed = processor.forceFlush();
    sink.answerOldest();
    sink.answerOldest();
    await flushed;

    expect(sink.batches).toEqual([
      ['a1', 'a2', 'a3', 'a4', 'a5'],
      ['b1', 'b2', 'b3', 'b4', 'b5'],
      ['c1', 'c2', 'c3', 'c4', 'c5'],
    ]);
    expect(sink.mostHeld).toBe(2);
    expect(drops).toHaveLength(1);
  });

  it('writes every request whole, in a buffer reused once its request was answered, whatever the sizes', async () => {
    sink = await startHoldingSink();
    const processor = new OtlpExportSpanProcessor({
      ...unhurried,
      maxExportBatchSize: 40,
      url: sink.url,
      timeoutMillis: 60_000,
      onDrop: () => {},
    });
    const trace = tracedThrough(processor);
    const received = (requests: number) =>
      vi.waitFor(() => expect(sink?.batches).toHaveLength(requests), { timeout: 10_000 });
    const long = Array.from({ length: 40 }, (_, i) => `${'a long span name '.repeat(20)}${i}`);

    trace(...long);
    await received(1);
    // The first request awaits its answer: the second is written elsewhere.
    trace('b1');
    const flushed = processor.forceFlush();
    await received(2);
    sink.answerOldest();
    sink.answerOldest();
    await flushed;
    // Into a buffer that held a larger request.
    trace('c1', 'c2');
    const flushedAgain = processor.forceFlush();
    await received(3);
    sink.answerOldest();
    await flushedAgain;

    expect(sink.batches).toEqual([long, ['b1'], ['c1', 'c2']]);
  });

  it('reports the spans of both exports in flight and the queue as lost when abandoned', async () => {
    sink = await startHoldingSink();
    const drops: Drop[] = [];
    const processor = new OtlpExportSpanProcessor({
      ...unhurried,
      maxQueueSize: 10,
      maxExportBatchSize: 5,
      url: sink.url,
      timeoutMillis: 60_000,
      onDrop: (count, reason) => drops.push({ count, reason }),
    });
    const trace = tracedThrough(processor);

    trace('a1', 'a2', 'a3', 'a4', 'a5', 'b1', 'b2', 'b3', 'b4', 'b5');
    await vi.waitFor(() => expect(sink?.batches).toHaveLength(2), { timeout: 10_000 });
    trace('c1', 'c2');
    processor.abandon(2000);

    expect(drops).toEqual([{ count: 12, reason: 'no answer from the collector within 2000 ms' }]);
  });
});

describe('an app whose collector is down', () => {
  afterEach(killApps);

  it('answers every request, does not crash, and warns once over many failed batches', async () => {
    const port = await closedPort();
    const app = runWithAgent('test/agent/fixtures/http-app.js', {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_EXPORTER_OTLP_TIMEOUT: '200',
      },
    });
    const [, appPort] = await app.waitForStdout(/listening on (\d+)/);

    // Forty requests, each followed by more than one batch delay: a failed export after every one.
    for (let i = 0; i < 40; i++) {
      expect((await fetch(`http://127.0.0.1:${appPort}/`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    app.child.kill('SIGTERM');

    expect(await app.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(app.stderr()).toMatch(
      new RegExp(
        `^chokepoint: cannot export spans: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}; \\d+ span\\(s\\) dropped so far [^\\n]*\\n$`,
      ),
    );
  });
});
