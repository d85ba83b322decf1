import { describe, expect, it } from 'vitest';
import { filterRows, nextSort, shownRows, sortRows } from '../../../dashboard/src/tables.js';

describe('sortRows', () => {
  const rows = [
    { name: 'b', p95: 30 },
    { name: 'a', p95: null },
    { name: 'C', p95: 30 },
    { name: 'd', p95: 5 },
    { name: 'e', p95: Number.NaN },
  ];

  it('sorts numbers either way, keeping ties in their order and missing values last', () => {
    expect(sortRows(rows, (row) => row.p95, 'desc').map((row) => row.name)).toEqual([
      'b',
      'C',
      'd',
      'a',
      'e',
    ]);
    expect(sortRows(rows, (row) => row.p95, 'asc').map((row) => row.name)).toEqual(['d', 'b', 'C', 'a', 'e']);
  });

  it('sorts text without regard to case, numbers within text by value', () => {
    expect(sortRows(rows, (row) => row.name, 'asc').map((row) => row.name)).toEqual([
      'a',
      'b',
      'C',
      'd',
      'e',
    ]);
    const routes = ['/v10/x', '/v2/x', '/v1/x'].map((route) => ({ route }));
    expect(sortRows(routes, (row) => row.route, 'asc').map((row) => row.route)).toEqual([
      '/v1/x',
      '/v2/x',
      '/v10/x',
    ]);
  });

  it('leaves its input alone', () => {
    const copy = structuredClone(rows);
    sortRows(rows, (row) => row.name, 'desc');
    expect(rows).toEqual(copy);
  });
});

describe('filterRows', () => {
  const rows = [
    { statement: 'select * from orders where id = ?', route: 'GET /orders/:id' },
    { statement: 'select * from order_items where order_id = ?', route: 'GET /orders' },
    { statement: 'update inventory set reserved = ?', route: 'POST /checkout' },
  ];
  const texts = (row: (typeof rows)[number]) => [row.statement, row.route];

  it('keeps the rows containing every word, in any case and any column', () => {
    expect(filterRows(rows, 'ORDERS select', texts)).toHaveLength(2);
    expect(filterRows(rows, 'order_items', texts).map((row) => row.route)).toEqual(['GET /orders']);
    expect(filterRows(rows, 'inventory checkout', texts).map((row) => row.route)).toEqual(['POST /checkout']);
    expect(filterRows(rows, 'inventory orders', texts)).toEqual([]);
  });

  it('keeps everything for an empty query', () => {
    expect(filterRows(rows, '   ', texts)).toEqual(rows);
  });
});

describe('nextSort', () => {
  it('sorts a new column in its natural direction, then flips it', () => {
    expect(nextSort({}, { key: 'p95Ms', numeric: true })).toEqual({ sort: 'p95Ms', dir: 'desc' });
    expect(nextSort({}, { key: 'route' })).toEqual({ sort: 'route', dir: 'asc' });
    expect(nextSort({ sort: 'p95Ms', dir: 'desc' }, { key: 'p95Ms', numeric: true })).toEqual({
      sort: 'p95Ms',
      dir: 'asc',
    });
    expect(nextSort({ sort: 'p95Ms' }, { key: 'p95Ms', numeric: true })).toEqual({
      sort: 'p95Ms',
      dir: 'asc',
    });
    expect(nextSort({ sort: 'route', dir: 'asc' }, { key: 'p95Ms', numeric: true })).toEqual({
      sort: 'p95Ms',
      dir: 'desc',
    });
  });
});

describe('shownRows', () => {
  const rows = [
    { route: 'GET /a', p95: 10 },
    { route: 'GET /b', p95: 30 },
    { route: 'POST /a', p95: 20 },
  ];
  const columns = [
    {
      key: 'route',
      searchable: true,
      text: (row: (typeof rows)[number]) => row.route,
      value: (row: (typeof rows)[number]) => row.route,
    },
    {
      key: 'p95',
      numeric: true,
      text: (row: (typeof rows)[number]) => `${row.p95} ms`,
      value: (row: (typeof rows)[number]) => row.p95,
    },
    { key: 'trend' },
  ];

  it('filters on searchable columns only, then sorts by the named column', () => {
    expect(shownRows(rows, columns, { filter: '/a', sort: 'p95' }).map((row) => row.route)).toEqual([
      'POST /a',
      'GET /a',
    ]);
    expect(shownRows(rows, columns, { filter: '30 ms' })).toEqual([]);
  });

  it('keeps the collector’s order when the sort names no sortable column', () => {
    expect(shownRows(rows, columns, { sort: 'trend', dir: 'asc' })).toEqual(rows);
    expect(shownRows(rows, columns, { sort: 'nonsense' })).toEqual(rows);
  });
});
