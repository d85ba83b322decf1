/**
 * `GET /api/findings` as served: read and serialized once per store revision and filter,
 * gzip'd once for the clients that accept it, and tagged so that a poll whose copy is still
 * current is answered 304. The dashboard polls every few seconds and the pipeline rewrites
 * findings only when a detection run finds something: between two writes, every poll of every
 * open dashboard gets the same bytes without the store being read again.
 */
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { constants, gzip } from 'node:zlib';
import type { FindingFilter, Store } from '../store/types.js';

const gzipAsync = promisify(gzip);
const utf8 = new TextEncoder();

export interface FindingsBodyOptions {
  /** Filters whose bodies are kept at once; the oldest goes first (default 32). */
  maxFilters: number;
  /**
   * zlib level (default 1, the fastest): a body is compressed once per revision, and revisions
   * come every few seconds under traffic, while level 6 saves only ~15% of a body already ~17×
   * smaller than its JSON.
   */
  gzipLevel: number;
}

export const defaultFindingsBodyOptions: FindingsBodyOptions = {
  maxFilters: 32,
  gzipLevel: constants.Z_BEST_SPEED,
};

export interface FindingsBody {
  /** `{"findings":[…]}`, UTF-8. */
  json: Uint8Array<ArrayBuffer>;
  /** A weak validator of this filter's body (filters have URLs of their own): the same while the store's findings are. */
  etag: string;
  /** The JSON gzip'd, compressed on first use (off the event loop) and kept. */
  gzipped(): Promise<Uint8Array<ArrayBuffer>>;
}

/**
 * @example
 * const bodyOf = findingsBodies(store);
 * const body = bodyOf({ service: 'shop' });
 * if (ifNoneMatch(c.req.header('if-none-match'), body.etag)) return c.body(null, 304);
 */
export function findingsBodies(
  store: Store,
  options: Partial<FindingsBodyOptions> = {},
): (filter: FindingFilter) => FindingsBody {
  const { maxFilters, gzipLevel } = { ...defaultFindingsBodyOptions, ...options };
  // Revisions start again with each process: the instance keeps an old tag from matching a new body.
  const instance = randomBytes(6).toString('base64url');
  const bodies = new Map<string, FindingsBody>();
  let revision: string | undefined;

  return (filter) => {
    const current = store.findingsRevision();
    if (current !== revision) {
      bodies.clear();
      revision = current;
    }
    const key = `${filter.service ?? ''}\u0000${filter.kind ?? ''}\u0000${filter.status ?? ''}`;
    let body = bodies.get(key);
    if (!body) {
      const oldest = bodies.keys().next();
      if (bodies.size >= maxFilters && !oldest.done) bodies.delete(oldest.value);
      const json = utf8.encode(JSON.stringify({ findings: store.listFindings(filter) }));
      let gzipped: Promise<Uint8Array<ArrayBuffer>> | undefined;
      body = {
        json,
        etag: `W/"${instance}.${current}"`,
        gzipped: () => {
          // A copy of zlib's Buffer typed as the plain bytes a Response body takes: once per revision.
          gzipped ??= gzipAsync(json, { level: gzipLevel }).then((bytes) => new Uint8Array(bytes));
          return gzipped;
        },
      };
      bodies.set(key, body);
    }
    return body;
  };
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
