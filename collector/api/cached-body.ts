/**
 * A JSON answer made once and served many times: the findings list per store revision, a list
 * route per short interval. Serialized once, gzip'd once for the clients that accept it, and
 * tagged so that a poll whose copy is still current is answered 304 without a body.
 */
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { constants, gzip, gzipSync } from 'node:zlib';
import type { Context } from 'hono';
import { accepts } from 'hono/accepts';

const gzipAsync = promisify(gzip);
const utf8 = new TextEncoder();

/**
 * zlib level 1, the fastest: a body is compressed once per revision, and revisions come every
 * few seconds under traffic, while level 6 saves only ~15% of a body already ~17× smaller than its JSON.
 */
export const FAST_GZIP = constants.Z_BEST_SPEED;

/** A body's JSON, UTF-8, and its gzip, each made once. */
export interface BodyBytes {
  /** The JSON, UTF-8. */
  readonly json: Uint8Array<ArrayBuffer>;
  /** The JSON gzip'd, compressed on first use and kept. */
  gzipped(): Promise<Uint8Array<ArrayBuffer>>;
}

export interface CachedBody extends BodyBytes {
  /** A weak validator of this URL's body: the same while the body is. */
  etag: string;
}

/**
 * @example
 * const body = cachedBody(JSON.stringify({ findings }), 'W/"abc.12"');
 * return sendBody(c, body);
 */
export function cachedBody(
  text: string | Uint8Array<ArrayBuffer> | BodyBytes,
  etag: string,
  gzipLevel = FAST_GZIP,
): CachedBody {
  // Bytes that bring their own gzip (a spliced list) keep it.
  if (typeof text !== 'string' && !(text instanceof Uint8Array)) {
    return {
      etag,
      get json() {
        return text.json;
      },
      gzipped: () => text.gzipped(),
    };
  }
  const json = typeof text === 'string' ? utf8.encode(text) : text;
  let gzipped: Promise<Uint8Array<ArrayBuffer>> | undefined;
  return {
    json,
    etag,
    gzipped: () => {
      // A copy of zlib's Buffer typed as the plain bytes a Response body takes: once per body.
      gzipped ??= gzipAsync(json, { level: gzipLevel }).then((bytes) => new Uint8Array(bytes));
      return gzipped;
    },
  };
}

/** Bodies kept by key, each with the stamp it was built under; see {@link keptBodies}. */
export interface KeptBodies<Stamp> {
  /** The body kept under `key` if `isFresh` accepts its stamp (it becomes the most recently used). */
  get(key: string, isFresh: (stamp: Stamp) => boolean): CachedBody | undefined;
  /** The stamp kept under `key`, fresh or not, leaving its place in the order as it is. */
  peek(key: string): Stamp | undefined;
  /**
   * Keeps a new body under `key`, tagged anew, from its JSON (text, UTF-8, or bytes that bring
   * their own gzip); past `maxEntries` the least recently used goes.
   */
  put(key: string, json: string | Uint8Array<ArrayBuffer> | BodyBytes, stamp: Stamp): CachedBody;
  /** Forgets the body kept under `key`. */
  delete(key: string): void;
}

/**
 * Bodies kept by key, each with the stamp it was built under (a store revision, a build time)
 * and served again while the caller's `isFresh` accepts that stamp. Tags are unique to this
 * process: a tag from before a restart never matches a new body.
 *
 * @example
 * const bodies = keptBodies<string>({ maxEntries: 32 });
 * const body = bodies.get(key, (made) => made === revision) ?? bodies.put(key, json, revision);
 */
export function keptBodies<Stamp>({
  maxEntries,
  gzipLevel = FAST_GZIP,
}: {
  maxEntries: number;
  gzipLevel?: number;
}): KeptBodies<Stamp> {
  const instance = randomBytes(6).toString('base64url');
  const kept = new Map<string, { body: CachedBody; stamp: Stamp }>();
  let made = 0;

  return {
    get(key, isFresh) {
      const entry = kept.get(key);
      if (!entry || !isFresh(entry.stamp)) return undefined;
      kept.delete(key);
      kept.set(key, entry);
      return entry.body;
    },
    peek(key) {
      return kept.get(key)?.stamp;
    },
    put(key, json, stamp) {
      made += 1;
      const body = cachedBody(json, `W/"${instance}.${made}"`, gzipLevel);
      kept.delete(key);
      kept.set(key, { body, stamp });
      const oldest = kept.keys().next();
      if (kept.size > maxEntries && !oldest.done) kept.delete(oldest.value);
      return body;
    },
    delete(key) {
      kept.delete(key);
    },
  };
}

/**
 * Answers with `body`: 304 when the request's `If-None-Match` names its tag, gzip'd when the
 * client accepts it. `no-cache`: a browser keeps the body but asks each time, with the tag,
 * whether it is still current.
 */
export async function sendBody(c: Context, body: CachedBody): Promise<Response> {
  c.header('cache-control', 'no-cache');
  c.header('etag', body.etag);
  c.header('vary', 'accept-encoding');
  if (ifNoneMatch(c.req.header('if-none-match'), body.etag)) return c.body(null, 304);
  c.header('content-type', 'application/json');
  if (acceptsGzip(c)) {
    c.header('content-encoding', 'gzip');
    return c.body(await body.gzipped());
  }
  return c.body(body.json);
}

/** Below this, a JSON answer is sent as it is (as hono's compress() leaves it). */
const GZIP_MIN_BYTES = 1024;

/**
 * Answers `value` as JSON made once per request (a finding's detail), gzip'd in one zlib call
 * when the client accepts it: hono's compress() pipes a body through a CompressionStream, whose
 * web-stream plumbing cost an 18 KB detail 0.9 ms of its ~4. Level 1 on this thread: ~0.05 ms.
 */
export function sendJson(c: Context, value: unknown): Response {
  const json = utf8.encode(JSON.stringify(value));
  c.header('content-type', 'application/json');
  c.header('vary', 'accept-encoding');
  if (json.length < GZIP_MIN_BYTES || !acceptsGzip(c)) return c.body(json);
  c.header('content-encoding', 'gzip');
  return c.body(new Uint8Array(gzipSync(json, { level: FAST_GZIP })));
}

function acceptsGzip(c: Context): boolean {
  return accepts(c, { header: 'Accept-Encoding', supports: ['gzip'], default: 'identity' }) === 'gzip';
}

/**
 * Whether an `If-None-Match` header names `etag` (weak comparison, as for GET), or is `*`.
 *
 * @example
 * ifNoneMatch('W/"a.1.0", W/"a.2.0"', 'W/"a.2.0"'); // true
 */
export function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const opaque = etag.replace(/^W\//, '');
  return header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === opaque;
  });
}
