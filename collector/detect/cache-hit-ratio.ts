/**
 * cache_hit_ratio — a Redis key pattern whose reads mostly miss, over enough lookups
 * to matter. What follows the misses tells the story: a miss, then the same statement,
 * then a write of the pattern is cache-aside at work on entries that expire too soon
 * or are never asked for twice; misses with no write after them mean nothing fills
 * the cache. Session-like patterns miss by design and are left out.
 * Impact is the time of the statements run after misses (what hits would have saved),
 * or of the lookups themselves when no statement follows them.
 */
import type { FindingCandidate } from '../../model/index.js';
import { topLabels } from '../aggregate/stats.js';
import { round2 } from './format.js';
import { severityForImpact } from './severity.js';
import type { Detector } from './types.js';

/** Share of misses refilled within their trace from which the cache counts as cache-aside. */
const CACHE_ASIDE_SHARE = 0.5;
/** Placeholders that mean a key part changes on every write: such keys are rarely read twice. */
const UNIQUE_PARTS = ['{uuid}', '{hash}', '{date}'];

export const cacheHitRatioDetector: Detector = {
  kind: 'cache_hit_ratio',
  explain: (config) => ({
    rule:
      `a Redis key pattern whose hit ratio is below ${config.cacheMinHitRatio} over ${config.cacheMinLookups}+ ` +
      `lookups (patterns ${config.cacheExcludedPatterns.join(', ')} excluded)`,
    impact:
      'time of the statements that ran right after misses (what hits would have saved), ' +
      'or of the lookups when nothing follows them, per minute',
  }),

  detect(window, config) {
    const candidates: FindingCandidate[] = [];
    for (const cache of window.caches) {
      if (
        cache.lookups < config.cacheMinLookups ||
        isExcluded(cache.keyPattern, config.cacheExcludedPatterns)
      )
        continue;
      const hitRatio = cache.hits / cache.lookups;
      if (hitRatio >= config.cacheMinHitRatio) continue;
      const missQueries = Object.entries(cache.missQueries)
        .map(([fingerprintId, query]) => ({ fingerprintId, ...query, totalMs: round2(query.totalMs) }))
        .sort((a, b) => b.count - a.count);
      const afterMissMs = missQueries.reduce((sum, query) => sum + query.totalMs, 0);
      const impact = (afterMissMs > 0 ? afterMissMs : cache.commandMs) / window.minutes;
      const refillShare = cache.misses > 0 ? cache.refilledMisses / cache.misses : 0;
      candidates.push({
        kind: 'cache_hit_ratio',
        service: cache.service,
        key: `${cache.system} ${cache.keyPattern}`,
        title: `Cache ${cache.keyPattern}: ${Math.round(hitRatio * 100)}% hits over ${cache.lookups} lookups`,
        severity: severityForImpact(impact),
        impact: round2(impact),
        evidence: {
          system: cache.system,
          keyPattern: cache.keyPattern,
          lookups: cache.lookups,
          hits: cache.hits,
          misses: cache.misses,
          hitRatio: round2(hitRatio),
          lookupsPerMin: round2(cache.lookups / window.minutes),
          writes: cache.writes,
          ttlsSeconds: topLabels(cache.ttlSeconds).map(({ label, count }) => ({
            ttlSeconds: Number(label),
            count,
          })),
          refilledMisses: cache.refilledMisses,
          pattern: refillShare >= CACHE_ASIDE_SHARE ? 'cache_aside' : 'never_filled',
          uniqueKeyPart: UNIQUE_PARTS.find((part) => cache.keyPattern.includes(part)) ?? null,
          missQueries,
          routes: topLabels(cache.entries).map(({ label, count }) => ({ route: label, count })),
          exampleTraceId: cache.exampleTraceId,
        },
      });
    }
    return candidates;
  },
};

/**
 * True when the pattern matches one of the globs (`*` for any run of characters).
 *
 * @example
 * isExcluded('sess:{hash}', ['sess:*']) // true
 */
export function isExcluded(keyPattern: string, globs: readonly string[]): boolean {
  return globs.some((glob) => {
    const parts = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
    return new RegExp(`^${parts.join('.*')}$`).test(keyPattern);
  });
}
