/**
 * `GET /api/findings` as served: read and serialized once per store revision, filter and view,
 * gzip'd once for the clients that accept it, and tagged so that a poll whose copy is still
 * current is answered 304. The dashboard polls every few seconds and the pipeline rewrites
 * findings only when a detection run finds something: between two writes, every poll of every
 * open dashboard gets the same bytes without the store being read again.
 */
import type { FindingFilter, Store } from '../store/types.js';
import { type CachedBody, FAST_GZIP, keptBodies } from './cached-body.js';
import { summarizeFinding } from './finding-summary.js';

/** `full`: every field of every finding; `summary`: what a list shows (see finding-summary.ts). */
export const FINDING_VIEWS = ['full', 'summary'] as const;
export type FindingView = (typeof FINDING_VIEWS)[number];

export interface FindingsBodyOptions {
  /** Filter and view pairs whose bodies are kept at once; the least recently used goes first (default 32). */
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
  const bodyOf = keptBodies<string>({ maxEntries: maxFilters, gzipLevel });

  return (filter, view = 'full') => {
    const revision = store.findingsRevision();
    const key = `${filter.service ?? ''}\u0000${filter.kind ?? ''}\u0000${filter.status ?? ''}\u0000${view}`;
    return bodyOf(
      key,
      (builtAt) => builtAt === revision,
      () => {
        const findings = store.listFindings(filter);
        return {
          value: { findings: view === 'summary' ? findings.map(summarizeFinding) : findings },
          stamp: revision,
        };
      },
    );
  };
}
