/**
 * Bad input over real HTTP: a corpus of malformed OTLP requests sent to a running collector
 * (limit 1 MiB). Each is refused with a 4xx and a one-line reason — 413 naming the configured
 * limit when too large, compressed or once decompressed — and a valid export right after it
 * is still accepted. The findings stored before the corpus are all still there afterwards,
 * beside the ones new traffic adds, and `/metrics` counted every refusal by status.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { SpanKind } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCollector, startCollector } from '../../collector/index.js';
import type { Finding } from '../../model/index.js';
import {
  fixed64,
  keyValue,
  message,
  request,
  span,
  string,
  tag,
  VARINT,
  varint,
} from '../collector/receive/protobuf-wire.js';
import { exportRequest, postTraces, slowQueryTrace } from '../support/otlp-fixtures.js';

const LIMIT = 1024 * 1024;
const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
const NOW_NS = BigInt(Date.now()) * 1_000_000n;

/** A valid export from the real SDK and serializer: one request with a query under it. */
function sdkExport(): Uint8Array {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'steady' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('resilience');
  tracer.startActiveSpan('GET /health', { kind: SpanKind.SERVER }, (server) => {
    tracer.startSpan('SELECT', { kind: SpanKind.CLIENT, attributes: { 'db.query.text': 'select 1' } }).end();
    server.end();
  });
  return ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans()) as Uint8Array;
}

/** A span stamped now, as hand-built protobuf. */
function nowSpan(...fields: Uint8Array[]): Uint8Array {
  return span(fixed64(7, NOW_NS - 5_000_000n), fixed64(8, NOW_NS), ...fields);
}

/** `request(...)` for more spans than a call takes arguments. */
function requestOf(spans: Uint8Array[]): Uint8Array {
  const scopeSpans = Buffer.concat([
    message(1, string(1, 'scope')),
    ...spans.map((body) => message(2, body)),
  ]);
  return message(1, message(1, keyValue(1, 'service.name', string(1, 'shop'))), message(2, scopeSpans));
}

interface BadRequest {
  name: string;
  body: Uint8Array | string;
  headers: Record<string, string>;
  status: number;
  reason: RegExp;
}

function corpus(): BadRequest[] {
  const valid = sdkExport();
  const protobuf = { 'content-type': PROTOBUF };
  const gzipped = { 'content-type': PROTOBUF, 'content-encoding': 'gzip' };
  const manySpans = requestOf(Array.from({ length: 50_000 }, () => nowSpan()));
  const tooLarge = new RegExp(`exceeds the limit of ${LIMIT} bytes`);
  let nested = string(1, 'leaf');
  for (let depth = 0; depth < 200; depth++) nested = message(5, message(1, nested));
  return [
    {
      name: 'truncated protobuf',
      body: valid.subarray(0, Math.floor(valid.length / 2)),
      headers: protobuf,
      status: 400,
      reason: /^truncated /,
    },
    {
      name: 'a wrong wire type (resource_spans as a varint)',
      body: Buffer.concat([tag(1, VARINT), varint(7)]),
      headers: protobuf,
      status: 400,
      reason: /resource_spans/,
    },
    {
      name: 'invalid UTF-8 in a span name',
      body: request(nowSpan(message(5, Uint8Array.of(0x47, 0xc3, 0x28)))),
      headers: protobuf,
      status: 400,
      reason: /UTF-8/,
    },
    {
      name: 'a span starting in 1970',
      body: request(span(fixed64(7, 1n), fixed64(8, NOW_NS))),
      headers: protobuf,
      status: 400,
      reason: /start time 1970-01-01T00:00:00\.000Z is not between 2000 and 2100/,
    },
    {
      name: 'a span ending at the largest uint64',
      body: request(span(fixed64(7, NOW_NS), fixed64(8, 2n ** 64n - 1n))),
      headers: protobuf,
      status: 400,
      reason: /end time 2554-/,
    },
    {
      name: 'a span ending before it starts',
      body: request(span(fixed64(7, NOW_NS), fixed64(8, NOW_NS - 1_000_000n))),
      headers: protobuf,
      status: 400,
      reason: /ends before it starts/,
    },
    {
      name: 'a 1 MiB attribute value',
      body: request(nowSpan(keyValue(9, 'db.query.text', string(1, `SELECT '${'x'.repeat(LIMIT)}'`)))),
      headers: protobuf,
      status: 413,
      reason: tooLarge,
    },
    {
      name: '50,000 spans in one request',
      body: manySpans,
      headers: protobuf,
      status: 413,
      reason: tooLarge,
    },
    {
      name: '50,000 spans gzipped under the limit, over it once decompressed',
      body: gzipSync(manySpans),
      headers: gzipped,
      status: 413,
      reason: new RegExp(`gzip-decoded request body exceeds the limit of ${LIMIT} bytes`),
    },
    {
      name: 'a gzip bomb (64 MiB of zeros in 64 KiB)',
      body: Buffer.concat(new Array(4).fill(gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 }))),
      headers: gzipped,
      status: 413,
      reason: /gzip-decoded request body exceeds the limit/,
    },
    {
      name: 'a body claiming gzip that is not',
      body: valid,
      headers: gzipped,
      status: 400,
      reason: /not valid gzip/,
    },
    {
      name: 'an unsupported content encoding',
      body: valid,
      headers: { 'content-type': PROTOBUF, 'content-encoding': 'br' },
      status: 415,
      reason: /content encoding/,
    },
    {
      name: 'text/plain',
      body: 'resourceSpans',
      headers: { 'content-type': 'text/plain' },
      status: 415,
      reason: /unsupported content type/,
    },
    { name: 'no content type', body: valid, headers: {}, status: 415, reason: /unsupported content type/ },
    {
      name: 'JSON labelled protobuf',
      body: '{"resourceSpans":[]}',
      headers: protobuf,
      status: 400,
      reason: /wire type/,
    },
    {
      name: 'protobuf labelled JSON',
      body: valid,
      headers: { 'content-type': JSON_TYPE },
      status: 400,
      reason: /not valid (UTF-8|JSON)/,
    },
    {
      name: 'truncated JSON',
      body: '{"resourceSpans": [{"scopeSpans": [',
      headers: { 'content-type': JSON_TYPE },
      status: 400,
      reason: /not valid JSON/,
    },
    {
      name: 'JSON of the wrong shape',
      body: '{"resourceSpans": "all of them"}',
      headers: { 'content-type': JSON_TYPE },
      status: 400,
      reason: /resourceSpans/,
    },
    {
      name: 'AnyValues nested 200 deep',
      body: request(nowSpan(message(9, string(1, 'deep'), message(2, nested)))),
      headers: protobuf,
      status: 400,
      reason: /nested deeper/,
    },
  ];
}

/** The one-line reason of a refusal, from a `google.rpc.Status` in either encoding. */
async function reasonOf(response: Response): Promise<string> {
  if (response.headers.get('content-type') === JSON_TYPE) {
    return ((await response.json()) as { message: string }).message;
  }
  const status = Buffer.from(await response.arrayBuffer());
  expect(status[0]).toBe(0x12);
  let length = 0;
  let pos = 1;
  for (let shift = 0; ; shift += 7) {
    const byte = status[pos++] as number;
    length |= (byte & 0x7f) << shift;
    if (byte < 0x80) break;
  }
  return status.subarray(pos, pos + length).toString('utf8');
}

const CORPUS = corpus();

describe('malformed OTLP over HTTP', () => {
  let workDir: string;
  let collector: RunningCollector;
  let before: Finding[];
  const valid = sdkExport();

  async function findings(): Promise<Finding[]> {
    const response = await fetch(`${collector.dashboardUrl}/api/findings`);
    return ((await response.json()) as { findings: Finding[] }).findings;
  }

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'chokepoint-bad-input-'));
    collector = await startCollector({
      otlpPort: 0,
      port: 0,
      db: join(workDir, 'collector.db'),
      maxBodyMb: 1,
      slowQueryMs: 50,
      quiet: true,
    });
    const traffic = Array.from({ length: 5 }, () =>
      slowQueryTrace({ route: '/orders', statement: 'SELECT * FROM orders WHERE email = $1', queryMs: 120 }),
    ).flat();
    await postTraces(collector.otlpUrl, exportRequest('shop', traffic));
    await collector.flush();
    before = await findings();
  });

  afterAll(async () => {
    await collector?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('starts from stored findings', () => {
    expect(before.map((finding) => finding.kind)).toContain('slow_query');
  });

  it.each(CORPUS.map((bad) => [bad.name, bad] as const))(
    'refuses %s with a one-line reason, then still accepts a valid export',
    async (_name, bad) => {
      const response = await fetch(`${collector.otlpUrl}/v1/traces`, {
        method: 'POST',
        headers: bad.headers,
        body: bad.body,
      });
      expect(response.status).toBe(bad.status);
      const reason = await reasonOf(response);
      expect(reason).toMatch(bad.reason);
      expect(reason).not.toMatch(/\n/);

      const next = await fetch(`${collector.otlpUrl}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': PROTOBUF },
        body: valid,
      });
      expect(next.status).toBe(200);
    },
  );

  it('refuses a chunked body that passes the limit without announcing its length', async () => {
    const chunk = new Uint8Array(256 * 1024);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += chunk.length;
        if (sent > 8 * LIMIT) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const response = await fetch(`${collector.otlpUrl}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': PROTOBUF },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(await reasonOf(response)).toBe(`request body exceeds the limit of ${LIMIT} bytes`);
  });

  it('kept every finding stored before, beside the ones new traffic adds', async () => {
    const traffic = Array.from({ length: 5 }, () =>
      slowQueryTrace({
        route: '/invoices',
        statement: 'SELECT * FROM invoices WHERE total > 10',
        queryMs: 150,
      }),
    ).flat();
    await postTraces(collector.otlpUrl, exportRequest('shop', traffic));
    await collector.flush();
    const after = await findings();

    const afterById = new Map(after.map((finding) => [finding.id, finding]));
    for (const finding of before) {
      expect(afterById.get(finding.id)).toMatchObject({ kind: finding.kind, firstSeen: finding.firstSeen });
    }
    const added = after.filter((finding) => !before.some((old) => old.id === finding.id));
    expect(added.filter((finding) => finding.kind === 'slow_query')).toHaveLength(1);
    expect(added.find((finding) => finding.kind === 'slow_query')?.evidence.fingerprint).toContain(
      'invoices',
    );
    expect(after).toHaveLength(before.length + added.length);
  });

  it('counted every refusal by status in /metrics', async () => {
    const metrics = await (await fetch(`${collector.dashboardUrl}/metrics`)).text();
    const expected = new Map<number, number>();
    for (const bad of CORPUS) expected.set(bad.status, (expected.get(bad.status) ?? 0) + 1);
    expected.set(413, (expected.get(413) ?? 0) + 1);
    for (const [status, count] of expected) {
      expect(metrics).toContain(`chokepoint_collector_requests_rejected_total{reason="${status}"} ${count}`);
    }
  });
});
