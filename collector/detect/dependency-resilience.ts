/**
 * dependency_resilience — a dependency that fails or hangs while requests wait for it: an
 * outbound HTTP host, a database server, a cache, a message broker. Per dependency: the share
 * of calls that fail (an error or a 5xx) and what they ran into (a timeout, an unreachable
 * server, an error the server answered with), retries (the same call made again after it
 * failed, in one trace), and calls that hang. Fires when the dependency fails often or hangs,
 * and the requests spend enough time on those calls to matter.
 *
 * A dependency is an HTTP host (`api.example.com:8443`), or a system and its server
 * (`postgresql 10.0.0.5:5432`; the database name when the span names no server). Calls are
 * outbound HTTP calls, statements, connections opened, cache commands and publishes made
 * inside a request or consumed message.
 *
 * Each trace yields occurrences keyed `<dependency> @<part>` in the pattern family, so the
 * window sums them without a family of its own; the time held by failed, retried and hung
 * calls is keyed by the dependency alone, the finding's key, so its series is that time.
 * `<dependency> @le:<bound>` counts successful calls that did not hang per latency bucket
 * (`latencyBuckets` in the evidence), from which a p99 is read at bucket resolution and the
 * timeout the fix sets (`advisedTimeoutMs`) decided, here, so the recommender's code and the
 * dashboard read one number; `<dependency> @failing:<call>` counts the failures of each call.
 */
import type { ErrorKind, Evidence, FindingCandidate, Operation } from '../../model/index.js';
import type { PatternStats } from '../aggregate/stats.js';
import { topLabels } from '../aggregate/stats.js';
import { entryLabel, isEntry } from '../assemble/trace.js';
import { LruCache } from '../normalize/lru-cache.js';
import { SharedJoins } from '../normalize/shared-joins.js';
import { percent, round2 } from './format.js';
import { severityForImpact } from './severity.js';
import type { DetectionConfig, Detector, Occurrence } from './types.js';
import { wallTime } from './wall-time.js';

/** Upper bounds (ms) of the latency buckets successful calls are counted in; the last is open. */
export const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000];

export type DependencyType = 'http' | 'database' | 'cache' | 'queue';

/** Headroom over healthy calls' p99: a timeout at the p99 itself would cut 1% of them. */
const TIMEOUT_HEADROOM = 2;
/** The timeout advised when no call succeeded: a starting point to tune from. */
const FALLBACK_TIMEOUT_MS = 2_000;
/** Advised timeouts are whole multiples of this, and never less. */
const TIMEOUT_STEP_MS = 100;

const CACHE_SYSTEMS = new Set(['redis', 'valkey', 'memcached']);
/** Dependencies of one trace found by a scan of their keys; past them, by a map. */
const SCANNED_DEPENDENCIES = 8;
/** Failing calls named in the evidence, most failures first. */
const FAILING_LISTED = 5;

type Part = 'calls' | 'failed' | 'timeouts' | ErrorKind | 'retries' | 'hung' | 'held';

/** A call to a dependency: an outbound HTTP call, a statement, a connection opened, a command, a publish. */
type Call = Operation;
type OutboundCall = Exclude<Operation, { type: 'http_server' | 'internal' }>;

interface Dependency {
  key: string;
  /** Its evidence (type, system, and host and port when the spans name them) and part keys. */
  shape: DependencyShape;
  calls: Call[];
  entry: Operation;
}

export const dependencyResilienceDetector: Detector = {
  kind: 'dependency_resilience',
  explain: (config) => ({
    rule:
      `per dependency (outbound HTTP host, database, cache or broker server), ${config.dependencyMinCalls}+ calls: ` +
      `≥ ${percent(config.dependencyErrorRate)} fail (an error or a 5xx), or a call lasts ≥ ${config.dependencyHangMs} ms; ` +
      `and failed, retried and hung calls take ≥ ${config.dependencyMinImpact} ms/min of request time`,
    impact: 'wall time requests spent on failed, retried and hung calls to the dependency, per minute',
  }),

  inspectTrace(trace, config) {
    // A trace calls a few dependencies: they are found by a scan of their (shared) keys, and
    // through a map only once the trace has called more than SCANNED_DEPENDENCIES.
    const dependencies: Dependency[] = [];
    let byKey: Map<string, Dependency> | undefined;
    for (const operation of trace.operations) {
      const key = dependencyKeyOf(operation);
      if (key === undefined) continue;
      const entry = trace.entryOf(operation);
      if (!entry || !isEntry(entry)) continue;
      let dependency = byKey?.get(key);
      if (!byKey) {
        for (const known of dependencies) {
          if (known.key !== key) continue;
          dependency = known;
          break;
        }
      }
      if (dependency) {
        dependency.calls.push(operation);
        continue;
      }
      // Keyed, so a call: one of the types dependencyKeyOf keys.
      const added = dependencyOf(key, operation as OutboundCall, entry);
      dependencies.push(added);
      if (byKey) byKey.set(key, added);
      else if (dependencies.length > SCANNED_DEPENDENCIES)
        byKey = new Map(dependencies.map((d) => [d.key, d]));
    }
    const occurrences: Occurrence[] = [];
    for (const dependency of dependencies) addOccurrences(occurrences, trace.traceId, dependency, config);
    return occurrences;
  },

  detect(window, config) {
    const dependencies = new Map<string, Map<string, PatternStats>>();
    for (const pattern of window.patterns) {
      if (pattern.kind !== 'dependency_resilience') continue;
      const at = pattern.key.indexOf(' @');
      const key = at < 0 ? pattern.key : pattern.key.slice(0, at);
      const part = at < 0 ? 'held' : pattern.key.slice(at + 2);
      const id = `${pattern.service}\n${key}`;
      const parts = dependencies.get(id) ?? new Map<string, PatternStats>();
      parts.set(part, pattern);
      dependencies.set(id, parts);
    }
    const candidates: FindingCandidate[] = [];
    for (const parts of dependencies.values()) {
      const candidate = candidateOf(parts, window.minutes, config);
      if (candidate) candidates.push(candidate);
    }
    return candidates;
  },
};

/**
 * The key of the dependency an operation calls; undefined for anything but a call. Only the key:
 * this runs for most operations of every trace, and the rest is read once per dependency.
 */
function dependencyKeyOf(operation: Operation): string | undefined {
  switch (operation.type) {
    case 'http_client':
      return operation.host;
    case 'db_query':
      return serverKey(operation.system, operation.host ?? operation.namespace);
    case 'db_connect':
      // A pool checkout is the app's own queue (connection_pool); opening a connection reaches the server.
      return operation.opensConnection === true ? serverKey(operation.system, operation.host) : undefined;
    case 'cache_command':
      return serverKey(operation.system, operation.host);
    case 'queue_message':
      return operation.role === 'publish' ? serverKey(operation.system, operation.host) : undefined;
    default:
      return undefined;
  }
}

/**
 * Keys as one string per dependency (grouped by system, at most 256 servers each): the
 * per-trace map hashes each once instead of a new concatenation per call.
 */
const serverKeys = new SharedJoins({ groupBy: 'first', maxGroups: 1_000, maxPerGroup: 256 });

function serverKey(system: string, server: string | undefined): string {
  return server ? serverKeys.join(system, server) : system;
}

/** A dependency of the trace, from the first call `dependencyKeyOf` keyed `key`. */
function dependencyOf(key: string, call: OutboundCall, entry: Operation): Dependency {
  return { key, shape: shapeOfCall(key, call), calls: [call], entry };
}

function shapeOfCall(key: string, call: OutboundCall): DependencyShape {
  switch (call.type) {
    case 'http_client':
      return shapeOf(key, 'http', 'http', call.host);
    case 'cache_command':
      return shapeOf(key, 'cache', call.system, call.host);
    case 'queue_message':
      return shapeOf(key, 'queue', call.system, call.host);
    case 'db_query':
      return shapeOf(key, databaseType(call.system), call.system, call.host ?? call.namespace);
    case 'db_connect':
      return shapeOf(key, databaseType(call.system), call.system, call.host);
  }
}

/**
 * What every trace's occurrences of a dependency share, by its key: the evidence and the keys of
 * its healthy parts (`calls`, `le:<bound>`), built once rather than per trace. Two kinds of
 * dependency can share a key (a broker and a database on one server, named by one system): the
 * shape kept is then checked and, when it is the other's, a fresh one is built for this trace.
 */
interface DependencyShape {
  evidence: { dependency: DependencyType; system: string; host: string };
  callsKey: string;
  /** `<key> @le:<bound>` by latency bucket, filled as buckets are first seen. */
  latencyKeys: Array<string | undefined>;
}

const shapes = new LruCache<string, DependencyShape>(1_000);

function shapeOf(
  key: string,
  type: DependencyType,
  system: string,
  server: string | undefined,
): DependencyShape {
  const host = server || '';
  const known = shapes.get(key);
  if (known) {
    const { evidence } = known;
    if (evidence.dependency === type && evidence.system === system && evidence.host === host) return known;
  }
  const shape: DependencyShape = {
    evidence: { dependency: type, system, host },
    callsKey: `${key} @calls`,
    latencyKeys: [],
  };
  if (!known) shapes.set(key, shape);
  return shape;
}

/** A cache server reached through database spans (Redis, when not read as cache commands) is a cache. */
function databaseType(system: string): DependencyType {
  return CACHE_SYSTEMS.has(system) ? 'cache' : 'database';
}

/** What makes two calls the same call (for retries): `GET /users/{id}`, a fingerprint id, `GET user:{id}`, `publish orders`. */
function identityOf(call: Call): string {
  return call.type === 'db_query' ? call.fingerprintId : labelOf(call);
}

/** The call for people: the URL template, the statement, the command and key pattern. */
function labelOf(call: Call): string {
  switch (call.type) {
    case 'http_client':
      return `${call.method} ${call.urlTemplate}`;
    case 'db_query':
      return call.fingerprint;
    case 'cache_command':
      return `${call.command} ${call.keyPattern ?? ''}`.trim();
    case 'queue_message':
      return `publish ${call.destination}`;
    default:
      return 'connect';
  }
}

/** Appends the dependency's occurrences in this trace to `occurrences`. */
function addOccurrences(
  occurrences: Occurrence[],
  traceId: string,
  dependency: Dependency,
  config: DetectionConfig,
): void {
  const { key, shape, calls, entry } = dependency;
  const { evidence } = shape;
  const service = entry.service;
  const label = entryLabel(entry);
  // One pass over the calls, since every request pays it: healthy calls are counted by latency
  // bucket (the latency a timeout is set from); anything else is rare and looked at below. The
  // first bucket is left implied (successP99 derives it): most calls to a database or a cache
  // fall in it, so the other buckets' counts are only allocated once a call falls past it.
  let counts: number[] | undefined;
  let sums: number[] | undefined;
  let totalMs = 0;
  let unhealthy = false;
  for (const operation of calls) {
    totalMs += operation.durationMs;
    if (operation.error || operation.durationMs >= config.dependencyHangMs) {
      unhealthy = true;
      continue;
    }
    const bucket = bucketOf(operation.durationMs);
    if (bucket === 0) continue;
    counts ??= new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
    sums ??= new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
    counts[bucket] = (counts[bucket] ?? 0) + 1;
    sums[bucket] = (sums[bucket] ?? 0) + operation.durationMs;
  }
  occurrences.push(occurrenceOf(service, shape.callsKey, traceId, label, calls.length, totalMs, evidence));
  if (counts && sums) {
    for (let bucket = 1; bucket < counts.length; bucket++) {
      const count = counts[bucket] ?? 0;
      if (count === 0) continue;
      shape.latencyKeys[bucket] ??= `${key} @le:${boundName(bucket)}`;
      const partKey = shape.latencyKeys[bucket] as string;
      occurrences.push(occurrenceOf(service, partKey, traceId, label, count, sums[bucket] ?? 0, evidence));
    }
  }
  if (!unhealthy) return;

  const occurrence = (part: string, repeats: number, durationMs: number, own: Evidence = evidence) =>
    occurrenceOf(
      service,
      part === 'held' ? key : `${key} @${part}`,
      traceId,
      label,
      repeats,
      durationMs,
      own,
    );
  const failed = calls.filter((call) => call.error);
  const hung = calls.filter((call) => call.durationMs >= config.dependencyHangMs);
  const retries = retriesOf(calls);
  const parts: Array<[Part | 'hung-failed', Operation[]]> = [
    ['failed', failed],
    [
      'timeouts',
      failed.filter((call) => call.errorKind === 'timeout' || call.durationMs >= config.dependencyTimeoutMs),
    ],
    ['timeout', failed.filter((call) => call.errorKind === 'timeout')],
    ['connection', failed.filter((call) => call.errorKind === 'connection')],
    ['rejected', failed.filter((call) => call.errorKind === 'rejected')],
    ['retries', retries],
    ['hung', hung],
    ['hung-failed', hung.filter((call) => call.error)],
    ['held', [...new Set([...failed, ...retries, ...hung])]],
  ];
  for (const [part, matching] of parts) {
    if (matching.length > 0) occurrences.push(occurrence(part, matching.length, wallTime(matching)));
  }
  const failing = new Map<string, Call[]>();
  for (const call of failed) {
    const identity = identityOf(call);
    const same = failing.get(identity);
    if (same) same.push(call);
    else failing.set(identity, [call]);
  }
  for (const [identity, same] of failing) {
    const named = { ...evidence, call: labelOf(same[0] as Call) };
    occurrences.push(occurrence(`failing:${identity}`, same.length, wallTime(same), named));
  }
}

/** One occurrence of a dependency's part (`key`) in a trace. */
function occurrenceOf(
  service: string,
  key: string,
  traceId: string,
  entry: string | undefined,
  repeats: number,
  durationMs: number,
  evidence: Evidence,
): Occurrence {
  return { kind: 'dependency_resilience', service, key, traceId, entry, repeats, durationMs, evidence };
}

function candidateOf(
  parts: Map<string, PatternStats>,
  minutes: number,
  config: DetectionConfig,
): FindingCandidate | undefined {
  const calls = parts.get('calls');
  if (!calls || calls.totalRepeats < config.dependencyMinCalls) return undefined;
  const count = (part: Part) => parts.get(part)?.totalRepeats ?? 0;
  const errorRate = count('failed') / calls.totalRepeats;
  const impact = (parts.get('held')?.totalMs ?? 0) / minutes;
  if (
    (errorRate < config.dependencyErrorRate && count('hung') === 0) ||
    impact < config.dependencyMinImpact
  ) {
    return undefined;
  }
  const key = calls.key.slice(0, calls.key.indexOf(' @'));
  const latencyBuckets = healthyLatency(parts);
  const p99Ms = percentileBound(latencyBuckets, 0.99);
  const problems = [
    count('failed') > 0 ? `${Math.round(errorRate * 100)}% of calls fail` : '',
    count('hung') > 0 ? `${count('hung')} calls hung ≥ ${config.dependencyHangMs / 1000} s` : '',
  ].filter(Boolean);
  const failing = [...parts]
    .filter(([part]) => part.startsWith('failing:'))
    .map(([, pattern]) => ({ call: String(pattern.evidence.call), failures: pattern.totalRepeats }))
    .sort((a, b) => b.failures - a.failures)
    .slice(0, FAILING_LISTED);
  return {
    kind: 'dependency_resilience',
    service: calls.service,
    key,
    title: `Dependency ${key}: ${problems.join(', ')}`,
    severity: severityForImpact(impact),
    impact: round2(impact),
    evidence: {
      dependency: calls.evidence.dependency,
      system: calls.evidence.system,
      host: calls.evidence.host || key,
      calls: calls.totalRepeats,
      failed: count('failed'),
      errorRate: round2(errorRate),
      timeouts: count('timeouts'),
      errorKinds: { timeout: count('timeout'), connection: count('connection'), rejected: count('rejected') },
      retries: count('retries'),
      hung: count('hung'),
      successP99Ms: p99Ms ?? null,
      latencyBuckets,
      advisedTimeoutMs: advisedTimeout(p99Ms),
      heldMsPerRequest: round2((parts.get('held')?.totalMs ?? 0) / calls.occurrences),
      failing,
      routes: topLabels(calls.entries).map(({ label, count }) => ({ route: label, requests: count })),
      exampleTraceId: (parts.get('held') ?? calls).exampleTraceId,
    },
  };
}

/** Calls made again after the same call failed earlier in the trace. */
function retriesOf(calls: Call[]): Call[] {
  const ordered = [...calls].sort((a, b) => a.startTimeMs - b.startTimeMs);
  return ordered.filter((call) =>
    ordered.some(
      (earlier) =>
        earlier !== call &&
        earlier.error &&
        earlier.startTimeMs + earlier.durationMs <= call.startTimeMs &&
        identityOf(earlier) === identityOf(call),
    ),
  );
}

/** The latency bucket a duration falls in: the first bound it stays within, or past the last. */
function bucketOf(durationMs: number): number {
  let index = 0;
  while (index < LATENCY_BOUNDS_MS.length && durationMs > (LATENCY_BOUNDS_MS[index] as number)) index++;
  return index;
}

function boundName(bucket: number): string {
  return bucket < LATENCY_BOUNDS_MS.length ? String(LATENCY_BOUNDS_MS[bucket]) : 'inf';
}

/**
 * Successful calls that did not hang, per latency bucket: `leMs` is its upper bound, `null` for
 * the last, open one. The first bucket's count is what the others leave of those calls.
 */
function healthyLatency(parts: Map<string, PatternStats>): Array<{ leMs: number | null; calls: number }> {
  const count = (part: string) => parts.get(part)?.totalRepeats ?? 0;
  const healthy = count('calls') - count('failed') - count('hung') + count('hung-failed');
  const counted = [...LATENCY_BOUNDS_MS, null].map((leMs, bucket) => ({
    leMs,
    calls: bucket === 0 ? 0 : count(`le:${boundName(bucket)}`),
  }));
  const implied = Math.max(0, healthy - counted.reduce((sum, { calls }) => sum + calls, 0));
  return counted.map((bucket, index) => (index === 0 ? { leMs: bucket.leMs, calls: implied } : bucket));
}

/**
 * The bucket bound that `quantile` of the calls stay within; undefined without calls, or
 * when it falls in the open bucket.
 *
 * @example
 * percentileBound([{ leMs: 5, calls: 90 }, { leMs: 10, calls: 10 }, { leMs: null, calls: 0 }], 0.99) // 10
 */
function percentileBound(
  buckets: ReadonlyArray<{ leMs: number | null; calls: number }>,
  quantile: number,
): number | undefined {
  const total = buckets.reduce((sum, { calls }) => sum + calls, 0);
  if (total <= 0) return undefined;
  let seen = 0;
  for (const { leMs, calls } of buckets) {
    seen += calls;
    if (seen >= total * quantile) return leMs ?? undefined;
  }
  return undefined;
}

/**
 * The timeout the fix sets: twice the p99 of healthy calls, rounded up to 100 ms, or 2 s when
 * no call succeeded.
 *
 * @example
 * advisedTimeout(250)       // 500
 * advisedTimeout(undefined) // 2000
 */
function advisedTimeout(p99Ms: number | undefined): number {
  if (p99Ms === undefined) return FALLBACK_TIMEOUT_MS;
  return Math.max(TIMEOUT_STEP_MS, Math.ceil((p99Ms * TIMEOUT_HEADROOM) / TIMEOUT_STEP_MS) * TIMEOUT_STEP_MS);
}
