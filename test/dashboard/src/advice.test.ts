import { describe, expect, it } from 'vitest';
import { recommendConnectionPool } from '../../../collector/recommend/connection-pool.js';
import { recommendDependencyResilience } from '../../../collector/recommend/dependency-resilience.js';
import { headersToCheck, suggestedPoolSize, suggestedTimeoutMs } from '../../../dashboard/src/advice.js';
import type { Evidence, FindingCandidate } from '../../../model/finding.js';

function candidate(kind: FindingCandidate['kind'], evidence: Evidence): FindingCandidate {
  return { kind, service: 'shop', key: 'k', title: 't', severity: 'low', impact: 1, evidence };
}

describe('suggestedPoolSize', () => {
  it.each([
    { connectionsWanted: 3.2, peakConnectionsWanted: 8 },
    { connectionsWanted: 7.9, peakConnectionsWanted: 4 },
    { connectionsWanted: 0.3, peakConnectionsWanted: 1 },
    { connectionsWanted: 12, peakConnectionsWanted: 18, system: 'mysql' },
  ])('sizes the pool as the recommender does for %o', (evidence) => {
    const code = recommendConnectionPool(
      candidate('connection_pool', { system: 'postgresql', ...evidence }),
    ).code;
    const advised = Number(/(?:max|connectionLimit): (\d+),/.exec(code ?? '')?.[1]);
    expect(suggestedPoolSize(evidence)).toBe(advised);
  });

  it.each([
    { connectionsBusy: 2.4, system: 'postgresql' },
    { connectionsBusy: 0.2, system: 'postgresql', pooled: true },
    { connectionsBusy: 9, system: 'mysql' },
  ])(
    'sizes one pool for requests that open their own connections as the recommender does for %o',
    (evidence) => {
      const opening = { rule: 'new_connections', requests: 40, requestsOpening: 40, ...evidence };
      const code = recommendConnectionPool(candidate('connection_pool', opening)).code;
      const advised = Number(/(?:max|connectionLimit): (\d+),/.exec(code ?? '')?.[1]);
      expect(suggestedPoolSize(opening)).toBe(advised);
    },
  );

  it('advises nothing without the measurements, nor a pool for a client that needs none', () => {
    expect(
      suggestedPoolSize({ rule: 'new_connections', system: 'redis', connectionsBusy: 3 }),
    ).toBeUndefined();
    expect(suggestedPoolSize({ system: 'postgresql' })).toBeUndefined();
    expect(suggestedPoolSize({ connectionsWanted: 'many' })).toBeUndefined();
  });
});

describe('suggestedTimeoutMs', () => {
  it.each([{ successP99Ms: 25 }, { successP99Ms: 250 }, { successP99Ms: 2_500 }, { successP99Ms: null }])(
    'sets the timeout the recommender sets for %o',
    (evidence) => {
      const code = recommendDependencyResilience(
        candidate('dependency_resilience', { host: 'a', ...evidence }),
      ).code;
      const advised = Number(/TIMEOUT_MS = (\d+);/.exec(code ?? '')?.[1]);
      expect(suggestedTimeoutMs(evidence)).toBe(advised);
    },
  );
});

describe('headersToCheck', () => {
  it('asks fingerprinted files for long-lived caching and text for compression', () => {
    expect(headersToCheck('/assets/app.{hash}.js')).toEqual([
      'Cache-Control: public, max-age=31536000, immutable',
      'Content-Encoding: br or gzip',
    ]);
    expect(headersToCheck('/static/main.3f9a1c2b7e.css')).toEqual([
      'Cache-Control: public, max-age=31536000, immutable',
      'Content-Encoding: br or gzip',
    ]);
  });

  it('asks other files to revalidate, and leaves compressed formats uncompressed', () => {
    expect(headersToCheck('/assets/logo.png')).toEqual(['Cache-Control: no-cache, with an ETag']);
    expect(headersToCheck('/assets/icons.svg?v=2')).toEqual([
      'Cache-Control: no-cache, with an ETag',
      'Content-Encoding: br or gzip',
    ]);
    expect(headersToCheck('/fonts/inter.woff2')).toEqual(['Cache-Control: no-cache, with an ETag']);
  });
});
