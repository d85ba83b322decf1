/**
 * n_plus_one — the same statement fingerprint run `nPlusOneMin`+ times under one
 * parent span (a request, a job, a resolver). Overlapping executions from
 * `Promise.all` count too; connection and pool spans between them are not queries
 * and are ignored. Impact is the wall time the repeats occupy, per minute.
 */
import type { DbQueryOperation, FindingCandidate } from '../../model/index.js';
import { topLabels } from '../aggregate/stats.js';
import { entryLabel } from '../assemble/trace.js';
import { round2 } from './format.js';
import { severityForImpact } from './severity.js';
import type { Detector, Occurrence } from './types.js';

export const nPlusOneDetector: Detector = {
  kind: 'n_plus_one',
  explain: (config) => ({
    rule: `the same statement fingerprint ${config.nPlusOneMin}+ times under one parent span (a request, a job)`,
    impact: 'wall time the repeats occupy in their requests (parallel repeats count once), per minute',
  }),

  inspectTrace(trace, config) {
    const groups = new Map<string, DbQueryOperation[]>();
    for (const operation of trace.operations) {
      if (operation.type !== 'db_query' || !operation.parentSpanId) continue;
      if (operation.statementType === 'transaction' || operation.statementType === 'ddl') continue;
      const id = `${operation.parentSpanId}\u0000${operation.fingerprintId}`;
      const group = groups.get(id);
      if (group) group.push(operation);
      else groups.set(id, [operation]);
    }
    const occurrences: Occurrence[] = [];
    for (const repeats of groups.values()) {
      const first = repeats[0];
      if (!first || repeats.length < config.nPlusOneMin) continue;
      occurrences.push({
        kind: 'n_plus_one',
        service: first.service,
        key: first.fingerprintId,
        traceId: trace.traceId,
        entry: entryLabel(trace.entryOf(first)),
        repeats: repeats.length,
        durationMs: wallTime(repeats),
        evidence: {
          system: first.system,
          fingerprint: first.fingerprint,
          fingerprintId: first.fingerprintId,
          statementType: first.statementType,
          tables: first.tables,
        },
      });
    }
    return occurrences;
  },

  detect(window) {
    const candidates: FindingCandidate[] = [];
    for (const pattern of window.patterns) {
      if (pattern.kind !== 'n_plus_one' || pattern.occurrences === 0) continue;
      const impact = pattern.totalMs / window.minutes;
      const avgRepeats = pattern.totalRepeats / pattern.occurrences;
      const routes = topLabels(pattern.entries).map(({ label, count }) => ({
        route: label,
        requests: count,
      }));
      const where = routes[0] ? ` in ${routes[0].route}` : '';
      const tables = Array.isArray(pattern.evidence.tables) ? (pattern.evidence.tables as string[]) : [];
      const statement = String(pattern.evidence.statementType ?? 'query').toUpperCase();
      candidates.push({
        kind: 'n_plus_one',
        service: pattern.service,
        key: pattern.key,
        title: `N+1: ${statement}${tables.length ? ` on ${tables.join(', ')}` : ''} runs ${Math.round(avgRepeats)}× per request${where}`,
        severity: severityForImpact(impact),
        impact: round2(impact),
        evidence: {
          ...pattern.evidence,
          routes,
          requests: pattern.occurrences,
          avgRepeats: round2(avgRepeats),
          maxRepeats: pattern.maxRepeats,
          repeatMsPerRequest: round2(pattern.totalMs / pattern.occurrences),
          exampleTraceId: pattern.exampleTraceId,
        },
      });
    }
    return candidates;
  },
};

/** Wall time covered by the operations: overlapping (parallel) executions count once. */
export function wallTime(operations: Array<{ startTimeMs: number; durationMs: number }>): number {
  const intervals = operations
    .map((o) => [o.startTimeMs, o.startTimeMs + o.durationMs] as const)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let [currentStart, currentEnd] = intervals[0] ?? [0, 0];
  for (const [start, end] of intervals.slice(1)) {
    if (start > currentEnd) {
      total += currentEnd - currentStart;
      currentStart = start;
      currentEnd = end;
    } else if (end > currentEnd) currentEnd = end;
  }
  return total + (currentEnd - currentStart);
}
