/**
 * slow_endpoint — a route whose p95 reaches `slowEndpointMs`, with where its requests
 * spend their time: SQL, cache, outbound HTTP, queue publishing, and the rest (the
 * service's own code, including waiting on a busy event loop). The part that dominates
 * names what to look at; the pipeline links the findings behind it (see related.ts).
 * Impact is the route's request time per minute.
 */
import type { FindingCandidate } from '../../model/index.js';
import type { EndpointStats } from '../aggregate/stats.js';
import { formatMs, round2 } from './format.js';
import { severityForImpact } from './severity.js';
import type { Detector } from './types.js';

export const TIME_PARTS = ['sql', 'cache', 'http', 'queue', 'ownCode'] as const;
export type TimePart = (typeof TIME_PARTS)[number];

const PART_NAMES: Record<TimePart, string> = {
  sql: 'SQL',
  cache: 'cache calls',
  http: 'outbound HTTP',
  queue: 'queue publishing',
  ownCode: 'its own code',
};

export const slowEndpointDetector: Detector = {
  kind: 'slow_endpoint',
  explain: (config) => ({
    rule: `a route whose p95 reaches ${config.slowEndpointMs} ms over ${config.slowEndpointMinCount}+ requests`,
    impact: 'time spent serving the route, per minute',
  }),

  detect(window, config) {
    const candidates: FindingCandidate[] = [];
    for (const endpoint of window.endpoints) {
      if (endpoint.count < config.slowEndpointMinCount) continue;
      const p95 = endpoint.sketch.quantile(0.95);
      if (p95 < config.slowEndpointMs) continue;
      const impact = endpoint.totalMs / window.minutes;
      const meanMs = endpoint.totalMs / endpoint.count;
      const breakdown = timeBreakdown(endpoint);
      const dominant = TIME_PARTS.reduce((best, part) => (breakdown[part] > breakdown[best] ? part : best));
      const total = TIME_PARTS.reduce((sum, part) => sum + breakdown[part], 0);
      candidates.push({
        kind: 'slow_endpoint',
        service: endpoint.service,
        key: endpoint.entry,
        title: `Slow ${endpoint.entry}: p95 ${formatMs(p95)}, mostly ${PART_NAMES[dominant]}`,
        severity: severityForImpact(impact),
        impact: round2(impact),
        p95Ms: round2(p95),
        evidence: {
          route: endpoint.entry,
          count: endpoint.count,
          errors: endpoint.errors,
          requestsPerMin: round2(endpoint.count / window.minutes),
          meanMs: round2(meanMs),
          p50Ms: round2(endpoint.sketch.quantile(0.5)),
          p95Ms: round2(p95),
          p99Ms: round2(endpoint.sketch.quantile(0.99)),
          maxMs: round2(endpoint.maxMs),
          breakdownMs: Object.fromEntries(TIME_PARTS.map((part) => [part, round2(breakdown[part])])),
          breakdownShare: Object.fromEntries(
            TIME_PARTS.map((part) => [part, total > 0 ? round2(breakdown[part] / total) : 0]),
          ),
          dominant,
          exampleTraceId: endpoint.exampleTraceId,
        },
      });
    }
    return candidates;
  },
};

/**
 * Where a route's requests spend their time, per request on average: its children's
 * time by kind of work, and what is left for its own code. Children running in parallel
 * can add up to more than the request; its own time is then zero, never negative.
 *
 * @example
 * timeBreakdown({ count: 2, totalMs: 1_000, dbMs: 600, cacheMs: 0, httpMs: 100, queueMs: 0 })
 * // { sql: 300, cache: 0, http: 50, queue: 0, ownCode: 150 }
 */
export function timeBreakdown(
  endpoint: Pick<EndpointStats, 'count' | 'totalMs' | 'dbMs' | 'cacheMs' | 'httpMs' | 'queueMs'>,
): Record<TimePart, number> {
  const perRequest = (ms: number) => (endpoint.count > 0 ? ms / endpoint.count : 0);
  const children = {
    sql: perRequest(endpoint.dbMs),
    cache: perRequest(endpoint.cacheMs),
    http: perRequest(endpoint.httpMs),
    queue: perRequest(endpoint.queueMs),
  };
  const childSum = children.sql + children.cache + children.http + children.queue;
  return { ...children, ownCode: Math.max(0, perRequest(endpoint.totalMs) - childSum) };
}
