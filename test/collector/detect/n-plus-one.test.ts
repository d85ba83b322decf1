import { describe, expect, it } from 'vitest';
import { nPlusOneDetector, wallTime } from '../../../collector/detect/n-plus-one.js';
import { runDetector } from '../../support/detect-harness.js';
import {
  cheapSqliteNPlusOne,
  fourRepeats,
  parallelNPlusOneWithPoolSpans,
  repeatsSpreadOverParents,
  sequentialNPlusOne,
} from './fixtures/queries.js';

describe('n_plus_one detector', () => {
  it('fires on the same SELECT repeated under one request, with per-request evidence', () => {
    const findings = runDetector(nPlusOneDetector, sequentialNPlusOne());
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'n_plus_one',
      title: 'N+1: SELECT on order_items runs 12× per request in GET /orders/recent',
      evidence: {
        fingerprint: 'select * from order_items where order_id = ?',
        requests: 10,
        avgRepeats: 12,
        maxRepeats: 12,
        repeatMsPerRequest: 48,
        routes: [{ route: 'GET /orders/recent', requests: 10 }],
      },
    });
    // 10 requests × 48 ms of repeats, over the one minute of data the window holds.
    expect((findings[0]?.impact ?? 0) / 480).toBeCloseTo(1, 1);
  });

  it('counts overlapping Promise.all executions once in wall time and ignores pool spans', () => {
    const [finding] = runDetector(nPlusOneDetector, parallelNPlusOneWithPoolSpans());
    expect(finding?.evidence).toMatchObject({ avgRepeats: 8, repeatMsPerRequest: 20 });
  });

  it('stays silent below the threshold, and honours a lower one', () => {
    expect(runDetector(nPlusOneDetector, fourRepeats())).toEqual([]);
    expect(runDetector(nPlusOneDetector, fourRepeats(), { nPlusOneMin: 4 })).toHaveLength(1);
  });

  it('does not group repeats that sit under different parents', () => {
    expect(runDetector(nPlusOneDetector, repeatsSpreadOverParents())).toEqual([]);
  });

  it('ranks a fast SQLite N+1 low', () => {
    const [cheap] = runDetector(nPlusOneDetector, cheapSqliteNPlusOne());
    const [costly] = runDetector(nPlusOneDetector, sequentialNPlusOne());
    expect(cheap?.severity).toBe('low');
    expect(cheap?.impact).toBeLessThan((costly?.impact ?? 0) / 100);
  });
});

describe('wallTime', () => {
  it('merges overlapping intervals and adds disjoint ones', () => {
    expect(
      wallTime([
        { startTimeMs: 0, durationMs: 10 },
        { startTimeMs: 5, durationMs: 10 },
        { startTimeMs: 30, durationMs: 5 },
        { startTimeMs: 31, durationMs: 1 },
      ]),
    ).toBe(20);
    expect(wallTime([])).toBe(0);
  });

  it('gives operations out of start order the time it gives them in order, without reordering them', () => {
    const operations = [
      { startTimeMs: 30, durationMs: 5 },
      { startTimeMs: 0, durationMs: 10 },
      { startTimeMs: 31, durationMs: 1 },
      { startTimeMs: 5, durationMs: 10 },
      { startTimeMs: 50, durationMs: 2 },
    ];
    const given = [...operations];
    expect(wallTime(operations)).toBe(22);
    expect(operations).toEqual(given);
  });
});
