/**
 * OTLP/HTTP trace receiver: `POST /v1/traces` as a Hono sub-app.
 *
 * The body is read as a stream and cut off at `maxBodyBytes` (Content-Length is only a
 * hint: chunked bodies carry none), `Content-Encoding` is undone under the same cap on the
 * decoded size, so a gzip bomb stops expanding at the limit, and the result is decoded as
 * protobuf or JSON by `Content-Type`. Responses follow the OTLP/HTTP specification: success
 * is 200 with an empty `ExportTraceServiceResponse`; failures carry a `google.rpc.Status`
 * whose message is the one-line reason; both in the request's encoding. Decoding is all or
 * nothing, so `partial_success` is never set. Every failure is answered, never thrown.
 *
 * @example
 * const app = new Hono();
 * app.route('/', otlpTraceRoutes({ onSpans: (spans) => pipeline.ingest(spans) }));
 */
import { constants } from 'node:buffer';
import { promisify } from 'node:util';
import { gunzip, type InputType, inflate, type ZlibOptions } from 'node:zlib';
import { Hono } from 'hono';
import type { SpanRecord } from '../../model/index.js';
import { OtlpDecodeError } from './decoding.js';
import { decodeJsonTraceRequest } from './otlp-json.js';
import { decodeProtobufTraceRequest } from './otlp-protobuf.js';

export interface OtlpTraceRoutesOptions {
  /** Receives the spans of each accepted request; not called for requests without spans. */
  onSpans: (spans: SpanRecord[]) => void;
  /** Largest body accepted, in bytes: checked on the bytes received and again once decompressed. */
  maxBodyBytes?: number;
  /** Told about every refused request (a counter, a log line); it cannot change the answer. */
  onRejected?: (reason: string, status: number) => void;
}

const { MAX_LENGTH } = constants;

/** 16 MiB: far above what an SDK batch exporter sends, small enough to hold per request. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

type OtlpEncoding = 'protobuf' | 'json';
type ContentCoding = 'gzip' | 'deflate';

const CONTENT_TYPE: Record<OtlpEncoding, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};
const DECOMPRESS: Record<ContentCoding, (body: InputType, options: ZlibOptions) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  // HTTP's "deflate" is the zlib format (RFC 1950), not raw deflate.
  deflate: promisify(inflate),
};

/** A request refused with an HTTP status and a one-line reason. */
class Rejection extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

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
  // zlib's output cap takes whole bytes up to the largest Buffer; refuse anything else up front.
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1 || maxBodyBytes > MAX_LENGTH) {
    throw new RangeError(
      `maxBodyBytes must be a whole number of bytes from 1 to ${MAX_LENGTH}, got ${maxBodyBytes}`,
    );
  }
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
      const coding = contentCodingOf(c.req.header('content-encoding'));
      let body = await readBody(c.req.raw, maxBodyBytes);
      if (coding) body = await decompressBody(body, coding, maxBodyBytes);
      spans = encoding === 'protobuf' ? decodeProtobufTraceRequest(body) : decodeJsonTraceRequest(body);
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

/** The compression a Content-Encoding names; `undefined` when the body is sent as is. */
function contentCodingOf(contentEncoding: string | undefined): ContentCoding | undefined {
  const coding = contentEncoding?.trim().toLowerCase() ?? '';
  if (coding === '' || coding === 'identity') return undefined;
  if (coding === 'gzip' || coding === 'deflate') return coding;
  // RFC 9110 asks recipients to treat x-gzip as gzip.
  if (coding === 'x-gzip') return 'gzip';
  throw new Rejection(415, 'unsupported content encoding: send gzip, deflate or identity');
}

/** Reads the body chunk by chunk, stopping as soon as it passes `maxBytes`. */
async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () => new Rejection(413, `request body exceeds the limit of ${maxBytes} bytes`);
  const declaredLength = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declaredLength > maxBytes) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const chunk = await reader.read().catch((error: unknown) => {
      throw new Rejection(400, `request body could not be read: ${firstLine(error)}`);
    });
    if (chunk.done) break;
    received += chunk.value.byteLength;
    if (received > maxBytes) {
      // Not awaited: a client still sending must not hold up the answer.
      reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(chunk.value);
  }
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks, received);
}

async function decompressBody(
  body: Uint8Array,
  coding: ContentCoding,
  maxBytes: number,
): Promise<Uint8Array> {
  try {
    // zlib stops producing output once past maxOutputLength, so a bomb never expands fully.
    return await DECOMPRESS[coding](body, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new Rejection(413, `${coding}-decoded request body exceeds the limit of ${maxBytes} bytes`);
    }
    throw new Rejection(400, `request body is not valid ${coding}: ${firstLine(error)}`);
  }
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

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n', 1)[0] ?? '';
}
