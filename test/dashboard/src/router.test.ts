import { describe, expect, it } from 'vitest';
import { formatHash, parseHash, type Route, rangeOf, viewRoute } from '../../../dashboard/src/router.js';

describe('parseHash', () => {
  it('reads the open finding, the filters and the range', () => {
    expect(parseHash('#/findings/abc123?service=checkout&since=24h&kind=n_plus_one')).toEqual({
      view: 'findings',
      findingId: 'abc123',
      service: 'checkout',
      since: '24h',
      kind: 'n_plus_one',
    });
  });

  it('reads a table view with its filter and sort', () => {
    expect(parseHash('#/queries?service=shop&since=15m&filter=orders&sort=p95Ms&dir=asc')).toEqual({
      view: 'queries',
      service: 'shop',
      since: '15m',
      filter: 'orders',
      sort: 'p95Ms',
      dir: 'asc',
    });
  });

  it('falls back to the overview for an empty or unknown hash', () => {
    expect(parseHash('')).toEqual({ view: 'findings' });
    expect(parseHash('#/nowhere/else?service=api')).toEqual({ view: 'findings', service: 'api' });
  });

  it('ignores empty filters, unknown ranges and directions, and parameters of other views', () => {
    expect(parseHash('#/findings?service=&kind=&since=2w')).toEqual({ view: 'findings' });
    expect(parseHash('#/caches?dir=sideways&kind=slow_query')).toEqual({ view: 'caches' });
    expect(parseHash('#/findings?filter=x&sort=p95Ms')).toEqual({ view: 'findings' });
  });

  it('keeps a segment with a broken escape as typed', () => {
    expect(parseHash('#/findings/%E0%A4%A')).toEqual({ view: 'findings', findingId: '%E0%A4%A' });
  });
});

describe('formatHash', () => {
  it('writes the overview without a query when nothing applies', () => {
    expect(formatHash({ view: 'findings' })).toBe('#/findings');
    expect(formatHash({ view: 'runtime' })).toBe('#/runtime');
  });

  it.each<Route>([
    { view: 'findings', findingId: 'f/1?x', service: 'shop & co', kind: 'slow_query', since: '7d' },
    { view: 'findings', service: '<img src=x onerror=alert(1)>' },
    { view: 'findings', findingId: 'ünïcode id' },
    { view: 'endpoints', service: 'shop', filter: 'GET /orders', sort: 'p95Ms', dir: 'desc' },
    { view: 'queues', since: '1h', filter: '#hash & ?query' },
  ])('round-trips through parseHash: %o', (route) => {
    const hash = formatHash(route);
    expect(hash).not.toMatch(/[ <>]/);
    expect(hash.split('?').length).toBeLessThanOrEqual(2);
    expect(parseHash(hash)).toEqual(route);
  });
});

describe('viewRoute and rangeOf', () => {
  it('keeps the service and range when moving to another view, and nothing else', () => {
    const from: Route = { view: 'queries', service: 'shop', since: '24h', filter: 'x', sort: 'p95Ms' };
    expect(viewRoute(from, 'findings')).toEqual({ view: 'findings', service: 'shop', since: '24h' });
    expect(viewRoute({ view: 'findings', findingId: 'f1', kind: 'n_plus_one' }, 'caches')).toEqual({
      view: 'caches',
    });
  });

  it('reads the default range when none is given', () => {
    expect(rangeOf({ view: 'findings' })).toBe('1h');
    expect(rangeOf({ view: 'caches', since: '7d' })).toBe('7d');
  });
});
