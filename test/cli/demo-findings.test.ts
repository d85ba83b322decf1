/** What `chokepoint demo` prints for the findings it polls: new ones once, changed fixes again. */
import { describe, expect, it } from 'vitest';
import { findingLines } from '../../cli/demo.js';

const slowQuery = {
  kind: 'slow_query' as const,
  severity: 'high' as const,
  title: 'Slow SELECT on shop_products',
  impact: 849.6,
  recommendation: {
    summary: 'The plan already uses an index: look at what the query waits on.',
    detail: '',
  },
};

describe('findingLines', () => {
  it('prints a new finding with its impact and fix', () => {
    expect(findingLines(slowQuery, undefined)).toEqual([
      'finding    slow_query [high] Slow SELECT on shop_products (850 ms/min)',
      '           fix: The plan already uses an index: look at what the query waits on.',
    ]);
  });

  it('prints nothing for a finding whose fix was printed already', () => {
    expect(findingLines(slowQuery, slowQuery.recommendation.summary)).toEqual([]);
  });

  it('prints nothing when only the figures in the fix moved', () => {
    const endpoint = {
      ...slowQuery,
      kind: 'slow_endpoint' as const,
      recommendation: {
        summary: "Make fewer cache round trips: 55% of GET /products/{id}'s time",
        detail: '',
      },
    };
    expect(findingLines(endpoint, "Make fewer cache round trips: 57% of GET /products/{id}'s time")).toEqual(
      [],
    );
    expect(findingLines(endpoint, "Make fewer cache round trips: 5.7% of GET /products/{id}'s time")).toEqual(
      [],
    );
  });

  it('prints the new fix when a later tick changed it', () => {
    const linked = {
      ...slowQuery,
      recommendation: { summary: 'Unblock the event loop first: it stalls 1.6 s at a time.', detail: '' },
    };
    expect(findingLines(linked, slowQuery.recommendation.summary)).toEqual([
      'update     slow_query Slow SELECT on shop_products',
      '           fix now: Unblock the event loop first: it stalls 1.6 s at a time.',
    ]);
  });
});
