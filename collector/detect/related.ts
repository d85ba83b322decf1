/**
 * Links each slow_endpoint candidate to the findings behind it: those of its service
 * whose evidence names its route (slow queries, N+1 loops, caches), its service's
 * event-loop stall, and — when the route's own code dominates — its GC and CPU hot-path findings.
 * A service's event_loop_blocked and hot_path_cpu findings name each other (the stall and
 * the code holding it); a hot path inside a synchronous SQLite call also names the service's
 * slow SQLite queries, where the plan and the index to add are; a slow query through an
 * asynchronous driver names the service's event_loop_blocked, whose stalls stretch it. One rule
 * per kind (`linkedTo`). Pure: the id of a finding comes from the caller, who owns identity.
 */
import type { FindingCandidate } from '../../model/index.js';

type FindingIdOf = (kind: string, service: string, key: string) => string;

const RUNTIME_KINDS = new Set(['event_loop_blocked', 'gc_pressure', 'hot_path_cpu']);

/**
 * better-sqlite3's query methods (Statement#all/get/run/iterate, Database#exec): native code,
 * which a CPU profile names without a file, so the name is all a hot path's leaf says.
 */
const SQLITE_SYNC_CALLS = new Set(['all', 'get', 'run', 'iterate', 'exec']);

/**
 * Returns the candidates with `evidence.related` filled in (by impact, highest first) where
 * their kind links others: always for slow_endpoint, for the other kinds when one was found.
 *
 * @example
 * linkRelated(candidates, findingId).find((c) => c.kind === 'slow_endpoint')?.evidence.related
 * // [{ id: '3f2a…', kind: 'slow_query', title: 'Slow SELECT on sales: p95 612 ms', impact: 12000 }]
 */
export function linkRelated(candidates: FindingCandidate[], idOf: FindingIdOf): FindingCandidate[] {
  // Grouped once: filtering all candidates for each one's service was quadratic, and ran for the
  // kinds that link nothing too (the ingest bench has a thousand N+1 candidates, which link none).
  const byService = new Map<string, FindingCandidate[]>();
  for (const candidate of candidates) {
    const service = byService.get(candidate.service);
    if (service) service.push(candidate);
    else byService.set(candidate.service, [candidate]);
  }
  return candidates.map((candidate) => {
    const linked = linkedTo(candidate, byService.get(candidate.service) as FindingCandidate[]);
    if (!linked || (linked.length === 0 && candidate.kind !== 'slow_endpoint')) return candidate;
    return { ...candidate, evidence: { ...candidate.evidence, related: describe(linked, idOf) } };
  });
}

/**
 * The findings of its own service a candidate links to; undefined for a kind that links none.
 * `service` holds the candidate itself too: only a kind's own kind could match it, and only
 * slow_endpoint links its own kind.
 */
function linkedTo(candidate: FindingCandidate, service: FindingCandidate[]): FindingCandidate[] | undefined {
  switch (candidate.kind) {
    case 'event_loop_blocked':
      return service.filter((other) => other.kind === 'hot_path_cpu');
    case 'hot_path_cpu': {
      const sqliteCall = inSqliteCall(candidate);
      return service.filter(
        (other) =>
          other.kind === 'event_loop_blocked' ||
          (sqliteCall && other.kind === 'slow_query' && other.evidence.system === 'sqlite'),
      );
    }
    case 'slow_query':
      // An asynchronous driver's reply waits for the loop; SQLite's synchronous calls are the stall.
      return candidate.evidence.system === 'sqlite'
        ? undefined
        : service.filter((other) => other.kind === 'event_loop_blocked');
    case 'slow_endpoint': {
      const ownCode = candidate.evidence.dominant === 'ownCode';
      // A stalled loop stretches every awaited call too: the stall is linked whatever dominates.
      return service.filter(
        (other) =>
          (other !== candidate && routesOf(other).includes(candidate.key)) ||
          other.kind === 'event_loop_blocked' ||
          (ownCode && RUNTIME_KINDS.has(other.kind)),
      );
    }
    default:
      return undefined;
  }
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
