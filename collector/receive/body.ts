/**
 * Request bodies for the receivers (`/v1/traces`, `/v1/runtime`): read as a stream and
 * cut off at a byte limit (Content-Length is only a hint: chunked bodies carry none),
 * then `Content-Encoding` undone under the same cap on the decoded size, so a gzip bomb
 * stops expanding at the limit. Every failure is a {@link Rejection}: an HTTP status and
 * a one-line reason for the client.
 */
import { constants } from 'node:buffer';
import { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { gunzip, type InputType, inflate, type ZlibOptions } from 'node:zlib';

const { MAX_LENGTH } = constants;

type ContentCoding = 'gzip' | 'deflate';

const DECOMPRESS: Record<ContentCoding, (body: InputType, options: ZlibOptions) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  // HTTP's "deflate" is the zlib format (RFC 1950), not raw deflate.
  deflate: promisify(inflate),
};

/** A request refused with an HTTP status and a one-line reason. */
export class Rejection extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Throws a RangeError unless `maxBodyBytes` is a byte count zlib's output cap accepts.
 *
 * @example
 * checkMaxBodyBytes(16 * 1024 * 1024); // fine
 * checkMaxBodyBytes(0); // RangeError
 */
export function checkMaxBodyBytes(maxBodyBytes: number): void {
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1 || maxBodyBytes > MAX_LENGTH) {
    throw new RangeError(
      `maxBodyBytes must be a whole number of bytes from 1 to ${MAX_LENGTH}, got ${maxBodyBytes}`,
    );
  }
}

/**
 * The request's body, decompressed as its Content-Encoding says, at most `maxBytes`
 * both as received and once decoded. `incoming` is the Node request underneath, when there is
 * one (@hono/node-server hands it over as `c.env.incoming`): read directly, as asking for
 * `request.body` made the adapter build a web Request and two layers of web streams over it,
 * per request.
 *
 * @example
 * const bytes = await readDecodedBody(c.req.raw, 1 << 20); // throws Rejection(413, …) past 1 MiB
 * const same = await readDecodedBody(c.req.raw, 1 << 20, nodeRequestOf(c.env)); // served by @hono/node-server
 */
export async function readDecodedBody(
  request: Request,
  maxBytes: number,
  incoming?: IncomingMessage,
): Promise<Uint8Array> {
  const header = (name: string) =>
    incoming ? singleHeader(incoming.headers[name]) : (request.headers.get(name) ?? undefined);
  const coding = contentCodingOf(header('content-encoding'));
  const declaredLength = Number(header('content-length') ?? Number.NaN);
  if (declaredLength > maxBytes) throw tooLarge(maxBytes);
  const body = await (incoming ? readIncoming(incoming, maxBytes) : readBody(request, maxBytes));
  return coding ? decompressBody(body, coding, maxBytes) : body;
}

/**
 * The Node request a Hono handler serves, when @hono/node-server serves it (its `c.env.incoming`);
 * undefined elsewhere (`app.request` in tests, other runtimes).
 */
export function nodeRequestOf(env: unknown): IncomingMessage | undefined {
  const incoming = (env as { incoming?: unknown } | undefined)?.incoming;
  return incoming instanceof IncomingMessage ? incoming : undefined;
}

/** The first line of an error's message: what a one-line reason may quote. */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n', 1)[0] ?? '';
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

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function tooLarge(maxBytes: number): Rejection {
  return new Rejection(413, `request body exceeds the limit of ${maxBytes} bytes`);
}

function unreadable(error: unknown): Rejection {
  return new Rejection(400, `request body could not be read: ${firstLine(error)}`);
}

/** Reads the body chunk by chunk, stopping as soon as it passes `maxBytes`. */
async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const chunk = await reader.read().catch((error: unknown) => {
      throw unreadable(error);
    });
    if (chunk.done) break;
    received += chunk.value.byteLength;
    if (received > maxBytes) {
      // Not awaited: a client still sending must not hold up the answer.
      reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(chunk.value);
  }
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks, received);
}

/**
 * `readBody` on the Node stream itself. Past `maxBytes` it stops listening and answers at once;
 * the rest of the body flows on unread (the adapter drains what follows its response).
 */
function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const stop = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.byteLength;
      if (received > maxBytes) {
        stop();
        reject(tooLarge(maxBytes));
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received));
    };
    const onError = (error: Error) => {
      stop();
      reject(unreadable(error));
    };
    // Closed before its end: the client went away mid-body.
    const onClose = () => onError(new Error('the connection closed before the body ended'));
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
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
