import { describe, expect, it } from 'vitest';
import { dependencyResilienceDetector } from '../../../collector/detect/dependency-resilience.js';
import { recommend } from '../../../collector/recommend/index.js';
import { runDetector } from '../../support/detect-harness.js';
import {
  flakyDependency,
  hangingDependency,
  healthyDependency,
  timingOutDependency,
} from './fixtures/dependencies.js';

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
        routes: [{ route: 'GET /checkout', requests: 20 }],
      },
    });
    // Five requests each held 30 ms by the failure and 20 ms by the retry, over 20 requests.
    expect(findings[0]?.evidence.heldMsPerRequest).toBe(12.5);
  });

  it('fires on a host that hangs even when every call succeeds', () => {
    const [finding] = runDetector(dependencyResilienceDetector, hangingDependency());
    expect(finding).toMatchObject({
      key: 'recs.internal',
      title: 'Dependency recs.internal: 2 calls hung ≥ 2 s',
      // The p99 a timeout is set from leaves the hangs out: 40 ms calls, in the 50 ms bucket.
      evidence: { calls: 12, failed: 0, hung: 2, successP99Ms: 50 },
    });
  });

  it('counts slow failures as timeouts', () => {
    const [finding] = runDetector(dependencyResilienceDetector, timingOutDependency());
    expect(finding?.evidence).toMatchObject({
      calls: 10,
      failed: 4,
      timeouts: 4,
      errorRate: 0.4,
      successP99Ms: 250,
    });
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
    expect(fix.detail).toContain('4 of 10 calls failed (40%), 4 after ≥ 1 s (timeouts)');
  });
});
