/**
 * Request bodies for the receivers (`/v1/traces`, `/v1/runtime`): read as a stream and
 * cut off at a byte limit (Content-Length is only a hint: chunked bodies carry none),
 * then `Content-Encoding` undone under the same cap on the decoded size, so a gzip bomb
 * stops expanding at the limit. Every failure is a {@link Rejection}: an HTTP status and
 * a one-line reason for the client.
 */
import { constants } from 'node:buffer';
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
 * both as received and once decoded.
 *
 * @example
 * const bytes = await readDecodedBody(c.req.raw, 1 << 20); // throws Rejection(413, …) past 1 MiB
 */
export async function readDecodedBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const coding = contentCodingOf(request.headers.get('content-encoding') ?? undefined);
  const body = await readBody(request, maxBytes);
  return coding ? decompressBody(body, coding, maxBytes) : body;
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
