import { describe, expect, it } from 'vitest';
import { formatHash, parseHash, type Route } from '../../../dashboard/src/router.js';

describe('parseHash', () => {
  it('reads the open finding and the filters', () => {
    expect(parseHash('#/findings/abc123?service=checkout&kind=n_plus_one')).toEqual({
      view: 'findings',
      findingId: 'abc123',
      service: 'checkout',
      kind: 'n_plus_one',
    });
  });

  it('falls back to the findings list for an empty or unknown hash', () => {
    expect(parseHash('')).toEqual({ view: 'findings' });
    expect(parseHash('#/nowhere/else?service=api')).toEqual({ view: 'findings', service: 'api' });
  });

  it('ignores empty filters', () => {
    expect(parseHash('#/findings?service=&kind=')).toEqual({ view: 'findings' });
  });

  it('keeps a segment with a broken escape as typed', () => {
    expect(parseHash('#/findings/%E0%A4%A')).toEqual({ view: 'findings', findingId: '%E0%A4%A' });
  });
});

describe('formatHash', () => {
  it('writes the list view without a query when no filter applies', () => {
    expect(formatHash({ view: 'findings' })).toBe('#/findings');
  });

  it.each<Route>([
    { view: 'findings', findingId: 'f/1?x', service: 'shop & co', kind: 'slow_query' },
    { view: 'findings', service: '<img src=x onerror=alert(1)>' },
    { view: 'findings', findingId: 'ünïcode id' },
  ])('round-trips through parseHash: %o', (route) => {
    const hash = formatHash(route);
    expect(hash).not.toMatch(/[ <>]/);
    expect(hash.split('?')).toHaveLength(route.service || route.kind ? 2 : 1);
    expect(parseHash(hash)).toEqual(route);
  });
});
