/**
 * What the N+1 detectors share: the same operation repeated under one parent span becomes an
 * occurrence per trace, and each repeated pattern over the window becomes a candidate with the
 * same evidence (requests, average and largest repeats, repeat time per request, routes).
 * The detectors differ only in which operations they look at, what makes two the same, and their titles.
 */
import type { Evidence, FindingCandidate, FindingKind, Operation } from '../../model/index.js';
import { type PatternStats, topLabels } from '../aggregate/stats.js';
import type { WindowView } from '../aggregate/window.js';
import { type AssembledTrace, entryLabel } from '../assemble/trace.js';
import { round2 } from './format.js';
import { severityForImpact } from './severity.js';
import type { Occurrence } from './types.js';
import { wallTime } from './wall-time.js';

export interface RepeatRule<T extends Operation> {
  kind: FindingKind;
  /** The operations that may repeat (`db_query` statements, `http_client` calls). */
  select(operation: Operation): operation is T;
  /** What makes two operations the same: the occurrence's key. */
  identity(operation: T): string;
  /** What the pattern is, already scrubbed: the same for every occurrence of the key. */
  evidence(operation: T): Evidence;
}

/**
 * One occurrence per (parent span, identity) repeated at least `min` times in the trace.
 *
 * @example
 * repeatsUnderParent(trace, statementRule, config.nPlusOneMin) // [{ kind: 'n_plus_one', repeats: 12, … }]
 */
export function repeatsUnderParent<T extends Operation>(
  trace: AssembledTrace,
  rule: RepeatRule<T>,
  min: number,
): Occurrence[] {
  // Most traces hold fewer candidate operations than a repeat needs: counted first, they cost
  // no maps and no groups.
  let selected = 0;
  for (const operation of trace.operations) {
    if (operation.parentSpanId && rule.select(operation)) selected++;
  }
  if (selected < min) return [];
  // Parent, then identity: a map per parent rather than a joined key string per operation.
  const byParent = new Map<string, Map<string, T[]>>();
  for (const operation of trace.operations) {
    if (!operation.parentSpanId || !rule.select(operation)) continue;
    let groups = byParent.get(operation.parentSpanId);
    if (!groups) {
      groups = new Map();
      byParent.set(operation.parentSpanId, groups);
    }
    const identity = rule.identity(operation);
    const group = groups.get(identity);
    if (group) group.push(operation);
    else groups.set(identity, [operation]);
  }
  const occurrences: Occurrence[] = [];
  for (const groups of byParent.values()) {
    for (const repeats of groups.values()) {
      const first = repeats[0];
      if (first && repeats.length >= min) occurrences.push(occurrenceOf(trace, rule, first, repeats));
    }
  }
  return occurrences;
}

function occurrenceOf<T extends Operation>(
  trace: AssembledTrace,
  rule: RepeatRule<T>,
  first: T,
  repeats: T[],
): Occurrence {
  return {
    kind: rule.kind,
    service: first.service,
    key: rule.identity(first),
    traceId: trace.traceId,
    entry: entryLabel(trace.entryOf(first)),
    repeats: repeats.length,
    durationMs: wallTime(repeats),
    evidence: rule.evidence(first),
  };
}

/** A repeated pattern's routes, averages and where it happens most, for its title. */
export interface RepeatSummary {
  pattern: PatternStats;
  avgRepeats: number;
  /** ` in GET /orders` for the route it repeats in most, or `''`. */
  where: string;
}

/**
 * The window's patterns of `kind` as candidates, titled by the detector.
 *
 * @example
 * repeatCandidates(window, 'n_plus_one_http', ({ pattern, avgRepeats, where }) => `HTTP N+1: ${pattern.key} called ${Math.round(avgRepeats)}×${where}`)
 */
export function repeatCandidates(
  window: WindowView,
  kind: FindingKind,
  title: (summary: RepeatSummary) => string,
): FindingCandidate[] {
  const candidates: FindingCandidate[] = [];
  for (const pattern of window.patterns) {
    if (pattern.kind !== kind || pattern.occurrences === 0) continue;
    const impact = pattern.totalMs / window.minutes;
    const avgRepeats = pattern.totalRepeats / pattern.occurrences;
    const routes = topLabels(pattern.entries).map(({ label, count }) => ({ route: label, requests: count }));
    const where = routes[0] ? ` in ${routes[0].route}` : '';
    // Copied, then added to: a spread followed by six fields took V8's slow path (~6 µs a
    // candidate, a thousand candidates every run); the keys and their order are the same.
    const evidence: Evidence = Object.assign({}, pattern.evidence);
    evidence.routes = routes;
    evidence.requests = pattern.occurrences;
    evidence.avgRepeats = round2(avgRepeats);
    evidence.maxRepeats = pattern.maxRepeats;
    evidence.repeatMsPerRequest = round2(pattern.totalMs / pattern.occurrences);
    evidence.exampleTraceId = pattern.exampleTraceId;
    candidates.push({
      kind,
      service: pattern.service,
      key: pattern.key,
      title: title({ pattern, avgRepeats, where }),
      severity: severityForImpact(impact),
      impact: round2(impact),
      evidence,
    });
  }
  return candidates;
}
