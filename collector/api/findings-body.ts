/**
 * `GET /api/findings` as served: read and serialized once per store revision, filter and view,
 * gzip'd once for the clients that accept it, and tagged so that a poll whose copy is still
 * current is answered 304. The dashboard polls every few seconds and the pipeline rewrites
 * findings only when a detection run finds something: between two writes, every poll of every
 * open dashboard gets the same bytes without the store being read again.
 */
import { randomBytes } from 'node:crypto';
import type { FindingFilter, Store } from '../store/types.js';
import { type CachedBody, cachedBody, FAST_GZIP } from './cached-body.js';
import { summarizeFinding } from './finding-summary.js';

/** `full`: every field of every finding; `summary`: what a list shows (see finding-summary.ts). */
export const FINDING_VIEWS = ['full', 'summary'] as const;
export type FindingView = (typeof FINDING_VIEWS)[number];

export interface FindingsBodyOptions {
  /** Filter and view pairs whose bodies are kept at once; the oldest goes first (default 32). */
  maxFilters: number;
  /** zlib level (default 1, the fastest; see `FAST_GZIP`). */
  gzipLevel: number;
}

export const defaultFindingsBodyOptions: FindingsBodyOptions = {
  maxFilters: 32,
  gzipLevel: FAST_GZIP,
};

/** `{"findings":[…]}`, with its tag: the same while the store's findings are. */
export type FindingsBody = CachedBody;

/**
 * @example
 * const bodyOf = findingsBodies(store);
 * const body = bodyOf({ service: 'shop' }, 'summary');
 * return sendBody(c, body);
 */
export function findingsBodies(
  store: Store,
  options: Partial<FindingsBodyOptions> = {},
): (filter: FindingFilter, view?: FindingView) => FindingsBody {
  const { maxFilters, gzipLevel } = { ...defaultFindingsBodyOptions, ...options };
  // Revisions start again with each process: the instance keeps an old tag from matching a new body.
  const instance = randomBytes(6).toString('base64url');
  const bodies = new Map<string, FindingsBody>();
  let revision: string | undefined;

  return (filter, view = 'full') => {
    const current = store.findingsRevision();
    if (current !== revision) {
      bodies.clear();
      revision = current;
    }
    const key = `${filter.service ?? ''}\u0000${filter.kind ?? ''}\u0000${filter.status ?? ''}\u0000${view}`;
    let body = bodies.get(key);
    if (!body) {
      const oldest = bodies.keys().next();
      if (bodies.size >= maxFilters && !oldest.done) bodies.delete(oldest.value);
      const findings = store.listFindings(filter);
      body = cachedBody(
        { findings: view === 'summary' ? findings.map(summarizeFinding) : findings },
        // The view is in the tag: one URL's two views are two bodies.
        `W/"${instance}.${current}.${view}"`,
        gzipLevel,
      );
      bodies.set(key, body);
    }
    return body;
  };
}
