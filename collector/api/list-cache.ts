/**
 * The list routes' answers (`/api/queries`, …), kept for a few seconds. Each is a merge of
 * every stored bucket of its family over the range — an hour of a thousand statements is
 * 60 000 rows to read, parse and merge, hundreds of milliseconds on the event loop that
 * ingest shares — while the dashboard asks for the same one every 5 s, from every open tab.
 * The data is per minute and the sparklines' slots are one to six hours wide for the long
 * ranges: an answer a few seconds old says the same.
 */
import { randomBytes } from 'node:crypto';
import { type CachedBody, cachedBody, FAST_GZIP } from './cached-body.js';
import { SPARKLINE_SLOT_MS } from './sparklines.js';

const SECOND_MS = 1_000;

export interface ListCacheOptions {
  /** Answers kept at once (route, range, service and limit each make one); the least recently used goes first (default 64). */
  maxEntries: number;
  /** zlib level (default 1, the fastest; see `FAST_GZIP`). */
  gzipLevel: number;
}

export const defaultListCacheOptions: ListCacheOptions = { maxEntries: 64, gzipLevel: FAST_GZIP };

/**
 * How long an answer over `since` is served again: a quarter of its sparkline slot, 15 s to
 * 60 s (15 s for `15m`, 30 s for `1h`, 60 s for `24h` and `7d`).
 *
 * @example
 * listFreshMs('1h'); // 30_000
 */
export function listFreshMs(since: string): number {
  const slotMs = SPARKLINE_SLOT_MS[since] ?? 0;
  return Math.min(Math.max(slotMs / 4, 15 * SECOND_MS), 60 * SECOND_MS);
}

/**
 * @example
 * const bodyOf = listBodies();
 * const body = bodyOf('queries?since=1h', clock(), listFreshMs('1h'), () => ({ queries: rows }));
 * return sendBody(c, body);
 */
export function listBodies(
  options: Partial<ListCacheOptions> = {},
): (key: string, nowMs: number, freshMs: number, build: () => unknown) => CachedBody {
  const { maxEntries, gzipLevel } = { ...defaultListCacheOptions, ...options };
  // A tag from before a restart must not match a new body.
  const instance = randomBytes(6).toString('base64url');
  const kept = new Map<string, { body: CachedBody; madeAtMs: number }>();
  let made = 0;

  return (key, nowMs, freshMs, build) => {
    const entry = kept.get(key);
    kept.delete(key);
    // A clock that went back (a corrected system clock) ages nothing: build again.
    if (entry && nowMs >= entry.madeAtMs && nowMs - entry.madeAtMs < freshMs) {
      kept.set(key, entry);
      return entry.body;
    }
    made += 1;
    const body = cachedBody(build(), `W/"${instance}.${made}"`, gzipLevel);
    kept.set(key, { body, madeAtMs: nowMs });
    const oldest = kept.keys().next();
    if (kept.size > maxEntries && !oldest.done) kept.delete(oldest.value);
    return body;
  };
}
