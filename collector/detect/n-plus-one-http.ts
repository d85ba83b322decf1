/**
 * n_plus_one_http — the same outbound call (method, host and URL template, so
 * `/users/{id}` for every user) made `nPlusOneHttpMin`+ times under one parent span.
 * Each call pays a network round trip; one batch call, or bounded parallel calls, pays
 * it once. Impact is the wall time the repeats occupy, per minute.
 */
import type { FindingCandidate, HttpClientOperation } from '../../model/index.js';
import { topLabels } from '../aggregate/stats.js';
import { entryLabel } from '../assemble/trace.js';
import { round2 } from './format.js';
import { wallTime } from './n-plus-one.js';
import { severityForImpact } from './severity.js';
import type { Detector, Occurrence } from './types.js';

export const nPlusOneHttpDetector: Detector = {
  kind: 'n_plus_one_http',
  explain: (config) => ({
    rule: `the same outbound HTTP call (method, host, URL template) ${config.nPlusOneHttpMin}+ times under one parent span`,
    impact: 'wall time the repeated calls occupy in their requests (parallel calls count once), per minute',
  }),

  inspectTrace(trace, config) {
    const groups = new Map<string, HttpClientOperation[]>();
    for (const operation of trace.operations) {
      if (operation.type !== 'http_client' || !operation.parentSpanId) continue;
      const id = `${operation.parentSpanId} ${callOf(operation)}`;
      const group = groups.get(id);
      if (group) group.push(operation);
      else groups.set(id, [operation]);
    }
    const occurrences: Occurrence[] = [];
    for (const calls of groups.values()) {
      const first = calls[0];
      if (!first || calls.length < config.nPlusOneHttpMin) continue;
      occurrences.push({
        kind: 'n_plus_one_http',
        service: first.service,
        key: callOf(first),
        traceId: trace.traceId,
        entry: entryLabel(trace.entryOf(first)),
        repeats: calls.length,
        durationMs: wallTime(calls),
        evidence: {
          method: first.method,
          host: first.host,
          urlTemplate: first.urlTemplate,
        },
      });
    }
    return occurrences;
  },

  detect(window) {
    const candidates: FindingCandidate[] = [];
    for (const pattern of window.patterns) {
      if (pattern.kind !== 'n_plus_one_http' || pattern.occurrences === 0) continue;
      const impact = pattern.totalMs / window.minutes;
      const avgRepeats = pattern.totalRepeats / pattern.occurrences;
      const routes = topLabels(pattern.entries).map(({ label, count }) => ({
        route: label,
        requests: count,
      }));
      const where = routes[0] ? ` in ${routes[0].route}` : '';
      candidates.push({
        kind: 'n_plus_one_http',
        service: pattern.service,
        key: pattern.key,
        title: `HTTP N+1: ${pattern.key} called ${Math.round(avgRepeats)}× per request${where}`,
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

/** `GET api.example.com/users/{id}`: what makes two calls the same call. */
function callOf(operation: HttpClientOperation): string {
  return `${operation.method} ${operation.host}${operation.urlTemplate}`;
}
