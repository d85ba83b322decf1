/**
 * The list routes' answers (`/api/queries`, …), kept for as long as they were costly. Each
 * is a merge of every stored bucket of its family over the range — an hour of a thousand
 * statements is 60 000 rows to read, parse and merge, hundreds of milliseconds — while the
 * dashboard asks for the same one every 5 s, from every open tab. An answer is kept for 20×
 * what it cost to build, so rebuilding takes at most ~5% of a core; the data is per minute,
 * so a costly answer a few seconds old says the same, while a small store (a demo's first
 * minute) is answered fresh on every poll. Requests for an answer being merged wait for that
 * merge instead of starting another; when it merges elsewhere (the list thread), a request that
 * has an older answer to show gets that one meanwhile, so a poll never waits for the merge its
 * answer's age started: an answer is served at most its fresh time plus one merge.
 */
import { type CachedBody, FAST_GZIP, keptBodies } from './cached-body.js';
import type { ListAnswer } from './list-answer.js';
import { SPARKLINE_SLOT_MS } from './sparklines.js';

const SECOND_MS = 1_000;
/** Reading, parsing and merging one stored bucket took ~12 µs (bench/api-latency.mjs); kept 20× that. */
const KEPT_MS_PER_BUCKET = 0.25;

export interface ListCacheOptions {
  /** Answers kept at once (route, range, service and limit each make one); the least recently used goes first (default 64). */
  maxEntries: number;
  /** zlib level (default 1, the fastest; see `FAST_GZIP`). */
  gzipLevel: number;
}

export const defaultListCacheOptions: ListCacheOptions = { maxEntries: 64, gzipLevel: FAST_GZIP };

/**
 * How long an answer over `since`, merged from `bucketsRead` stored buckets, is served again:
 * 20× its cost, at most a quarter of its sparkline slot (15 s to 60 s: 15 s for `15m`, 30 s
 * for `1h`, 60 s for `24h` and `7d`).
 *
 * @example
 * listFreshMs('1h', 61_000); // 15_250
 * listFreshMs('1h', 400); // 100: a small store is read on every poll
 */
export function listFreshMs(since: string, bucketsRead: number): number {
  const slotMs = SPARKLINE_SLOT_MS[since] ?? 0;
  const mostMs = Math.min(Math.max(slotMs / 4, 15 * SECOND_MS), 60 * SECOND_MS);
  return Math.min(bucketsRead * KEPT_MS_PER_BUCKET, mostMs);
}

/**
 * @example
 * const bodyOf = listBodies();
 * const body = await bodyOf('queries?since=1h', clock(), () => listThread.answer(request));
 * return sendBody(c, body);
 */
export function listBodies(
  options: Partial<ListCacheOptions> = {},
): (key: string, nowMs: number, build: () => ListAnswer | Promise<ListAnswer>) => Promise<CachedBody> {
  const bodies = keptBodies<{ madeAtMs: number; freshMs: number }>({
    ...defaultListCacheOptions,
    ...options,
  });
  const merging = new Map<string, Promise<CachedBody>>();
  return async (key, nowMs, build) => {
    // A clock that went back (a corrected system clock) ages nothing: build again.
    const kept = bodies.get(key, ({ madeAtMs, freshMs }) => nowMs >= madeAtMs && nowMs - madeAtMs < freshMs);
    if (kept) return kept;
    let pending = merging.get(key);
    if (!pending) {
      const keep = ({ json, freshMs }: ListAnswer) => bodies.put(key, json, { madeAtMs: nowMs, freshMs });
      const answer = build();
      if (!(answer instanceof Promise)) return keep(answer);
      pending = answer.then(keep).finally(() => merging.delete(key));
      // A merge that failed is not hidden behind an older answer: the next request waits for its own.
      pending.catch(() => bodies.delete(key));
      merging.set(key, pending);
    }
    return bodies.get(key, () => true) ?? pending;
  };
}
