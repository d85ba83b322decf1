/**
 * connection_pool — requests waiting for a database connection. A pool checkout
 * (`pg-pool.connect`, any `db_connect` operation) that takes long means every
 * connection was busy: the request queues behind others before its first statement.
 * Fires per (service, database system) when the wait is a meaningful share of the
 * time of the requests that use the pool, and large enough to matter.
 *
 * Each trace yields three occurrences under one database system, aggregated by the
 * pattern family: `<system>` (time waiting for connections, the finding's own key, so its
 * series is the wait; repeats count how many of the request's own statement times the
 * wait lasted, the statements it queued behind), `<system> @requests` (time of those
 * requests) and `<system> @queries` (time running statements), so that share and pool
 * size come from the whole window without a family of their own.
 */
import type { DbConnectOperation, DbQueryOperation, FindingCandidate, Operation } from '../../model/index.js';
import type { PatternStats } from '../aggregate/stats.js';
import { topLabels } from '../aggregate/stats.js';
import { type AssembledTrace, entryLabel, isEntry } from '../assemble/trace.js';
import { formatMs, round2 } from './format.js';
import { severityForImpact } from './severity.js';
import type { Detector, Occurrence } from './types.js';
import { wallTime } from './wall-time.js';

export const CONNECTION_POOL_DEFAULTS = {
  /** Share of the pool users' request time spent waiting for a connection. */
  minShare: 0.1,
  /** …and at least this much waiting per minute (a 2 ms wait in a 10 ms request is no bottleneck). */
  minImpactMsPerMin: 100,
};

type Part = 'wait' | 'requests' | 'queries';

export const connectionPoolDetector: Detector = {
  kind: 'connection_pool',
  explain: () => ({
    rule:
      `time requests wait for a database connection (pool checkout, connect) ≥ ${CONNECTION_POOL_DEFAULTS.minShare * 100}% ` +
      `of those requests' time and ≥ ${CONNECTION_POOL_DEFAULTS.minImpactMsPerMin} ms/min`,
    impact:
      'time requests waited for a pool connection (opening a new connection inside a checkout excluded), per minute',
  }),

  inspectTrace(trace) {
    const byRequest = new Map<Operation, { connects: DbConnectOperation[]; queries: DbQueryOperation[] }>();
    for (const operation of trace.operations) {
      if (operation.type !== 'db_connect' && operation.type !== 'db_query') continue;
      const entry = trace.entryOf(operation);
      if (!entry || !isEntry(entry)) continue;
      let parts = byRequest.get(entry);
      if (!parts) {
        parts = { connects: [], queries: [] };
        byRequest.set(entry, parts);
      }
      if (operation.type === 'db_connect') parts.connects.push(operation);
      else parts.queries.push(operation);
    }
    const occurrences: Occurrence[] = [];
    for (const [entry, { connects, queries }] of byRequest) {
      const first = connects[0];
      if (!first) continue;
      const occurrence = (part: Part, repeats: number, durationMs: number): Occurrence => ({
        kind: 'connection_pool',
        service: entry.service,
        key: part === 'wait' ? first.system : `${first.system} @${part}`,
        traceId: trace.traceId,
        entry: entryLabel(entry),
        repeats,
        durationMs,
        evidence: { system: first.system },
      });
      const waitMs = waitingTime(trace, connects);
      const queryMs = queries.length > 0 ? wallTime(queries) : 0;
      occurrences.push(
        occurrence('wait', queryMs > 0 ? Math.round(waitMs / queryMs) : 0, waitMs),
        occurrence('requests', 1, entry.durationMs),
        occurrence('queries', queries.length, queryMs),
      );
    }
    return occurrences;
  },

  detect(window) {
    const parts = new Map<string, Partial<Record<Part, PatternStats>>>();
    for (const pattern of window.patterns) {
      if (pattern.kind !== 'connection_pool') continue;
      const [system, part = 'wait'] = pattern.key.split(' @') as [string, Part?];
      const id = `${pattern.service}\n${system}`;
      parts.set(id, { ...parts.get(id), [part]: pattern });
    }
    const candidates: FindingCandidate[] = [];
    for (const { wait, requests, queries } of parts.values()) {
      if (!wait || !requests || requests.occurrences === 0) continue;
      const share = wait.totalMs / requests.totalMs;
      const impact = wait.totalMs / window.minutes;
      if (share < CONNECTION_POOL_DEFAULTS.minShare || impact < CONNECTION_POOL_DEFAULTS.minImpactMsPerMin) {
        continue;
      }
      const system = String(wait.evidence.system);
      const count = requests.occurrences;
      const waitMsPerRequest = wait.totalMs / count;
      const dbMsPerRequest = (queries?.totalMs ?? 0) / count;
      const arrivalPerSecond = count / (window.minutes * 60);
      const routes = topLabels(requests.entries).map(({ label, count }) => ({
        route: label,
        requests: count,
      }));
      candidates.push({
        kind: 'connection_pool',
        service: wait.service,
        key: system,
        title: `Connection pool: requests wait ${formatMs(waitMsPerRequest)} for a ${system} connection (${Math.round(share * 100)}% of their time)`,
        severity: severityForImpact(impact),
        impact: round2(impact),
        evidence: {
          system,
          requests: count,
          waitShare: round2(share),
          waitMsPerRequest: round2(waitMsPerRequest),
          requestMeanMs: round2(requests.totalMs / count),
          dbMsPerRequest: round2(dbMsPerRequest),
          arrivalPerSecond: round2(arrivalPerSecond),
          // Little's law: requests in the database stage at once, waiting or holding a connection.
          connectionsWanted: round2((arrivalPerSecond * (waitMsPerRequest + dbMsPerRequest)) / 1000),
          connectionsBusy: round2((arrivalPerSecond * dbMsPerRequest) / 1000),
          // The longest wait, in statements queued behind: that many requests, plus this one, wanted a connection at once.
          peakConnectionsWanted: wait.maxRepeats + 1,
          routes,
          exampleTraceId: wait.exampleTraceId,
        },
      });
    }
    return candidates;
  },
};

/**
 * Time the checkouts took, less the time spent opening new connections inside them
 * (`pg.connect` under `pg-pool.connect`): opening a connection is a warm-up cost every
 * pool pays once per connection, not a wait for a busy one.
 */
function waitingTime(trace: AssembledTrace, connects: DbConnectOperation[]): number {
  const underConnect = (operation: DbConnectOperation) =>
    trace.get(operation.parentSpanId)?.type === 'db_connect';
  const checkouts = connects.filter((connect) => !underConnect(connect));
  const opening = connects.filter(underConnect);
  const checkoutMs = checkouts.length > 0 ? wallTime(checkouts) : 0;
  return Math.max(0, checkoutMs - (opening.length > 0 ? wallTime(opening) : 0));
}
