import { describe, expect, it } from 'vitest';
import { slowQueryDetector } from '../../../collector/detect/slow-query.js';
import { runDetector } from '../../support/detect-harness.js';
import {
  chattyQueryDominatesDbTime,
  fastLookups,
  oneOffSeedStatements,
  slowCommits,
  unindexedLookup,
} from './fixtures/queries.js';

describe('slow_query detector', () => {
  it('fires on a fingerprint whose p95 passes the threshold, with percentiles and routes', () => {
    const [finding, ...rest] = runDetector(slowQueryDetector, unindexedLookup());
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      kind: 'slow_query',
      service: 'shop',
      title: 'Slow SELECT on orders: p95 252 ms',
      evidence: {
        fingerprint: 'select * from orders where customer_email = ?',
        count: 20,
        routes: [{ route: 'GET /orders/by-email', count: 20 }],
        exampleTraceId: 'slow-19',
        shareOfDbTime: 1,
      },
    });
    const evidence = finding?.evidence as Record<string, number>;
    expect(evidence.p50Ms).toBeGreaterThan(210);
    expect(evidence.p50Ms).toBeLessThan(222);
    expect(evidence.maxMs).toBe(256);
    // 4 360 ms of queries over the one minute of data the window holds.
    expect((finding?.impact ?? 0) / 4_360).toBeCloseTo(1, 1);
  });

  it('stays silent on fast primary-key lookups', () => {
    expect(runDetector(slowQueryDetector, fastLookups())).toEqual([]);
  });

  it('fires on a fast query that dominates DB time, and only on that one', () => {
    const findings = runDetector(slowQueryDetector, chattyQueryDominatesDbTime(), {
      slowQueryMinImpact: 100,
    });
    expect(findings).toHaveLength(1);
    expect(findings[0]?.title).toBe('SELECT on settings takes 100% of DB time');
    expect(findings[0]?.evidence.count).toBe(1_200);
  });

  it('does not call a fast dominant query slow when its DB time per minute is negligible', () => {
    expect(
      runDetector(slowQueryDetector, chattyQueryDominatesDbTime(), { slowQueryMinImpact: 10_000 }),
    ).toEqual([]);
  });

  it('ignores transaction statements however long they wait', () => {
    expect(runDetector(slowQueryDetector, slowCommits())).toEqual([]);
  });

  it('ignores one-off statements (seeds, migrations) and DDL', () => {
    expect(runDetector(slowQueryDetector, oneOffSeedStatements())).toEqual([]);
    const [seed] = runDetector(slowQueryDetector, oneOffSeedStatements(), { slowQueryMinCount: 1 });
    expect(seed?.evidence.statementType).toBe('insert');
  });

  it('follows the configured thresholds', () => {
    const [dominant] = runDetector(slowQueryDetector, unindexedLookup(), { slowQueryMs: 300 });
    expect(dominant?.title).toBe('SELECT on orders takes 100% of DB time');
    expect(
      runDetector(slowQueryDetector, unindexedLookup(), { slowQueryMs: 300, slowQueryMinImpact: 10_000 }),
    ).toEqual([]);
  });
});
