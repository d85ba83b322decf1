/**
 * connection_pool — requests paying for database connections. Two rules per (service,
 * database system):
 *
 * - **waiting**: a pool checkout (`pg-pool.connect`, any `db_connect` that is not a connection
 *   being opened) that takes long means every connection was busy: the request queues behind
 *   others before its first statement. Fires when the wait is a meaningful share of the time of
 *   the requests that acquire a connection, and large enough to matter.
 * - **new connections**: requests that open a connection of their own (`pg.connect` outside a
 *   pool: `new Client()` + `connect()` per request; or a pool that opens one on most checkouts
 *   because it is created per request or drops its idle connections). Every request then pays the
 *   TCP, TLS and authentication handshake. Fires when most requests that acquire a connection open one.
 *
 * Each trace yields occurrences per (request, system) aggregated by the pattern family:
 * `<system>` (time waiting for connections, the waiting finding's own key, so its series is the
 * wait; repeats count how many of the request's own statement times the wait lasted, the
 * statements it queued behind), `<system> @requests` (time of those requests), `<system> @queries`
 * (time running statements), `<system> @opened` (time opening connections, the second finding's
 * key; repeats are connections opened) and `<system> @pool-opened` (those a pool opened), so that
 * shares and pool sizes come from the whole window without a family of their own.
 *
 * The pool size the fix sets (`advisedPoolSize`) is decided here, beside the measurements it
 * comes from, so the recommender's code and the dashboard read one number.
 */
import type { DbConnectOperation, DbQueryOperation, FindingCandidate, Operation } from '../../model/index.js';
import type { PatternStats } from '../aggregate/stats.js';
import { topLabels } from '../aggregate/stats.js';
import { type AssembledTrace, entryLabel, isEntry } from '../assemble/trace.js';
import { formatMs, percent, round2 } from './format.js';
import { severityForImpact } from './severity.js';
import type { DetectionConfig, Detector, Occurrence } from './types.js';
import { wallTime } from './wall-time.js';

type Part = 'wait' | 'requests' | 'queries' | 'opened' | 'pool-opened';

/** Headroom over the average concurrency: requests arrive in bursts. */
const POOL_HEADROOM = 1.5;
/** The smallest pool worth advising: one connection serialises every request. */
const MIN_POOL_SIZE = 2;
/** Clients that pipeline every command over one connection: their fix is one client, not a pool. */
const UNPOOLED_SYSTEMS = new Set(['redis']);
type Parts = Partial<Record<Part, PatternStats>>;

export const connectionPoolDetector: Detector = {
  kind: 'connection_pool',
  explain: (config) => ({
    rule:
      `time requests wait for a pool connection ≥ ${percent(config.poolWaitShare)} of those requests' time and ` +
      `≥ ${config.poolMinImpact} ms/min; or ≥ ${percent(config.poolOpenShare)} of the requests that acquire a connection ` +
      `open a new one (no pool, or a pool that churns), over ≥ ${config.poolOpenMinRequests} requests and ≥ ${config.poolMinImpact} ms/min`,
    impact:
      'time requests waited for a pool connection (opening a new connection inside a checkout excluded), or spent opening connections, per minute',
  }),

  inspectTrace(trace) {
    // Only requests that acquire a connection yield occurrences: most traces have none to group.
    if (!trace.operations.some(isConnect)) return [];
    const byRequest = new Map<
      string,
      { entry: Operation; system: string; connects: DbConnectOperation[]; queries: DbQueryOperation[] }
    >();
    for (const operation of trace.operations) {
      if (operation.type !== 'db_connect' && operation.type !== 'db_query') continue;
      const entry = trace.entryOf(operation);
      if (!entry || !isEntry(entry)) continue;
      const id = `${entry.spanId} ${operation.system}`;
      let group = byRequest.get(id);
      if (!group) {
        group = { entry, system: operation.system, connects: [], queries: [] };
        byRequest.set(id, group);
      }
      if (operation.type === 'db_connect') group.connects.push(operation);
      else group.queries.push(operation);
    }
    const occurrences: Occurrence[] = [];
    for (const { entry, system, connects, queries } of byRequest.values()) {
      if (connects.length === 0) continue;
      const occurrence = (part: Part, repeats: number, durationMs: number): Occurrence => ({
        kind: 'connection_pool',
        service: entry.service,
        key: part === 'wait' ? system : `${system} @${part}`,
        traceId: trace.traceId,
        entry: entryLabel(entry),
        repeats,
        durationMs,
        evidence: { system },
      });
      const { waitMs, opened, poolOpened } = connectionTime(trace, connects);
      const queryMs = wallTime(queries);
      occurrences.push(
        occurrence('wait', queryMs > 0 ? Math.round(waitMs / queryMs) : 0, waitMs),
        occurrence('requests', 1, entry.durationMs),
        occurrence('queries', queries.length, queryMs),
      );
      if (opened.length > 0) occurrences.push(occurrence('opened', opened.length, wallTime(opened)));
      if (poolOpened.length > 0) {
        occurrences.push(occurrence('pool-opened', poolOpened.length, wallTime(poolOpened)));
      }
    }
    return occurrences;
  },

  detect(window, config) {
    const bySystem = new Map<string, Parts>();
    for (const pattern of window.patterns) {
      if (pattern.kind !== 'connection_pool') continue;
      const [system, part = 'wait'] = pattern.key.split(' @') as [string, Part?];
      const id = `${pattern.service}\n${system}`;
      bySystem.set(id, { ...bySystem.get(id), [part]: pattern });
    }
    const candidates: FindingCandidate[] = [];
    for (const parts of bySystem.values()) {
      const waiting = waitingCandidate(parts, window.minutes, config);
      if (waiting) candidates.push(waiting);
      const opening = openingCandidate(parts, window.minutes, config);
      if (opening) candidates.push(opening);
    }
    return candidates;
  },
};

/** What both rules measure about the requests that acquire a connection. */
function demand(requests: PatternStats, queries: PatternStats | undefined, minutes: number) {
  const count = requests.occurrences;
  const dbMsPerRequest = (queries?.totalMs ?? 0) / count;
  const arrivalPerSecond = count / (minutes * 60);
  return {
    count,
    dbMsPerRequest,
    arrivalPerSecond,
    // Little's law: connections held at once on average, by statements alone.
    connectionsBusy: (arrivalPerSecond * dbMsPerRequest) / 1000,
    routes: topLabels(requests.entries).map(({ label, count }) => ({ route: label, requests: count })),
  };
}

function waitingCandidate(
  parts: Parts,
  minutes: number,
  config: DetectionConfig,
): FindingCandidate | undefined {
  const { wait, requests, queries } = parts;
  if (!wait || !requests || requests.occurrences === 0) return undefined;
  const share = wait.totalMs / requests.totalMs;
  const impact = wait.totalMs / minutes;
  if (share < config.poolWaitShare || impact < config.poolMinImpact) return undefined;
  const system = String(wait.evidence.system);
  const { count, dbMsPerRequest, arrivalPerSecond, connectionsBusy, routes } = demand(
    requests,
    queries,
    minutes,
  );
  const waitMsPerRequest = wait.totalMs / count;
  // Little's law: requests in the database stage at once, waiting or holding a connection.
  const connectionsWanted = round2((arrivalPerSecond * (waitMsPerRequest + dbMsPerRequest)) / 1000);
  // The longest wait, in statements queued behind: that many requests, plus this one, wanted a connection at once.
  const peakConnectionsWanted = wait.maxRepeats + 1;
  return {
    kind: 'connection_pool',
    service: wait.service,
    key: system,
    title: `Connection pool: requests wait ${formatMs(waitMsPerRequest)} for a ${system} connection (${Math.round(share * 100)}% of their time)`,
    severity: severityForImpact(impact),
    impact: round2(impact),
    evidence: {
      rule: 'pool_wait',
      system,
      requests: count,
      waitShare: round2(share),
      waitMsPerRequest: round2(waitMsPerRequest),
      requestMeanMs: round2(requests.totalMs / count),
      dbMsPerRequest: round2(dbMsPerRequest),
      arrivalPerSecond: round2(arrivalPerSecond),
      connectionsWanted,
      connectionsBusy: round2(connectionsBusy),
      peakConnectionsWanted,
      // The average with headroom for bursts, and at least the worst moment: with that many, none waits.
      advisedPoolSize: Math.max(
        MIN_POOL_SIZE,
        Math.ceil(connectionsWanted * POOL_HEADROOM),
        peakConnectionsWanted,
      ),
      routes,
      exampleTraceId: wait.exampleTraceId,
    },
  };
}

function openingCandidate(
  parts: Parts,
  minutes: number,
  config: DetectionConfig,
): FindingCandidate | undefined {
  const { opened, requests, queries } = parts;
  if (!opened || !requests || opened.occurrences < config.poolOpenMinRequests) return undefined;
  const openShare = opened.occurrences / requests.occurrences;
  const impact = opened.totalMs / minutes;
  if (openShare < config.poolOpenShare || impact < config.poolMinImpact) return undefined;
  const system = String(opened.evidence.system);
  const { count, dbMsPerRequest, arrivalPerSecond, connectionsBusy, routes } = demand(
    requests,
    queries,
    minutes,
  );
  // A pool that opens connections on most checkouts churns; connections opened outside any pool mean there is none.
  const pooled = (parts['pool-opened']?.totalRepeats ?? 0) * 2 >= opened.totalRepeats;
  const openMsPerRequest = opened.totalMs / opened.occurrences;
  const busy = round2(connectionsBusy);
  const what = pooled
    ? `the ${system} pool opens a new connection`
    : `requests open a new ${system} connection`;
  return {
    kind: 'connection_pool',
    service: opened.service,
    key: opened.key,
    title: `Connection per request: ${what} in ${Math.round(openShare * 100)}% of requests (${formatMs(openMsPerRequest)} each)`,
    severity: severityForImpact(impact),
    impact: round2(impact),
    evidence: {
      rule: 'new_connections',
      system,
      pooled,
      requests: count,
      requestsOpening: opened.occurrences,
      openShare: round2(openShare),
      connectionsOpened: opened.totalRepeats,
      openMsPerRequest: round2(openMsPerRequest),
      requestMeanMs: round2(requests.totalMs / count),
      dbMsPerRequest: round2(dbMsPerRequest),
      arrivalPerSecond: round2(arrivalPerSecond),
      connectionsBusy: busy,
      // One pool for the process, holding what statements hold at once, with headroom; none for a client that pipelines.
      advisedPoolSize: UNPOOLED_SYSTEMS.has(system)
        ? null
        : Math.max(MIN_POOL_SIZE, Math.ceil(busy * POOL_HEADROOM)),
      routes,
      exampleTraceId: opened.exampleTraceId,
    },
  };
}

/**
 * How a request's connection spans split: the time it waited in pool checkouts, less the time
 * opening new connections inside them (a warm-up cost every pool pays once per connection, not a
 * wait for a busy one), and the connections it opened, inside a pool or on its own.
 */
function connectionTime(trace: AssembledTrace, connects: DbConnectOperation[]) {
  const insidePool = (connect: DbConnectOperation) => trace.get(connect.parentSpanId)?.type === 'db_connect';
  const poolOpened = connects.filter(insidePool);
  const opened = connects.filter((connect) => connect.opensConnection === true || insidePool(connect));
  const checkouts = connects.filter((connect) => !opened.includes(connect));
  const waitMs = Math.max(0, wallTime(checkouts) - wallTime(poolOpened));
  return { waitMs, opened, poolOpened };
}

function isConnect(operation: Operation): boolean {
  return operation.type === 'db_connect';
}
