import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { type BatchSettings, BoundedBatchSpanProcessor, createDropWarning } from '../../agent/export.js';
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

function tracedThrough(processor: BoundedBatchSpanProcessor) {
  const tracer = new BasicTracerProvider({ spanProcessors: [processor] }).getTracer('test');
  return (...names: string[]) => {
    for (const name of names) tracer.startSpan(name).end();
  };
}

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('BoundedBatchSpanProcessor', () => {
  let collector: OtlpCapture | undefined;
  afterEach(async () => {
    await collector?.close();
    collector = undefined;
  });

  it('exports through the OTLP exporter, losing nothing', async () => {
    collector = await startOtlpCapture();
    const drops: Drop[] = [];
    const processor = new BoundedBatchSpanProcessor({
      ...unhurried,
      exporter: new OTLPTraceExporter({ url: `${collector.url}/v1/traces` }),
      onDrop: (count, reason) => drops.push({ count, reason }),
    });

    tracedThrough(processor)('one', 'two');
    await processor.forceFlush();

    expect(collector.spans.map((span) => span.name)).toEqual(['one', 'two']);
    expect(drops).toEqual([]);
  });

  it('counts the spans of a failed export, with the reason', async () => {
    const port = await closedPort();
    const drops: Drop[] = [];
    const processor = new BoundedBatchSpanProcessor({
      ...unhurried,
      exporter: new OTLPTraceExporter({ url: `http://127.0.0.1:${port}/v1/traces`, timeoutMillis: 200 }),
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
    const processor = new BoundedBatchSpanProcessor({
      ...unhurried,
      maxQueueSize: 5,
      maxExportBatchSize: 5,
      exporter: new OTLPTraceExporter({ url: `${collector.url}/v1/traces`, timeoutMillis: 60_000 }),
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
