import { describe, expect, it } from 'vitest';
import { TraceAssembler } from '../../../collector/assemble/trace-assembler.js';
import {
  dependencyResilienceDetector,
  LATENCY_BOUNDS_MS,
} from '../../../collector/detect/dependency-resilience.js';
import { defaultDetectionConfig } from '../../../collector/detect/types.js';
import { recommend } from '../../../collector/recommend/index.js';
import { FIXTURE_NOW, runDetector } from '../../support/detect-harness.js';
import { cacheCommand, httpCall, request } from '../../support/operations.js';
import {
  flakyDependency,
  hangingDependency,
  healthyDependency,
  missingTable,
  nackedPublishes,
  timingOutDependency,
  timingOutStatements,
  unreachableCache,
} from './fixtures/dependencies.js';

/** Every latency bucket, with the calls given by upper bound (`inf` for the open one), 0 elsewhere. */
function buckets(calls: Record<string, number>): Array<{ leMs: number | null; calls: number }> {
  return [...LATENCY_BOUNDS_MS, null].map((leMs) => ({ leMs, calls: calls[String(leMs ?? 'inf')] ?? 0 }));
}

describe('dependency_resilience detector', () => {
  it('fires on a host that fails often, counting the retries that follow failures', () => {
    const findings = runDetector(dependencyResilienceDetector, flakyDependency());
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'dependency_resilience',
      key: 'payments.internal:8443',
      title: 'Dependency payments.internal:8443: 20% of calls fail',
      evidence: {
        host: 'payments.internal:8443',
        calls: 25,
        failed: 5,
        errorRate: 0.2,
        timeouts: 0,
        retries: 5,
        hung: 0,
        // Every successful call took 20 ms: within the 25 ms bucket.
        successP99Ms: 25,
        // Twice that, rounded up to 100 ms.
        advisedTimeoutMs: 100,
        routes: [{ route: 'GET /checkout', requests: 20 }],
      },
    });
    expect(findings[0]?.evidence.latencyBuckets).toEqual(buckets({ 25: 20 }));
    // Five requests each held 30 ms by the failure and 20 ms by the retry, over 20 requests.
    expect(findings[0]?.evidence.heldMsPerRequest).toBe(12.5);
  });

  it('fires on a host that hangs even when every call succeeds', () => {
    const [finding] = runDetector(dependencyResilienceDetector, hangingDependency());
    expect(finding).toMatchObject({
      key: 'recs.internal',
      title: 'Dependency recs.internal: 2 calls hung ≥ 2 s',
      // The p99 a timeout is set from leaves the hangs out: 40 ms calls, in the 50 ms bucket.
      evidence: { calls: 12, failed: 0, hung: 2, successP99Ms: 50, advisedTimeoutMs: 100 },
    });
    // The 10 healthy calls; the 3 s hangs are in no bucket.
    expect(finding?.evidence.latencyBuckets).toEqual(buckets({ 50: 10 }));
  });

  it('counts healthy calls per latency bucket, the fastest included, the open bucket last', () => {
    // 40 calls of 20, 40, 60 and 80 ms in turn, the first two failing: 38 healthy calls.
    const [finding] = runDetector(dependencyResilienceDetector, healthyDependency(40, 2), {
      dependencyErrorRate: 0.01,
      dependencyMinImpact: 0,
    });
    const latency = finding?.evidence.latencyBuckets as Array<{ leMs: number | null; calls: number }>;
    expect(latency.map((bucket) => bucket.leMs)).toEqual([...LATENCY_BOUNDS_MS, null]);
    expect(latency).toEqual(buckets({ 25: 9, 50: 9, 100: 20 }));
    expect(finding?.evidence).toMatchObject({ successP99Ms: 100, advisedTimeoutMs: 200 });
  });

  it('counts slow failures as timeouts', () => {
    const [finding] = runDetector(dependencyResilienceDetector, timingOutDependency());
    expect(finding?.evidence).toMatchObject({
      calls: 10,
      failed: 4,
      timeouts: 4,
      errorRate: 0.4,
      successP99Ms: 250,
      advisedTimeoutMs: 500,
    });
    // The timeouts failed: only the six 200 ms calls are healthy.
    expect(finding?.evidence.latencyBuckets).toEqual(buckets({ 250: 6 }));
  });

  it('stays silent on a healthy host, a rare failure, or too few calls to judge', () => {
    expect(runDetector(dependencyResilienceDetector, healthyDependency())).toEqual([]);
    expect(runDetector(dependencyResilienceDetector, healthyDependency(100, 1))).toEqual([]);
    expect(runDetector(dependencyResilienceDetector, healthyDependency(5, 5))).toEqual([]);
  });

  it('recommends a timeout from the measured p99, retries with jitter and an opossum breaker', () => {
    const [finding] = runDetector(dependencyResilienceDetector, timingOutDependency());
    const fix = recommend(finding as NonNullable<typeof finding>);
    // p99 of successful calls within 250 ms, with 2× headroom.
    expect(fix.summary).toBe(
      'Guard calls to fx.internal: a 500 ms timeout, retries with backoff and jitter, a circuit breaker',
    );
    expect(fix.code).toContain('const TIMEOUT_MS = 500;');
    expect(fix.code).toContain('AbortSignal.timeout(TIMEOUT_MS)');
    expect(fix.code).toContain("require('opossum')");
    expect(fix.code).toContain('Math.random()');
    expect(fix.detail).toContain('4 of 10 calls failed (40%), 4 timed out');
  });

  it('sets the timeout the evidence advises, not one of its own', () => {
    const [finding] = runDetector(dependencyResilienceDetector, timingOutDependency());
    const evidence = { ...finding?.evidence, advisedTimeoutMs: 1_300 };
    const fix = recommend({ ...(finding as NonNullable<typeof finding>), evidence });
    expect(fix.code).toContain('const TIMEOUT_MS = 1300;');
    expect(fix.detail).toContain('within 250 ms, so a 1300 ms timeout cuts only calls that would hang');
  });
});

describe('dependency_resilience detector: databases, caches and brokers', () => {
  it('fires on statements hitting statement_timeout, per system and server, with pg settings in the fix', () => {
    const [finding] = runDetector(dependencyResilienceDetector, timingOutStatements());
    expect(finding).toMatchObject({
      key: 'postgresql 10.0.0.5:5432',
      title: 'Dependency postgresql 10.0.0.5:5432: 50% of calls fail',
      evidence: {
        dependency: 'database',
        system: 'postgresql',
        host: '10.0.0.5:5432',
        calls: 20,
        failed: 10,
        // Classified from the error, although each took only 100 ms.
        timeouts: 10,
        errorKinds: { timeout: 10, connection: 0, rejected: 0 },
        successP99Ms: 5,
        failing: [{ call: 'select sum(total) from orders where placed_at > ?', failures: 10 }],
      },
    });
    // The first bucket is implied by the others: the 10 healthy 5 ms statements are counted in it.
    expect(finding?.evidence.latencyBuckets).toEqual(buckets({ 5: 10 }));
    const fix = recommend(finding as NonNullable<typeof finding>);
    expect(fix.summary).toBe(
      'Guard statements to postgresql 10.0.0.5:5432: statement_timeout 100 ms, connectionTimeoutMillis, a circuit breaker',
    );
    expect(fix.code).toContain('statement_timeout: 100,');
    expect(fix.code).toContain("require('opossum')");
  });

  it('counts a statement repeated after it failed as a retry, and says that retrying a rejected statement cannot help', () => {
    const [finding] = runDetector(dependencyResilienceDetector, missingTable());
    expect(finding?.evidence).toMatchObject({
      calls: 150,
      failed: 150,
      retries: 120,
      errorKinds: { timeout: 0, connection: 0, rejected: 150 },
    });
    const fix = recommend(finding as NonNullable<typeof finding>);
    expect(fix.detail).toContain('150 failures were errors the server answered with');
    expect(fix.detail).toContain('`select * from orders_v1 where id = ?`');
  });

  it('fires on an unreachable Redis with ioredis settings and the cache as optional', () => {
    const [finding] = runDetector(dependencyResilienceDetector, unreachableCache());
    expect(finding).toMatchObject({
      key: 'redis 10.0.0.9:6379',
      evidence: {
        dependency: 'cache',
        errorRate: 1,
        errorKinds: { connection: 15 },
        // No call succeeded: no latency to read, and a timeout to tune from.
        successP99Ms: null,
        latencyBuckets: buckets({}),
        advisedTimeoutMs: 2_000,
      },
    });
    const fix = recommend(finding as NonNullable<typeof finding>);
    expect(fix.summary).toContain('commandTimeout 2000 ms, maxRetriesPerRequest');
    expect(fix.code).toContain('maxRetriesPerRequest: 1,');
    expect(fix.detail).toContain('15 of 15 calls failed (100%)');
  });

  it('fires on nacked publishes with a confirm channel in the fix', () => {
    const [finding] = runDetector(dependencyResilienceDetector, nackedPublishes());
    expect(finding).toMatchObject({
      key: 'rabbitmq mq.internal:5672',
      evidence: {
        dependency: 'queue',
        calls: 12,
        failed: 4,
        failing: [{ call: 'publish orders', failures: 4 }],
      },
    });
    expect(recommend(finding as NonNullable<typeof finding>).code).toContain('createConfirmChannel()');
  });

  it('stays silent on a healthy database, and follows the thresholds it is given', () => {
    expect(runDetector(dependencyResilienceDetector, timingOutStatements(false))).toEqual([]);
    expect(
      runDetector(dependencyResilienceDetector, nackedPublishes(), { dependencyErrorRate: 0.5 }),
    ).toEqual([]);
    expect(runDetector(dependencyResilienceDetector, unreachableCache(), { dependencyMinCalls: 20 })).toEqual(
      [],
    );
  });

  it('names each call its own dependency when an HTTP host and a cache share a key, in either order', () => {
    // An HTTP host named `redis` and a Redis whose spans name no server are both keyed `redis`.
    const inspect = (call: 'http' | 'cache', slow: boolean) => {
      const root = request(`dep-shared-${call}-${slow}`, { route: '/shared', durationMs: 100 });
      const durationMs = slow ? 40 : 1;
      const operation =
        call === 'http'
          ? httpCall(root, { host: 'redis', urlTemplate: '/ping', durationMs })
          : cacheCommand(root, { command: 'GET', keyPattern: 'user:{id}', host: undefined, durationMs });
      const assembler = new TraceAssembler();
      assembler.add([root, operation], FIXTURE_NOW);
      const [trace] = assembler.drainAll();
      return trace ? (dependencyResilienceDetector.inspectTrace?.(trace, defaultDetectionConfig) ?? []) : [];
    };
    const http = { dependency: 'http', system: 'http', host: 'redis' };
    const cache = { dependency: 'cache', system: 'redis', host: '' };
    for (const [first, second] of [
      ['http', 'cache'],
      ['cache', 'http'],
    ] as const) {
      for (const slow of [false, true]) {
        for (const call of [first, second, first]) {
          const occurrences = inspect(call, slow);
          expect(occurrences.map((occurrence) => occurrence.key)).toEqual(
            slow ? ['redis @calls', 'redis @le:50'] : ['redis @calls'],
          );
          for (const occurrence of occurrences)
            expect(occurrence.evidence).toEqual(call === 'http' ? http : cache);
        }
      }
    }
  });

  it('groups a trace calling many hosts by host, in the order first called, past the hosts it scans', () => {
    const root = request('dep-many-hosts', { route: '/fan-out', durationMs: 500 });
    // Twelve hosts, each called twice: all twelve, then all twelve again.
    const calls = [0, 1].flatMap((round) =>
      Array.from({ length: 12 }, (_, host) =>
        httpCall(root, {
          host: `h${host}.internal`,
          urlTemplate: '/x',
          durationMs: 1 + round,
          startTimeMs: root.startTimeMs + round * 20 + host,
        }),
      ),
    );
    const assembler = new TraceAssembler();
    assembler.add([root, ...calls], FIXTURE_NOW);
    const [trace] = assembler.drainAll();
    const occurrences = trace
      ? (dependencyResilienceDetector.inspectTrace?.(trace, defaultDetectionConfig) ?? [])
      : [];
    expect(occurrences.map(({ key, repeats, durationMs }) => [key, repeats, durationMs])).toEqual(
      Array.from({ length: 12 }, (_, host) => [`h${host}.internal @calls`, 2, 3]),
    );
  });
});
