/**
 * `GET /api/findings` as served: made once per store revision, filter and view, gzip'd once for
 * the clients that accept it, and tagged so that a poll whose copy is still current is answered
 * 304. The dashboard polls every few seconds and the pipeline rewrites findings only when a
 * detection run finds something: between two writes, every poll of every open dashboard gets the
 * same bytes without the store being read again.
 *
 * After a write, the list is spliced from each finding's JSON as this view last serialized it,
 * kept with the finding's revision: only the findings written since (by this collector or any
 * other connection to the file) are read and serialized again, not the whole list.
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

/** One finding's JSON (UTF-8) in one view, and the revision of the finding it was made from. */
interface Fragment {
  revision: number;
  json: Uint8Array<ArrayBuffer>;
}

const utf8 = new TextEncoder();
const OPEN = utf8.encode('{"findings":[');
const COMMA = utf8.encode(',');
const CLOSE = utf8.encode(']}');

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
  const bodies = keptBodies<string>({ maxEntries: maxFilters, gzipLevel });
  const fragments: Record<FindingView, Map<string, Fragment>> = { full: new Map(), summary: new Map() };

  return (filter, view = 'full') => {
    const revision = store.findingsRevision();
    const key = `${filter.service ?? ''}\u0000${filter.kind ?? ''}\u0000${filter.status ?? ''}\u0000${view}`;
    return (
      bodies.get(key, (builtAt) => builtAt === revision) ??
      bodies.put(key, listJson(store, filter, view, fragments[view]), revision)
    );
  };
}

/**
 * `{"findings":[…]}` for the filtered list, spliced from kept fragments and fresh ones for the
 * findings that changed. Bytes, not text: joining a thousand strings and encoding the result
 * cost 8 ms, copying their bytes well under one.
 */
function listJson(
  store: Store,
  filter: FindingFilter,
  view: FindingView,
  kept: Map<string, Fragment>,
): Uint8Array<ArrayBuffer> {
  const listed = store.listFindingRevisions(filter, (id, revision) => kept.get(id)?.revision === revision);
  const parts = listed.map(({ id, revision, finding }) => {
    if (!finding) return (kept.get(id) as Fragment).json;
    const json = utf8.encode(JSON.stringify(view === 'summary' ? summarizeFinding(finding) : finding));
    kept.set(id, { revision, json });
    return json;
  });
  // The whole list names every finding there is: fragments of any other (a replaced file's) go.
  if (
    filter.service === undefined &&
    filter.kind === undefined &&
    filter.status === undefined &&
    kept.size > listed.length
  ) {
    const ids = new Set(listed.map(({ id }) => id));
    for (const id of kept.keys()) if (!ids.has(id)) kept.delete(id);
  }
  return splice(parts);
}

/** `{"findings":[` part `,` part … `]}` in one buffer. */
function splice(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = OPEN.length + CLOSE.length + Math.max(parts.length - 1, 0);
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  out.set(OPEN);
  let offset = OPEN.length;
  for (const [index, part] of parts.entries()) {
    if (index > 0) out.set(COMMA, offset++);
    out.set(part, offset);
    offset += part.length;
  }
  out.set(CLOSE, offset);
  return out;
}
