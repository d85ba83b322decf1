import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import { serve } from '@hono/node-server';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { Hono } from 'hono';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BODY_BYTES, otlpTraceRoutes } from '../../../collector/receive/otlp-http.js';
import { decodeProtobufTraceRequest } from '../../../collector/receive/otlp-protobuf.js';
import type { SpanRecord } from '../../../model/index.js';
import { concat, keyValue, request, span, string } from './protobuf-wire.js';
import { recordSdkSpans } from './sdk-spans.js';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
const sdkSpans = recordSdkSpans();
const protobufBody = ProtobufTraceSerializer.serializeRequest(sdkSpans) as Uint8Array;
const jsonBody = JsonTraceSerializer.serializeRequest(sdkSpans) as Uint8Array;
const expectedSpans = decodeProtobufTraceRequest(protobufBody);

/** 1 GiB of zeros as 64 gzip members of 16 MiB: about 1 MB on the wire. */
function gzipBomb(): Uint8Array {
  const member = gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
  return Buffer.concat(new Array(64).fill(member));
}

/** `body` grown to exactly `size` bytes with an unknown top-level field the decoder skips. */
function paddedTo(body: Uint8Array, size: number): Uint8Array {
  for (let overhead = 3; overhead <= 5; overhead++) {
    const padded = concat(body, string(1000, 'x'.repeat(size - body.length - overhead)));
    if (padded.length === size) return padded;
  }
  throw new Error(`cannot pad to ${size} bytes`);
}

/** The message of a `google.rpc.Status` body in either encoding. */
async function statusMessage(response: Response): Promise<string> {
  const contentType = response.headers.get('content-type');
  if (contentType === JSON_TYPE) return ((await response.json()) as { message: string }).message;
  expect(contentType).toBe(PROTOBUF);
  const status = new Uint8Array(await response.arrayBuffer());
  expect(status[0]).toBe(0x12); // field 2 (message), length-delimited
  let length = 0;
  let pos = 1;
  for (let shift = 0; ; shift += 7) {
    const byte = status[pos++] as number;
    length |= (byte & 0x7f) << shift;
    if (byte < 0x80) break;
  }
  expect(pos + length).toBe(status.length);
  return Buffer.from(status.subarray(pos)).toString('utf8');
}

function receiver(options: { maxBodyBytes?: number } = {}) {
  const received: SpanRecord[][] = [];
  const rejected: Array<[string, number]> = [];
  const app = otlpTraceRoutes({
    ...options,
    onSpans: (spans) => received.push(spans),
    onRejected: (reason, status) => rejected.push([reason, status]),
  });
  return { app, received, rejected };
}

function post(app: Hono, body: string | Uint8Array, headers: Record<string, string>): Promise<Response> {
  return Promise.resolve(app.request('/v1/traces', { method: 'POST', headers, body: body }));
}

describe('otlpTraceRoutes through app.request', () => {
  it('accepts protobuf and answers an empty ExportTraceServiceResponse in protobuf', async () => {
    const { app, received, rejected } = receiver();
    const response = await post(app, protobufBody, { 'content-type': PROTOBUF });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(PROTOBUF);
    const responseBody = new Uint8Array(await response.arrayBuffer());
    expect(responseBody).toHaveLength(0);
    expect(ProtobufTraceSerializer.deserializeResponse(responseBody)).toEqual({});
    expect(received).toEqual([expectedSpans]);
    expect(rejected).toEqual([]);
  });

  it('accepts JSON, with parameters and any case in the content type, and answers {} in JSON', async () => {
    const { app, received } = receiver();
    const response = await post(app, jsonBody, { 'content-type': 'Application/JSON; charset=utf-8' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(JSON_TYPE);
    const text = await response.text();
    expect(text).toBe('{}');
    expect(JsonTraceSerializer.deserializeResponse(Buffer.from(text))).toEqual({});
    expect(received).toEqual([expectedSpans]);
  });

  it.each([
    ['gzip', gzipSync(protobufBody)],
    ['GZIP', gzipSync(protobufBody)],
    ['x-gzip', gzipSync(protobufBody)],
    ['deflate', deflateSync(protobufBody)],
    ['identity', protobufBody],
  ])('decodes Content-Encoding: %s', async (coding, body) => {
    const { app, received } = receiver();
    const response = await post(app, body, { 'content-type': PROTOBUF, 'content-encoding': coding });
    expect(response.status).toBe(200);
    expect(received).toEqual([expectedSpans]);
  });

  it('answers success to a request without spans, without calling onSpans', async () => {
    const { app, received } = receiver();
    expect((await post(app, new Uint8Array(0), { 'content-type': PROTOBUF })).status).toBe(200);
    expect((await post(app, '{"resourceSpans":[]}', { 'content-type': JSON_TYPE })).status).toBe(200);
    expect(received).toEqual([]);
  });

  it('accepts a 1 MB attribute value under the default limit', async () => {
    const { app, received } = receiver();
    const value = 'v'.repeat(1024 * 1024);
    const response = await post(app, gzipSync(request(span(keyValue(9, 'big', string(1, value))))), {
      'content-type': PROTOBUF,
      'content-encoding': 'gzip',
    });
    expect(response.status).toBe(200);
    expect(received[0]?.[0]?.attributes.big).toBe(value);
  });

  it('accepts a body of exactly the limit, before and after decompression, and refuses one byte more', async () => {
    const limit = 4096;
    const { app, received, rejected } = receiver({ maxBodyBytes: limit });
    const exact = paddedTo(request(span()), limit);
    const over = paddedTo(request(span()), limit + 1);
    expect((await post(app, exact, { 'content-type': PROTOBUF })).status).toBe(200);
    expect(
      (await post(app, gzipSync(exact), { 'content-type': PROTOBUF, 'content-encoding': 'gzip' })).status,
    ).toBe(200);
    expect(received).toHaveLength(2);

    const raw = await post(app, over, { 'content-type': PROTOBUF });
    expect(raw.status).toBe(413);
    expect(await statusMessage(raw)).toBe('request body exceeds the limit of 4096 bytes');
    const inflated = await post(app, gzipSync(over), {
      'content-type': PROTOBUF,
      'content-encoding': 'gzip',
    });
    expect(inflated.status).toBe(413);
    expect(await statusMessage(inflated)).toBe('gzip-decoded request body exceeds the limit of 4096 bytes');
    expect(rejected.map(([, status]) => status)).toEqual([413, 413]);
    expect(received).toHaveLength(2);
  });

  it('answers 413 to a gzip bomb of 1 GiB of zeros at the default limit', async () => {
    const { app, received, rejected } = receiver();
    const response = await post(app, gzipBomb(), { 'content-type': PROTOBUF, 'content-encoding': 'gzip' });
    expect(response.status).toBe(413);
    expect(await statusMessage(response)).toBe(
      `gzip-decoded request body exceeds the limit of ${DEFAULT_MAX_BODY_BYTES} bytes`,
    );
    expect(rejected).toEqual([
      [`gzip-decoded request body exceeds the limit of ${DEFAULT_MAX_BODY_BYTES} bytes`, 413],
    ]);
    expect(received).toEqual([]);
  });

  it('answers 405 with Allow: POST to other methods', async () => {
    const { app, rejected } = receiver();
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const response = await app.request('/v1/traces', { method });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
      expect(await statusMessage(response)).toBe(`method ${method} not allowed: OTLP/HTTP exports use POST`);
    }
    expect(rejected.map(([, status]) => status)).toEqual([405, 405, 405, 405]);
  });

  it('refuses a limit that is not a usable byte count when built', () => {
    for (const maxBodyBytes of [0, -1, 1.5, Number.NaN, 2 ** 60]) {
      expect(() => otlpTraceRoutes({ onSpans: () => {}, maxBodyBytes })).toThrow(RangeError);
    }
    expect(() => otlpTraceRoutes({ onSpans: () => {}, maxBodyBytes: 1 })).not.toThrow();
  });

  it('answers 500 when onSpans throws, and keeps serving', async () => {
    let calls = 0;
    const app = otlpTraceRoutes({
      onSpans: () => {
        calls++;
        if (calls === 1) throw new Error('pipeline full');
      },
    });
    const failed = await post(app, protobufBody, { 'content-type': PROTOBUF });
    expect(failed.status).toBe(500);
    expect(await statusMessage(failed)).toBe('spans could not be accepted: pipeline full');
    expect((await post(app, protobufBody, { 'content-type': PROTOBUF })).status).toBe(200);
    expect(calls).toBe(2);
  });

  it('answers the client even when onRejected throws', async () => {
    const app = otlpTraceRoutes({
      onSpans: () => {},
      onRejected: () => {
        throw new Error('logger down');
      },
    });
    const response = await post(app, 'nope', { 'content-type': JSON_TYPE });
    expect(response.status).toBe(400);
    expect(await statusMessage(response)).toBe('request body is not valid JSON');
  });

  describe('rejections, each followed by a request that must still succeed', () => {
    const limit = 64 * 1024;
    const { app, received, rejected } = receiver({ maxBodyBytes: limit });
    beforeEach(() => {
      received.length = 0;
      rejected.length = 0;
    });

    it.each<[string, string | Uint8Array, Record<string, string>, number, string, RegExp]>([
      [
        'a text/plain body',
        protobufBody,
        { 'content-type': 'text/plain' },
        415,
        JSON_TYPE,
        /^unsupported content type/,
      ],
      ['no content type', protobufBody, {}, 415, JSON_TYPE, /^unsupported content type/],
      [
        'application/protobuf',
        protobufBody,
        { 'content-type': 'application/protobuf' },
        415,
        JSON_TYPE,
        /^unsupported/,
      ],
      [
        'a brotli body',
        protobufBody,
        { 'content-type': PROTOBUF, 'content-encoding': 'br' },
        415,
        PROTOBUF,
        /^unsupported content encoding: send gzip, deflate or identity$/,
      ],
      [
        'truncated protobuf',
        protobufBody.subarray(0, 100),
        { 'content-type': PROTOBUF },
        400,
        PROTOBUF,
        /^truncated .* at byte \d+/,
      ],
      [
        'a bad trace id',
        request(span(concat(string(1, 'short')))),
        { 'content-type': PROTOBUF },
        400,
        PROTOBUF,
        /^Span.trace_id must be 16 bytes, got 5 at byte \d+$/,
      ],
      [
        'JSON garbage',
        '{"resourceSpans": [}',
        { 'content-type': JSON_TYPE },
        400,
        JSON_TYPE,
        /^request body is not valid JSON/,
      ],
      [
        'a JSON array',
        '[1, 2]',
        { 'content-type': JSON_TYPE },
        400,
        JSON_TYPE,
        /^request body must be an object$/,
      ],
      [
        'corrupt gzip',
        Buffer.from('not gzip at all'),
        { 'content-type': PROTOBUF, 'content-encoding': 'gzip' },
        400,
        PROTOBUF,
        /^request body is not valid gzip: incorrect header check$/,
      ],
      [
        'truncated gzip',
        gzipSync(protobufBody).subarray(0, 50),
        { 'content-type': PROTOBUF, 'content-encoding': 'gzip' },
        400,
        PROTOBUF,
        /^request body is not valid gzip: unexpected end of file$/,
      ],
      [
        'an oversize body',
        new Uint8Array(limit + 1),
        { 'content-type': PROTOBUF },
        413,
        PROTOBUF,
        new RegExp(`^request body exceeds the limit of ${limit} bytes$`),
      ],
      [
        'an oversize declared length',
        '{}',
        { 'content-type': JSON_TYPE, 'content-length': String(limit + 1) },
        413,
        JSON_TYPE,
        new RegExp(`^request body exceeds the limit of ${limit} bytes$`),
      ],
      [
        'a deflate bomb',
        deflateSync(Buffer.alloc(10 * limit)),
        { 'content-type': JSON_TYPE, 'content-encoding': 'deflate' },
        413,
        JSON_TYPE,
        new RegExp(`^deflate-decoded request body exceeds the limit of ${limit} bytes$`),
      ],
    ])('%s', async (_, body, headers, status, contentType, reason) => {
      const response = await post(app, body, headers);
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toBe(contentType);
      const message = await statusMessage(response);
      expect(message).toMatch(reason);
      expect(message).not.toContain('\n');
      expect(rejected).toEqual([[message, status]]);
      expect(received).toEqual([]);

      const good = await post(app, protobufBody, { 'content-type': PROTOBUF });
      expect(good.status).toBe(200);
      expect(received).toEqual([expectedSpans]);
    });
  });
});

describe('otlpTraceRoutes on a real @hono/node-server', () => {
  // Above the gzip bomb's compressed size, so the bomb is stopped by the decoded-size cap.
  const limit = 2 * 1024 * 1024;
  const { app, received, rejected } = receiver({ maxBodyBytes: limit });
  let server: Server;
  let port: number;

  beforeAll(async () => {
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve()) as Server;
    });
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    received.length = 0;
    rejected.length = 0;
  });

  const url = () => `http://127.0.0.1:${port}/v1/traces`;
  const postGood = () =>
    fetch(url(), { method: 'POST', headers: { 'content-type': PROTOBUF }, body: protobufBody });

  /**
   * Sends the first `sent` bytes of a chunked body (no Content-Length) and keeps the request
   * open: an answer can only come from a server that caps the stream as it reads.
   */
  function postOpenEnded(sent: number): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(url(), { method: 'POST', headers: { 'content-type': PROTOBUF } });
      req.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          req.destroy();
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) });
        });
      });
      req.on('error', reject);
      expect(req.getHeader('content-length')).toBeUndefined();
      for (let written = 0; written < sent; written += 16 * 1024) req.write(Buffer.alloc(16 * 1024));
    });
  }

  it('accepts a good request over the wire', async () => {
    const response = await postGood();
    expect(response.status).toBe(200);
    expect(received).toEqual([expectedSpans]);
  });

  it('accepts a chunked body that arrives in pieces', async () => {
    const { status } = await new Promise<{ status: number }>((resolve, reject) => {
      const req = httpRequest(url(), { method: 'POST', headers: { 'content-type': PROTOBUF } });
      req.on('response', (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
      });
      req.on('error', reject);
      const third = Math.ceil(protobufBody.length / 3);
      req.write(protobufBody.subarray(0, third));
      setTimeout(() => {
        req.write(protobufBody.subarray(third, 2 * third));
        setTimeout(() => req.end(protobufBody.subarray(2 * third)), 20);
      }, 20);
    });
    expect(status).toBe(200);
    expect(received).toEqual([expectedSpans]);
  });

  it('takes nothing from a client that leaves mid-body, and keeps serving', async () => {
    const req = httpRequest(url(), { method: 'POST', headers: { 'content-type': PROTOBUF } });
    req.on('error', () => {});
    req.write(protobufBody.subarray(0, protobufBody.length >> 1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    req.destroy();
    for (let waited = 0; rejected.length === 0 && waited < 5_000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(rejected).toEqual([[expect.stringMatching(/^request body could not be read: /), 400]]);
    expect(received).toEqual([]);
    expect((await postGood()).status).toBe(200);
  });

  it('answers 413 to a chunked body while it is still being sent, then keeps serving', async () => {
    const { status, body } = await postOpenEnded(limit + 64 * 1024);
    expect(status).toBe(413);
    expect(body.toString('utf8')).toContain(`request body exceeds the limit of ${limit} bytes`);
    expect(rejected).toEqual([[`request body exceeds the limit of ${limit} bytes`, 413]]);
    expect((await postGood()).status).toBe(200);
  });

  it('answers 413 to a declared oversize body, then keeps serving', async () => {
    const response = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': JSON_TYPE },
      body: new Uint8Array(limit * 2),
    });
    expect(response.status).toBe(413);
    expect(await statusMessage(response)).toBe(`request body exceeds the limit of ${limit} bytes`);
    expect((await postGood()).status).toBe(200);
  });

  it('answers 413 to a gzip bomb, then keeps serving', async () => {
    const bomb = gzipBomb();
    expect(bomb.length).toBeLessThan(limit);
    const response = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': PROTOBUF, 'content-encoding': 'gzip' },
      body: bomb,
    });
    expect(response.status).toBe(413);
    expect(await statusMessage(response)).toBe(
      `gzip-decoded request body exceeds the limit of ${limit} bytes`,
    );
    expect(received).toEqual([]);
    expect((await postGood()).status).toBe(200);
  });
});
