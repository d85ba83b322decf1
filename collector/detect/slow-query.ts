/**
 * slow_query — a statement fingerprint whose p95 reaches `slowQueryMs`, or which
 * takes a large share of the service's database time (a 5 ms query run 10 000×/min
 * matters more than one 600 ms query a day).
 */
import type { FindingCandidate } from '../../model/index.js';
import { topLabels } from '../aggregate/stats.js';
import { formatMs, round2 } from './format.js';
import { raise, severityForImpact } from './severity.js';
import type { Detector } from './types.js';

export const slowQueryDetector: Detector = {
  kind: 'slow_query',
  explain: (config) => ({
    rule:
      `a statement fingerprint run ${config.slowQueryMinCount}+ times whose p95 reaches ${config.slowQueryMs} ms, ` +
      `or which takes ${Math.round(config.slowQueryShare * 100)}%+ of its service's database time ` +
      `and ${config.slowQueryMinImpact}+ ms of it per minute`,
    impact: 'time spent running the statement, per minute',
  }),
  detect(window, config) {
    const dbMsByService = new Map(window.services.map((s) => [s.service, s.dbMs]));
    const candidates: FindingCandidate[] = [];
    for (const query of window.queries) {
      if (query.statementType === 'transaction' || query.statementType === 'ddl') continue;
      if (query.count < config.slowQueryMinCount) continue;
      const p95 = query.sketch.quantile(0.95);
      const impact = query.totalMs / window.minutes;
      const serviceDbMs = dbMsByService.get(query.service) ?? query.totalMs;
      const share = serviceDbMs > 0 ? query.totalMs / serviceDbMs : 0;
      const slow = p95 >= config.slowQueryMs;
      const dominant = share >= config.slowQueryShare && impact >= config.slowQueryMinImpact;
      if (!slow && !dominant) continue;
      const severity =
        slow && p95 >= 10 * config.slowQueryMs ? raise(severityForImpact(impact)) : severityForImpact(impact);
      const target = query.tables.length > 0 ? query.tables.join(', ') : query.system;
      candidates.push({
        kind: 'slow_query',
        service: query.service,
        key: query.fingerprintId,
        title: slow
          ? `Slow ${query.statementType.toUpperCase()} on ${target}: p95 ${formatMs(p95)}`
          : `${query.statementType.toUpperCase()} on ${target} takes ${Math.round(share * 100)}% of DB time`,
        severity,
        impact: round2(impact),
        p95Ms: round2(p95),
        evidence: {
          system: query.system,
          fingerprint: query.fingerprint,
          fingerprintId: query.fingerprintId,
          statementType: query.statementType,
          tables: query.tables,
          count: query.count,
          errors: query.errors,
          totalMs: round2(query.totalMs),
          p50Ms: round2(query.sketch.quantile(0.5)),
          p95Ms: round2(p95),
          p99Ms: round2(query.sketch.quantile(0.99)),
          maxMs: round2(query.maxMs),
          callsPerMin: round2(query.count / window.minutes),
          shareOfDbTime: round2(share),
          routes: topLabels(query.entries).map(({ label, count }) => ({ route: label, count })),
          exampleTraceId: query.exampleTraceId,
          ...(query.plan && { plan: query.plan }),
        },
      });
    }
    return candidates;
  },
};
