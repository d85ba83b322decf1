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
 * `<dependency> @le:<bound>` counts successful calls that did not hang per latency bucket, from
 * which the timeout advice reads a p99 at bucket resolution; `<dependency> @failing:<call>`
 * counts the failures of each call.
 */
import type { ErrorKind, FindingCandidate, Operation } from '../../model/index.js';
import type { PatternStats } from '../aggregate/stats.js';
import { topLabels } from '../aggregate/stats.js';
import { entryLabel, isEntry } from '../assemble/trace.js';
import { percent, round2 } from './format.js';
import { severityForImpact } from './severity.js';
import type { DetectionConfig, Detector, Occurrence } from './types.js';
import { wallTime } from './wall-time.js';

/** Upper bounds (ms) of the latency buckets successful calls are counted in; the last is open. */
export const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000];

export type DependencyType = 'http' | 'database' | 'cache' | 'queue';

const CACHE_SYSTEMS = new Set(['redis', 'valkey', 'memcached']);
/** Failing calls named in the evidence, most failures first. */
const FAILING_LISTED = 5;

type Part = 'calls' | 'failed' | 'timeouts' | ErrorKind | 'retries' | 'hung' | 'held';

/** One call to a dependency, and what makes two calls the same call (for retries). */
interface Call {
  operation: Operation;
  /** `GET /users/{id}`, a fingerprint id, `GET user:{id}`, `publish orders`, `connect`. */
  identity: string;
  /** The call for people: the URL template, the statement, the command and key pattern. */
  label: string;
}

interface Dependency {
  key: string;
  type: DependencyType;
  system: string;
  /** Host and port when the spans name them. */
  host: string;
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
    const byDependency = new Map<string, Dependency>();
    for (const operation of trace.operations) {
      const target = targetOf(operation);
      if (!target) continue;
      const entry = trace.entryOf(operation);
      if (!entry || !isEntry(entry)) continue;
      const dependency = byDependency.get(target.key);
      const call = { operation, identity: target.identity, label: target.label };
      if (dependency) dependency.calls.push(call);
      else byDependency.set(target.key, { ...target, calls: [call], entry });
    }
    const occurrences: Occurrence[] = [];
    for (const dependency of byDependency.values())
      occurrences.push(...occurrencesOf(trace.traceId, dependency, config));
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

/** The dependency an operation calls and which call it is; undefined for anything but a call. */
function targetOf(
  operation: Operation,
): (Omit<Dependency, 'calls' | 'entry'> & { identity: string; label: string }) | undefined {
  switch (operation.type) {
    case 'http_client': {
      const call = `${operation.method} ${operation.urlTemplate}`;
      const host = operation.host;
      return { key: host, type: 'http', system: 'http', host, identity: call, label: call };
    }
    case 'db_query':
      return {
        ...serverOf(operation.system, operation.host ?? operation.namespace),
        identity: operation.fingerprintId,
        label: operation.fingerprint,
      };
    case 'db_connect':
      // A pool checkout is the app's own queue (connection_pool); opening a connection reaches the server.
      if (operation.opensConnection !== true) return undefined;
      return { ...serverOf(operation.system, operation.host), identity: 'connect', label: 'connect' };
    case 'cache_command': {
      const call = `${operation.command} ${operation.keyPattern ?? ''}`.trim();
      return { ...serverOf(operation.system, operation.host), identity: call, label: call };
    }
    case 'queue_message': {
      if (operation.role !== 'publish') return undefined;
      const call = `publish ${operation.destination}`;
      return { ...serverOf(operation.system, operation.host), type: 'queue', identity: call, label: call };
    }
    default:
      return undefined;
  }
}

function serverOf(system: string, server: string | undefined): Omit<Dependency, 'calls' | 'entry'> {
  const type: DependencyType = CACHE_SYSTEMS.has(system) ? 'cache' : 'database';
  return { key: server ? `${system} ${server}` : system, type, system, host: server ?? '' };
}

function occurrencesOf(traceId: string, dependency: Dependency, config: DetectionConfig): Occurrence[] {
  const { key, type, system, host, calls, entry } = dependency;
  const evidence = { dependency: type, system, host };
  const occurrence = (part: string, operations: Operation[], extra = {}): Occurrence => ({
    kind: 'dependency_resilience',
    service: entry.service,
    key: part === 'held' ? key : `${key} @${part}`,
    traceId,
    entry: entryLabel(entry),
    repeats: operations.length,
    durationMs: wallTime(operations),
    evidence: { ...evidence, ...extra },
  });
  const operations = calls.map((call) => call.operation);
  const failedCalls = calls.filter((call) => call.operation.error);
  const failed = failedCalls.map((call) => call.operation);
  const timeouts = failed.filter(
    (call) => call.errorKind === 'timeout' || call.durationMs >= config.dependencyTimeoutMs,
  );
  const hung = operations.filter((call) => call.durationMs >= config.dependencyHangMs);
  const retries = retriesOf(calls);
  const held = [...new Set([...failed, ...retries, ...hung])];
  const parts: Array<[Part, Operation[]]> = [
    ['calls', operations],
    ['failed', failed],
    ['timeouts', timeouts],
    ['timeout', failed.filter((call) => call.errorKind === 'timeout')],
    ['connection', failed.filter((call) => call.errorKind === 'connection')],
    ['rejected', failed.filter((call) => call.errorKind === 'rejected')],
    ['retries', retries],
    ['hung', hung],
    ['held', held],
  ];
  const occurrences: Occurrence[] = [];
  for (const [part, matching] of parts) {
    if (part === 'calls' || matching.length > 0) occurrences.push(occurrence(part, matching));
  }
  const failing = new Map<string, Call[]>();
  for (const call of failedCalls) failing.set(call.identity, [...(failing.get(call.identity) ?? []), call]);
  for (const [identity, same] of failing) {
    occurrences.push(
      occurrence(
        `failing:${identity}`,
        same.map((call) => call.operation),
        { call: same[0]?.label },
      ),
    );
  }
  // The latency a timeout is set from: successful calls that did not hang.
  const succeeded = operations.filter((call) => !call.error && call.durationMs < config.dependencyHangMs);
  for (const bound of LATENCY_BOUNDS_MS) {
    const inBucket = succeeded.filter((call) => call.durationMs <= bound && call.durationMs > lowerOf(bound));
    if (inBucket.length > 0) occurrences.push(occurrence(`le:${bound}`, inBucket));
  }
  const beyond = succeeded.filter((call) => call.durationMs > (LATENCY_BOUNDS_MS.at(-1) ?? 0));
  if (beyond.length > 0) occurrences.push(occurrence('le:inf', beyond));
  return occurrences;
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
  const p99Ms = successP99(parts);
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
      heldMsPerRequest: round2((parts.get('held')?.totalMs ?? 0) / calls.occurrences),
      failing,
      routes: topLabels(calls.entries).map(({ label, count }) => ({ route: label, requests: count })),
      exampleTraceId: (parts.get('held') ?? calls).exampleTraceId,
    },
  };
}

/** Calls made again after the same call failed earlier in the trace. */
function retriesOf(calls: Call[]): Operation[] {
  const ordered = [...calls].sort((a, b) => a.operation.startTimeMs - b.operation.startTimeMs);
  return ordered
    .filter(({ operation, identity }) =>
      ordered.some(
        (earlier) =>
          earlier.operation !== operation &&
          earlier.operation.error &&
          earlier.identity === identity &&
          earlier.operation.startTimeMs + earlier.operation.durationMs <= operation.startTimeMs,
      ),
    )
    .map((call) => call.operation);
}

function lowerOf(bound: number): number {
  const index = LATENCY_BOUNDS_MS.indexOf(bound);
  return index > 0 ? (LATENCY_BOUNDS_MS[index - 1] ?? 0) : 0;
}

/** The bucket bound that 99% of successful calls stay within; undefined without one, or beyond the last bound. */
function successP99(parts: Map<string, PatternStats>): number | undefined {
  const counts = LATENCY_BOUNDS_MS.map((bound) => parts.get(`le:${bound}`)?.totalRepeats ?? 0);
  const total = counts.reduce((sum, n) => sum + n, 0) + (parts.get('le:inf')?.totalRepeats ?? 0);
  if (total === 0) return undefined;
  let seen = 0;
  for (const [index, n] of counts.entries()) {
    seen += n;
    if (seen >= total * 0.99) return LATENCY_BOUNDS_MS[index];
  }
  return undefined;
}
