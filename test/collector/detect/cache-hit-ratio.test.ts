import { describe, expect, it } from 'vitest';
import { cacheHitRatioDetector, isExcluded } from '../../../collector/detect/cache-hit-ratio.js';
import { recommend } from '../../../collector/recommend/index.js';
import { runDetector } from '../../support/detect-harness.js';
import {
  coldCacheAside,
  keysWithUniqueParts,
  neverFilledCache,
  outcomeUnknown,
  sessionMisses,
  warmMget,
} from './fixtures/caches.js';

describe('cache_hit_ratio detector', () => {
  it('fires on cache-aside that refills but rarely hits, with the TTL and the statement behind the misses', () => {
    const [finding, ...rest] = runDetector(cacheHitRatioDetector, coldCacheAside());
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      kind: 'cache_hit_ratio',
      key: 'redis product:{id}',
      title: 'Cache product:{id}: 20% hits over 60 lookups',
      evidence: {
        keyPattern: 'product:{id}',
        lookups: 60,
        hits: 12,
        misses: 48,
        hitRatio: 0.2,
        writes: 48,
        refilledMisses: 48,
        pattern: 'cache_aside',
        ttlsSeconds: [{ ttlSeconds: 5, count: 48 }],
        missQueries: [{ fingerprint: 'select * from products where id = ?', count: 48, totalMs: 576 }],
        routes: [{ route: 'GET /products/:id', count: 60 }],
      },
    });
    // 48 misses × 12 ms of SELECT each, over the one minute of data.
    expect((finding?.impact ?? 0) / 576).toBeCloseTo(1, 1);
    const rec = recommend(finding as NonNullable<typeof finding>);
    expect(rec.summary).toBe('Keep product:{id} entries longer: they expire before they are read again');
    expect(rec.detail).toContain('Entries live 5 s');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the advice contains a JavaScript template literal to paste.
    expect(rec.code).toContain('const key = `product:${id}`;');
  });

  it('tells misses that nothing refills apart, and names the statement to cache', () => {
    const [finding] = runDetector(cacheHitRatioDetector, neverFilledCache());
    expect(finding?.evidence).toMatchObject({ hitRatio: 0, refilledMisses: 0, pattern: 'never_filled' });
    const rec = recommend(finding as NonNullable<typeof finding>);
    expect(rec.summary).toBe('Cache the result of the statement that runs after each price:{id} miss');
    expect(rec.code).toContain("await db.query('select price from prices where sku = ?', params)");
  });

  it('blames a key embedding a unique part rather than the TTL', () => {
    const [finding] = runDetector(cacheHitRatioDetector, keysWithUniqueParts());
    expect(finding?.evidence).toMatchObject({ pattern: 'cache_aside', uniqueKeyPart: '{uuid}' });
    expect(recommend(finding as NonNullable<typeof finding>).summary).toBe(
      'Key report:{uuid} by what the value depends on, not by {uuid}',
    );
  });

  it('stays silent on a warm cache, counting multi-key reads key by key', () => {
    expect(runDetector(cacheHitRatioDetector, warmMget())).toEqual([]);
    const [finding] = runDetector(cacheHitRatioDetector, warmMget(), { cacheMinHitRatio: 0.95 });
    expect(finding?.evidence).toMatchObject({ lookups: 300, hits: 270, misses: 30 });
  });

  it('stays silent with too few lookups to judge', () => {
    expect(runDetector(cacheHitRatioDetector, neverFilledCache(49))).toEqual([]);
    expect(runDetector(cacheHitRatioDetector, neverFilledCache(49), { cacheMinLookups: 40 })).toHaveLength(1);
  });

  it('leaves session patterns out, as configured', () => {
    expect(runDetector(cacheHitRatioDetector, sessionMisses())).toEqual([]);
    expect(runDetector(cacheHitRatioDetector, sessionMisses(), { cacheExcludedPatterns: [] })).toHaveLength(
      1,
    );
  });

  it('does not judge reads whose outcome was not recorded', () => {
    expect(runDetector(cacheHitRatioDetector, outcomeUnknown())).toEqual([]);
  });
});

describe('isExcluded', () => {
  it('matches globs on the whole pattern, with * for any run and everything else literal', () => {
    expect(isExcluded('sess:{hash}', ['sess:*'])).toBe(true);
    expect(isExcluded('session:{id}:data', ['session:*'])).toBe(true);
    expect(isExcluded('user:session:{id}', ['session:*'])).toBe(false);
    expect(isExcluded('a.b', ['a?b'])).toBe(false);
  });
});
