/**
 * dependency_resilience — an outbound HTTP dependency that fails or hangs while requests
 * wait for it. Per host: the share of calls that fail (an error or a 5xx), failures that
 * took long enough to be timeouts, retries (the same method and URL template called again
 * after it failed, in one trace), and calls that hang. Fires when the host fails often or
 * hangs, and the requests spend enough time on those calls to matter.
 *
 * Each trace yields occurrences keyed `<host> @<part>` in the pattern family, so the window
 * sums them without a family of its own; the time held by failed, retried and hung calls
 * is keyed by the host alone, the finding's key, so its series is that time.
 * `<host> @le:<bound>` counts successful calls that did not hang per latency bucket, from
 * which the timeout advice reads a p99 at bucket resolution.
 */
import type { FindingCandidate, HttpClientOperation, Operation } from '../../model/index.js';
import type { PatternStats } from '../aggregate/stats.js';
import { topLabels } from '../aggregate/stats.js';
import { entryLabel, isEntry } from '../assemble/trace.js';
import { round2 } from './format.js';
import { severityForImpact } from './severity.js';
import type { Detector, Occurrence } from './types.js';
import { wallTime } from './wall-time.js';

export const DEPENDENCY_RESILIENCE_DEFAULTS = {
  /** Calls to a host in the window before its error rate means anything. */
  minCalls: 10,
  /** Fires when at least this share of the host's calls fail… */
  errorRate: 0.05,
  /** …or when a call lasts this long (a hang, whatever its outcome). */
  hangMs: 2_000,
  /** A failure that took at least this long is counted as a timeout, not a refusal. */
  timeoutMinMs: 1_000,
  /** …and the time requests spent on failed, retried and hung calls reaches this per minute. */
  minImpactMsPerMin: 100,
};

/** Upper bounds (ms) of the latency buckets successful calls are counted in; the last is open. */
export const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000];

type Part = 'calls' | 'failed' | 'timeouts' | 'retries' | 'hung' | 'held';

export const dependencyResilienceDetector: Detector = {
  kind: 'dependency_resilience',
  explain: () => {
    const d = DEPENDENCY_RESILIENCE_DEFAULTS;
    return {
      rule:
        `per outbound host, ${d.minCalls}+ calls: ≥ ${d.errorRate * 100}% fail (error or 5xx), or a call lasts ≥ ${d.hangMs} ms; ` +
        `and failed, retried and hung calls take ≥ ${d.minImpactMsPerMin} ms/min of request time`,
      impact: 'wall time requests spent on failed, retried and hung calls to the host, per minute',
    };
  },

  inspectTrace(trace) {
    const byHost = new Map<string, { entry: Operation; calls: HttpClientOperation[] }>();
    for (const operation of trace.operations) {
      if (operation.type !== 'http_client') continue;
      const entry = trace.entryOf(operation);
      if (!entry || !isEntry(entry)) continue;
      const group = byHost.get(operation.host);
      if (group) group.calls.push(operation);
      else byHost.set(operation.host, { entry, calls: [operation] });
    }
    const occurrences: Occurrence[] = [];
    for (const [host, { entry, calls }] of byHost) {
      const occurrence = (part: string, operations: HttpClientOperation[]): Occurrence => ({
        kind: 'dependency_resilience',
        service: entry.service,
        key: part === 'held' ? host : `${host} @${part}`,
        traceId: trace.traceId,
        entry: entryLabel(entry),
        repeats: operations.length,
        durationMs: operations.length > 0 ? wallTime(operations) : 0,
        evidence: { host },
      });
      const d = DEPENDENCY_RESILIENCE_DEFAULTS;
      const failed = calls.filter((call) => call.error);
      const timeouts = failed.filter((call) => call.durationMs >= d.timeoutMinMs);
      const hung = calls.filter((call) => call.durationMs >= d.hangMs);
      const retries = retriesOf(calls);
      const held = [...new Set([...failed, ...retries, ...hung])];
      const parts: Array<[Part, HttpClientOperation[]]> = [
        ['calls', calls],
        ['failed', failed],
        ['timeouts', timeouts],
        ['retries', retries],
        ['hung', hung],
        ['held', held],
      ];
      for (const [part, operations] of parts) {
        if (part === 'calls' || operations.length > 0) occurrences.push(occurrence(part, operations));
      }
      // The latency a timeout is set from: successful calls that did not hang.
      const succeeded = calls.filter((call) => !call.error && call.durationMs < d.hangMs);
      for (const bound of LATENCY_BOUNDS_MS) {
        const inBucket = succeeded.filter(
          (call) => call.durationMs <= bound && call.durationMs > lowerOf(bound),
        );
        if (inBucket.length > 0) occurrences.push(occurrence(`le:${bound}`, inBucket));
      }
      const beyond = succeeded.filter((call) => call.durationMs > (LATENCY_BOUNDS_MS.at(-1) ?? 0));
      if (beyond.length > 0) occurrences.push(occurrence('le:inf', beyond));
    }
    return occurrences;
  },

  detect(window) {
    const hosts = new Map<string, Map<string, PatternStats>>();
    for (const pattern of window.patterns) {
      if (pattern.kind !== 'dependency_resilience') continue;
      const [host, part = 'held'] = pattern.key.split(' @');
      const id = `${pattern.service}\n${host}`;
      const parts = hosts.get(id) ?? new Map<string, PatternStats>();
      parts.set(part, pattern);
      hosts.set(id, parts);
    }
    const d = DEPENDENCY_RESILIENCE_DEFAULTS;
    const candidates: FindingCandidate[] = [];
    for (const parts of hosts.values()) {
      const calls = parts.get('calls');
      if (!calls || calls.totalRepeats < d.minCalls) continue;
      const count = (part: Part) => parts.get(part)?.totalRepeats ?? 0;
      const errorRate = count('failed') / calls.totalRepeats;
      const impact = (parts.get('held')?.totalMs ?? 0) / window.minutes;
      if ((errorRate < d.errorRate && count('hung') === 0) || impact < d.minImpactMsPerMin) continue;
      const host = String(calls.evidence.host);
      const p99Ms = successP99(parts);
      const problems = [
        count('failed') > 0 ? `${Math.round(errorRate * 100)}% of calls fail` : '',
        count('hung') > 0 ? `${count('hung')} calls hung ≥ ${d.hangMs / 1000} s` : '',
      ].filter(Boolean);
      candidates.push({
        kind: 'dependency_resilience',
        service: calls.service,
        key: host,
        title: `Dependency ${host}: ${problems.join(', ')}`,
        severity: severityForImpact(impact),
        impact: round2(impact),
        evidence: {
          host,
          calls: calls.totalRepeats,
          failed: count('failed'),
          errorRate: round2(errorRate),
          timeouts: count('timeouts'),
          retries: count('retries'),
          hung: count('hung'),
          successP99Ms: p99Ms ?? null,
          heldMsPerRequest: round2((parts.get('held')?.totalMs ?? 0) / calls.occurrences),
          routes: topLabels(calls.entries).map(({ label, count }) => ({ route: label, requests: count })),
          exampleTraceId: (parts.get('held') ?? calls).exampleTraceId,
        },
      });
    }
    return candidates;
  },
};

/** Calls made again after the same call (method and URL template) failed earlier in the trace. */
function retriesOf(calls: HttpClientOperation[]): HttpClientOperation[] {
  const ordered = [...calls].sort((a, b) => a.startTimeMs - b.startTimeMs);
  return ordered.filter((call) =>
    ordered.some(
      (earlier) =>
        earlier !== call &&
        earlier.error &&
        earlier.method === call.method &&
        earlier.urlTemplate === call.urlTemplate &&
        earlier.startTimeMs + earlier.durationMs <= call.startTimeMs,
    ),
  );
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
