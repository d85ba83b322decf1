/**
 * The fix for a cache_hit_ratio: depends on what follows the misses. Cache-aside that
 * refills after each miss yet rarely hits keeps entries too briefly, or keys them by
 * something that never repeats; misses with no refill mean nothing fills the cache.
 */
import type { FindingCandidate, Recommendation } from '../../model/index.js';

export function recommendCacheHitRatio(candidate: FindingCandidate): Recommendation {
  const { evidence } = candidate;
  const pattern = String(evidence.keyPattern ?? 'key');
  const ratio = Math.round(Number(evidence.hitRatio ?? 0) * 100);
  const ttls = Array.isArray(evidence.ttlsSeconds)
    ? (evidence.ttlsSeconds as Array<{ ttlSeconds: number }>)
    : [];
  const shortestTtl = ttls.length > 0 ? Math.min(...ttls.map((t) => t.ttlSeconds)) : undefined;
  const query = Array.isArray(evidence.missQueries)
    ? (evidence.missQueries as Array<{ fingerprint: string }>)[0]
    : undefined;
  const uniquePart = typeof evidence.uniqueKeyPart === 'string' ? evidence.uniqueKeyPart : undefined;
  const code = cacheAsideCode(pattern, query?.fingerprint, Math.max(300, (shortestTtl ?? 0) * 10));

  if (uniquePart) {
    return {
      summary: `Key ${pattern} by what the value depends on, not by ${uniquePart}`,
      detail:
        `Only ${ratio}% of lookups hit. The key embeds ${uniquePart}, a part that changes on every write, so ` +
        'entries are written and never asked for again. Build the key from the inputs the cached value depends ' +
        '(an entity id, the query parameters), never from a request id, a random token or a timestamp.',
      code,
      language: 'javascript',
    };
  }
  if (evidence.pattern === 'cache_aside') {
    const ttl = shortestTtl === undefined ? '' : ` Entries live ${shortestTtl} s;`;
    return {
      summary: `Keep ${pattern} entries longer: they expire before they are read again`,
      detail:
        `Only ${ratio}% of lookups hit although misses are refilled (miss → ${query ? 'the same statement' : 'the source'} → SET): ` +
        `the cache works, but its entries are gone before the next read.${ttl} Raise the TTL towards how long ` +
        'the data really stays valid and delete the key when the row changes, so that a long TTL stays correct. ' +
        'If lookups spread over many more keys than the cache keeps, check its memory limit and eviction policy.',
      code,
      language: 'javascript',
    };
  }
  return {
    summary: query
      ? `Cache the result of the statement that runs after each ${pattern} miss`
      : `Fill the ${pattern} cache`,
    detail:
      `Only ${ratio}% of lookups hit, and misses are not followed by a write of ${pattern}: nothing fills this ` +
      'cache, or it is written under another key than the one read. ' +
      (query ? `After a miss the service runs: ${query.fingerprint}. ` : '') +
      'Store the value after loading it (cache-aside), under exactly the key the read uses, with a TTL.',
    code,
    language: 'javascript',
  };
}

/** Cache-aside around the statement that follows the misses, with ioredis. */
function cacheAsideCode(pattern: string, fingerprint: string | undefined, ttlSeconds: number): string {
  const key = pattern.replace(/\{(\w+)\}/g, (_, name: string) => `$${'{'}${name}}`);
  const load = fingerprint
    ? `(await db.query('${fingerprint.replace(/'/g, "\\'")}', params)).rows`
    : 'await loadFromSource(params)';
  return [
    `const key = \`${key}\`;`,
    'const cached = await redis.get(key);',
    'if (cached !== null) return JSON.parse(cached);',
    `const value = ${load};`,
    `await redis.set(key, JSON.stringify(value), 'EX', ${ttlSeconds});`,
    'return value;',
    '// and where the data changes: await redis.del(key);',
  ].join('\n');
}
