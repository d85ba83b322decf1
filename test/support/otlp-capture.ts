/**
 * A stand-in collector for agent tests: an HTTP server on port 0 that decodes every OTLP
 * protobuf export with the collector's own decoder and keeps the spans, and keeps the
 * runtime samples POSTed as JSON to `/v1/runtime`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeProtobufTraceRequest } from '../../collector/receive/otlp-protobuf.js';
import type { RuntimeReport, RuntimeSample, SpanRecord } from '../../model/index.js';

export interface OtlpCapture {
  /** Base URL, for `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  url: string;
  /** Every span received so far, in arrival order. */
  spans: SpanRecord[];
  /** Every runtime sample received so far, in arrival order. */
  runtimeSamples: RuntimeSample[];
  /** Resolves with all spans once `predicate` holds for them; rejects after `timeoutMs`. */
  waitFor(predicate: (spans: SpanRecord[]) => boolean, timeoutMs?: number): Promise<SpanRecord[]>;
  /** Resolves with all runtime samples once `predicate` holds for them; rejects after `timeoutMs`. */
  waitForRuntime(
    predicate: (samples: RuntimeSample[]) => boolean,
    timeoutMs?: number,
  ): Promise<RuntimeSample[]>;
  close(): Promise<void>;
}

export interface OtlpCaptureOptions {
  /** Keep every request open without an answer: a collector that hangs. */
  hang?: boolean;
}

/**
 * @example
 * const collector = await startOtlpCapture();
 * const spans = await collector.waitFor((spans) => spans.some((span) => span.name === 'GET /users'));
 */
export async function startOtlpCapture(options: OtlpCaptureOptions = {}): Promise<OtlpCapture> {
  const spans: SpanRecord[] = [];
  const runtimeSamples: RuntimeSample[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      if (request.url === '/v1/runtime') {
        runtimeSamples.push(...(JSON.parse(body.toString()) as RuntimeReport).samples);
      } else {
        spans.push(...decodeProtobufTraceRequest(new Uint8Array(body)));
      }
      if (options.hang) {
        held.push(response);
        return;
      }
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    runtimeSamples,
    waitFor: (predicate, timeoutMs = 15_000) =>
      poll(spans, predicate, timeoutMs, () => `spans; got: ${spans.map((span) => span.name).join(', ')}`),
    waitForRuntime: (predicate, timeoutMs = 15_000) =>
      poll(runtimeSamples, predicate, timeoutMs, () => `runtime samples; got ${runtimeSamples.length}`),
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of held) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function poll<T>(
  items: T[],
  predicate: (items: T[]) => boolean,
  timeoutMs: number,
  describe: () => string,
): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate(items)) {
    if (Date.now() > deadline) throw new Error(`not received in ${timeoutMs} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return items;
}
