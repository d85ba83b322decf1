import { describe, expect, it } from 'vitest';
import { slowEndpointDetector } from '../../../collector/detect/slow-endpoint.js';
import { recommend } from '../../../collector/recommend/index.js';
import { runDetector } from '../../support/detect-harness.js';
import { cpuBoundRoute, fastRoute, sqlBoundRoute, twoSlowRequests } from './fixtures/http.js';

describe('slow_endpoint detector', () => {
  it('fires on a route past its p95 threshold and breaks its time down, SQL first here', () => {
    const [finding, ...rest] = runDetector(slowEndpointDetector, sqlBoundRoute());
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      kind: 'slow_endpoint',
      key: 'GET /reports/:id',
      evidence: {
        route: 'GET /reports/:id',
        count: 20,
        dominant: 'sql',
        breakdownMs: { sql: 600, cache: 0, http: 40, queue: 0 },
      },
    });
    expect(finding?.title).toMatch(/^Slow GET \/reports\/:id: p95 8\d\d ms, mostly SQL$/);
    const breakdown = finding?.evidence.breakdownMs as Record<string, number>;
    // Mean request 847.5 ms: what SQL and HTTP leave is the route's own code.
    expect(breakdown.ownCode).toBeCloseTo(207.5, 1);
    expect(finding?.p95Ms).toBeGreaterThan(880);
    expect(recommend(finding as NonNullable<typeof finding>).summary).toBe(
      "Cut its SQL time: 71% of GET /reports/:id's time",
    );
  });

  it('names the route’s own code when the children explain little, and suggests a CPU profile', () => {
    const [finding] = runDetector(slowEndpointDetector, cpuBoundRoute());
    expect(finding?.evidence).toMatchObject({ dominant: 'ownCode', breakdownMs: { sql: 20, ownCode: 680 } });
    const rec = recommend(finding as NonNullable<typeof finding>);
    expect(rec.language).toBe('shell');
    expect(rec.code).toContain('node --cpu-prof');
  });

  it('names a linked event-loop stall in the advice for a route dominated by awaited calls', () => {
    const [finding] = runDetector(slowEndpointDetector, sqlBoundRoute());
    const route = finding as NonNullable<typeof finding>;
    const stall = {
      id: 'e1',
      kind: 'event_loop_blocked',
      title: 'Event loop blocked in shop: delays up to 2.2 s',
      impact: 9,
    };
    const stalled = recommend({ ...route, evidence: { ...route.evidence, related: [stall] } });
    expect(stalled.summary).toBe("Cut its SQL time: 71% of GET /reports/:id's time");
    expect(stalled.detail).toContain(
      "The service's event loop stalled meanwhile (“Event loop blocked in shop: delays up to 2.2 s”): a reply waits for the loop, so part of the sql time is the stall; unblock the loop first.",
    );
    expect(recommend(route).detail).not.toContain('event loop stalled');
  });

  it('stays silent on a fast route and on a route with too few requests to judge', () => {
    expect(runDetector(slowEndpointDetector, fastRoute())).toEqual([]);
    expect(runDetector(slowEndpointDetector, twoSlowRequests())).toEqual([]);
    expect(runDetector(slowEndpointDetector, twoSlowRequests(), { slowEndpointMinCount: 2 })).toHaveLength(1);
  });

  it('follows the configured threshold', () => {
    expect(runDetector(slowEndpointDetector, fastRoute(), { slowEndpointMs: 100 })).toHaveLength(1);
    expect(runDetector(slowEndpointDetector, sqlBoundRoute(), { slowEndpointMs: 2_000 })).toEqual([]);
  });
});
