/**
 * Links each slow_endpoint candidate to the findings behind it: those of its service
 * whose evidence names its route (slow queries, N+1 loops, caches), its service's
 * event-loop stall, and — when the route's own code dominates — its GC and CPU hot-path findings.
 * A service's event_loop_blocked and hot_path_cpu findings name each other (the stall and
 * the code holding it); a hot path inside a synchronous SQLite call also names the service's
 * slow SQLite queries, where the plan and the index to add are; a slow query through an
 * asynchronous driver names the service's event_loop_blocked, whose stalls stretch it. Pure: the id of a finding
 * comes from the caller, who owns identity.
 */
import type { FindingCandidate } from '../../model/index.js';

type FindingIdOf = (kind: string, service: string, key: string) => string;

const RUNTIME_KINDS = new Set(['event_loop_blocked', 'gc_pressure', 'hot_path_cpu']);
/** Kinds that name each other within a service, when both are found. */
const PARTNERS: Readonly<Record<string, string>> = {
  event_loop_blocked: 'hot_path_cpu',
  hot_path_cpu: 'event_loop_blocked',
};

/**
 * better-sqlite3's query methods (Statement#all/get/run/iterate, Database#exec): native code,
 * which a CPU profile names without a file, so the name is all a hot path's leaf says.
 */
const SQLITE_SYNC_CALLS = new Set(['all', 'get', 'run', 'iterate', 'exec']);

/**
 * Returns the candidates, slow_endpoint ones with `evidence.related` filled in (by impact, highest
 * first), and event_loop_blocked and hot_path_cpu ones when the other kind was found in their service.
 *
 * @example
 * linkRelated(candidates, findingId).find((c) => c.kind === 'slow_endpoint')?.evidence.related
 * // [{ id: '3f2a…', kind: 'slow_query', title: 'Slow SELECT on sales: p95 612 ms', impact: 12000 }]
 */
export function linkRelated(candidates: FindingCandidate[], idOf: FindingIdOf): FindingCandidate[] {
  return candidates.map((candidate) => {
    const partner = PARTNERS[candidate.kind];
    if (partner) {
      const sqliteCall = candidate.kind === 'hot_path_cpu' && inSqliteCall(candidate);
      const related = candidates.filter(
        (other) =>
          other.service === candidate.service &&
          (other.kind === partner ||
            (sqliteCall && other.kind === 'slow_query' && other.evidence.system === 'sqlite')),
      );
      if (related.length === 0) return candidate;
      return { ...candidate, evidence: { ...candidate.evidence, related: describe(related, idOf) } };
    }
    if (candidate.kind === 'slow_query' && candidate.evidence.system !== 'sqlite') {
      const stalls = candidates.filter(
        (other) => other.kind === 'event_loop_blocked' && other.service === candidate.service,
      );
      if (stalls.length === 0) return candidate;
      return { ...candidate, evidence: { ...candidate.evidence, related: describe(stalls, idOf) } };
    }
    if (candidate.kind !== 'slow_endpoint') return candidate;
    const ownCode = candidate.evidence.dominant === 'ownCode';
    // A stalled loop stretches every awaited call too: the stall is linked whatever dominates.
    const related = candidates.filter(
      (other) =>
        other !== candidate &&
        other.service === candidate.service &&
        (routesOf(other).includes(candidate.key) ||
          other.kind === 'event_loop_blocked' ||
          (ownCode && RUNTIME_KINDS.has(other.kind))),
    );
    return { ...candidate, evidence: { ...candidate.evidence, related: describe(related, idOf) } };
  });
}

/** Whether the samples of a hot path landed in native code named like a better-sqlite3 query. */
function inSqliteCall(candidate: FindingCandidate): boolean {
  const leaf = candidate.evidence.leaf as { functionName?: unknown; url?: unknown } | undefined;
  return leaf?.url === '' && SQLITE_SYNC_CALLS.has(String(leaf.functionName));
}

/** What evidence says of a related finding, by impact, highest first. */
function describe(related: FindingCandidate[], idOf: FindingIdOf) {
  return [...related]
    .sort((a, b) => b.impact - a.impact)
    .map((other) => ({
      id: idOf(other.kind, other.service, other.key),
      kind: other.kind,
      title: other.title,
      impact: other.impact,
    }));
}

function routesOf(candidate: FindingCandidate): string[] {
  const routes = candidate.evidence.routes;
  if (!Array.isArray(routes)) return [];
  return routes.flatMap((entry) =>
    typeof entry === 'object' && entry !== null && typeof (entry as { route?: unknown }).route === 'string'
      ? [(entry as { route: string }).route]
      : [],
  );
}
