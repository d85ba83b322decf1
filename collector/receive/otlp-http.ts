/**
 * OTLP/HTTP trace receiver: `POST /v1/traces` as a Hono sub-app.
 *
 * The body is read as a stream and cut off at `maxBodyBytes` (Content-Length is only a
 * hint: chunked bodies carry none), `Content-Encoding` is undone under the same cap on the
 * decoded size, so a gzip bomb stops expanding at the limit, and the result is decoded as
 * protobuf or JSON by `Content-Type`. Responses follow the OTLP/HTTP specification: success
 * is 200 with an empty `ExportTraceServiceResponse`; failures carry a `google.rpc.Status`
 * whose message is the one-line reason; both in the request's encoding. Decoding is all or
 * nothing, so `partial_success` is never set; so is the check of span times (a span from
 * before 2000, after 2100, ending before it starts or lasting over a day is refused with its
 * request). Every failure is answered, never thrown.
 *
 * @example
 * const app = new Hono();
 * app.route('/', otlpTraceRoutes({ onSpans: (spans) => pipeline.ingest(spans) }));
 */
import { Hono } from 'hono';
import type { SpanRecord } from '../../model/index.js';
import { checkMaxBodyBytes, firstLine, nodeRequestOf, Rejection, readDecodedBody } from './body.js';
import { OtlpDecodeError } from './decoding.js';
import { decodeJsonTraceRequest } from './otlp-json.js';
import { decodeProtobufTraceRequest } from './otlp-protobuf.js';
import { implausibleSpanTimes } from './span-times.js';

export interface OtlpTraceRoutesOptions {
  /** Receives the spans of each accepted request; not called for requests without spans. */
  onSpans: (spans: SpanRecord[]) => void;
  /** Largest body accepted, in bytes: checked on the bytes received and again once decompressed. */
  maxBodyBytes?: number;
  /** Told about every refused request (a counter, a log line); it cannot change the answer. */
  onRejected?: (reason: string, status: number) => void;
}

/** 16 MiB: far above what an SDK batch exporter sends, small enough to hold per request. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

type OtlpEncoding = 'protobuf' | 'json';

const CONTENT_TYPE: Record<OtlpEncoding, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

/**
 * Builds the sub-app serving `POST /v1/traces`; other methods on the path get 405.
 * Throws a RangeError when `maxBodyBytes` is not a usable byte count.
 *
 * @example
 * const app = otlpTraceRoutes({ onSpans: (spans) => received.push(...spans), maxBodyBytes: 1 << 20 });
 * const response = await app.request('/v1/traces', {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/x-protobuf' },
 *   body: ProtobufTraceSerializer.serializeRequest(finishedSpans),
 * });
 * response.status; // 200
 */
export function otlpTraceRoutes(options: OtlpTraceRoutesOptions): Hono {
  const { onSpans, maxBodyBytes, onRejected } = { maxBodyBytes: DEFAULT_MAX_BODY_BYTES, ...options };
  checkMaxBodyBytes(maxBodyBytes);
  const app = new Hono();

  const reject = (
    status: number,
    reason: string,
    encoding: OtlpEncoding,
    headers: Record<string, string> = {},
  ) => {
    try {
      onRejected?.(reason, status);
    } catch {
      // An observer's failure must not change what the client is told.
    }
    return new Response(rpcStatus(reason, encoding), {
      status,
      headers: { ...headers, 'content-type': CONTENT_TYPE[encoding] },
    });
  };

  app.post('/v1/traces', async (c) => {
    const encoding = otlpEncodingOf(c.req.header('content-type'));
    let spans: SpanRecord[];
    try {
      if (encoding === undefined) {
        throw new Rejection(415, 'unsupported content type: send application/x-protobuf or application/json');
      }
      const body = await readDecodedBody(c.req.raw, maxBodyBytes, nodeRequestOf(c.env));
      spans = encoding === 'protobuf' ? decodeProtobufTraceRequest(body) : decodeJsonTraceRequest(body);
      const implausible = implausibleSpanTimes(spans);
      if (implausible) throw new Rejection(400, implausible);
    } catch (error) {
      if (error instanceof Rejection) return reject(error.status, error.message, encoding ?? 'json');
      if (error instanceof OtlpDecodeError) return reject(400, error.message, encoding ?? 'json');
      return reject(500, `request could not be processed: ${firstLine(error)}`, encoding ?? 'json');
    }
    try {
      if (spans.length > 0) onSpans(spans);
    } catch (error) {
      return reject(500, `spans could not be accepted: ${firstLine(error)}`, encoding);
    }
    // An ExportTraceServiceResponse with nothing set: zero bytes in protobuf, `{}` in JSON.
    return new Response(encoding === 'protobuf' ? new Uint8Array(0) : '{}', {
      status: 200,
      headers: { 'content-type': CONTENT_TYPE[encoding] },
    });
  });

  app.all('/v1/traces', (c) => {
    const encoding = otlpEncodingOf(c.req.header('content-type')) ?? 'json';
    return reject(405, `method ${c.req.method} not allowed: OTLP/HTTP exports use POST`, encoding, {
      allow: 'POST',
    });
  });

  return app;
}

/** The OTLP encoding a Content-Type names, ignoring parameters such as `charset`. */
function otlpEncodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType === CONTENT_TYPE.protobuf) return 'protobuf';
  if (mediaType === CONTENT_TYPE.json) return 'json';
  return undefined;
}

/** A `google.rpc.Status` carrying only `message` (field 2): OTLP leaves `code` unused. */
function rpcStatus(message: string, encoding: OtlpEncoding): Uint8Array | string {
  if (encoding === 'json') return JSON.stringify({ message });
  const text = Buffer.from(message, 'utf8');
  const length: number[] = [];
  let remaining = text.length;
  while (remaining > 0x7f) {
    length.push((remaining & 0x7f) | 0x80);
    remaining >>>= 7;
  }
  length.push(remaining);
  return Buffer.concat([Uint8Array.of(0x12, ...length), text]);
}
