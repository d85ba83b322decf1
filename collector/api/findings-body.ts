/**
 * `GET /api/findings` as served: made once per store revision, filter and view, gzip'd once for
 * the clients that accept it, and tagged so that a poll whose copy is still current is answered
 * 304. The dashboard polls every few seconds and the pipeline rewrites findings only when a
 * detection run finds something: between two writes, every poll of every open dashboard gets the
 * same bytes without the store being read again.
 *
 * After a write, the list is spliced from each finding's JSON as this view last serialized it,
 * kept with the finding's revision: only the findings written since (by this collector or any
 * other connection to the file) are read and serialized again, not the whole list, and only the
 * gzip segments holding them are compressed again (spliced-json.ts).
 */
import type { FindingFilter, Store } from '../store/types.js';
import { type CachedBody, FAST_GZIP, keptBodies } from './cached-body.js';
import { summarizeFinding } from './finding-summary.js';
import { SplicedJson, type SplicedPart } from './spliced-json.js';

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
interface Fragment extends SplicedPart {
  revision: number;
}

/** What a kept body was built from: the store's revision, and its segments for the next one. */
interface Built {
  revision: string;
  spliced: SplicedJson;
}

const utf8 = new TextEncoder();
const OPEN = utf8.encode('{"findings":[');
const CLOSE = utf8.encode(']}');
/** About one finding in this many ends a gzip segment (see spliced-json.ts). */
const FINDINGS_PER_SEGMENT = 64;

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
  const bodies = keptBodies<Built>({ maxEntries: maxFilters, gzipLevel });
  const fragments: Record<FindingView, Map<string, Fragment>> = { full: new Map(), summary: new Map() };

  return (filter, view = 'full') => {
    const revision = store.findingsRevision();
    const key = `${filter.service ?? ''}\u0000${filter.kind ?? ''}\u0000${filter.status ?? ''}\u0000${view}`;
    const kept = bodies.get(key, (built) => built.revision === revision);
    if (kept) return kept;
    const parts = listParts(store, filter, view, fragments[view]);
    const spliced = new SplicedJson(OPEN, parts, CLOSE, bodies.peek(key)?.spliced.segments, gzipLevel);
    return bodies.put(key, spliced, { revision, spliced });
  };
}

/**
 * The filtered list's findings as JSON, from kept fragments and fresh ones for the findings that
 * changed. Bytes, not text: joining a thousand strings and encoding the result cost 8 ms, copying
 * their bytes well under one.
 */
function listParts(
  store: Store,
  filter: FindingFilter,
  view: FindingView,
  kept: Map<string, Fragment>,
): Fragment[] {
  const listed = store.listFindingRevisions(filter, (id, revision) => kept.get(id)?.revision === revision);
  const parts = listed.map(({ id, revision, finding }) => {
    if (!finding) return kept.get(id) as Fragment;
    const text = JSON.stringify(view === 'summary' ? summarizeFinding(finding) : finding);
    const fragment = { revision, json: utf8.encode(asciiJson(text)), endsSegment: endsSegment(id) };
    kept.set(id, fragment);
    return fragment;
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
  return parts;
}

const NON_ASCII = /[\u0080-\uffff]/g;

/**
 * JSON text with every character past ASCII written as a `\u` escape: the same value, and a client
 * decodes a body of ASCII alone (a one-byte string) about twice as fast as UTF-8 with a few
 * titles' `×` or `…` in it (TextDecoder, 500 KiB: 1.0 → 0.43 ms), holding half the memory.
 */
export function asciiJson(text: string): string {
  return text.replace(NON_ASCII, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Whether a segment ends after this finding: by its id, so segments keep their bounds as others change. */
function endsSegment(id: string): boolean {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (Math.imul(hash, 31) + id.charCodeAt(i)) | 0;
  return (hash >>> 0) % FINDINGS_PER_SEGMENT === 0;
}
