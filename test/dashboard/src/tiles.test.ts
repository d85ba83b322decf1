import { describe, expect, it } from 'vitest';
import { headlineTiles } from '../../../dashboard/src/tiles.js';
import { cacheRow, endpointRow, queueRow } from './rows.js';

const byId = (tiles: ReturnType<typeof headlineTiles>) =>
  Object.fromEntries(tiles.map((tile) => [tile.id, `${tile.value} | ${tile.detail}`]));

describe('headlineTiles', () => {
  it('sums traffic, names the slowest route, and weighs SQL time by requests', () => {
    const endpoints = [
      // 100 requests, 40 ms of SQL in a 100 ms request: 4,000 of 10,000 ms.
      endpointRow({
        route: 'GET /orders',
        count: 100,
        errors: 3,
        requestsPerMin: 10,
        totalMs: 10_000,
        p95Ms: 180,
        breakdownMs: { sql: 40, cache: 0, http: 0, queue: 0, ownCode: 60 },
      }),
      // 10 requests, all SQL: 10,000 of 10,000 ms.
      endpointRow({
        route: 'GET /reports',
        count: 10,
        errors: 0,
        requestsPerMin: 1,
        totalMs: 10_000,
        p95Ms: 1_250,
        breakdownMs: { sql: 1_000, cache: 0, http: 0, queue: 0, ownCode: 0 },
      }),
    ];
    const caches = [
      cacheRow({ keyPattern: 'a', lookups: 300, hits: 60, lookupsPerMin: 30 }),
      cacheRow({ keyPattern: 'b', lookups: 100, hits: 100, lookupsPerMin: 10 }),
    ];
    const queues = [
      queueRow({ destination: 'emails', lagP95Ms: 40 }),
      queueRow({ destination: 'orders', lagP95Ms: 2_400 }),
      queueRow({ destination: 'published-only', lagP95Ms: null }),
    ];
    expect(byId(headlineTiles({ endpoints, caches, queues }))).toEqual({
      requests: '11/min | 3% errors · 2 routes',
      latency: '1.25 s | GET /reports',
      database: '70% | of request time',
      cache: '40% | of 40/min lookups',
      queue: '2.40 s | orders',
    });
  });

  it('says what was not seen instead of showing zeros', () => {
    const tiles = headlineTiles({
      endpoints: [],
      caches: [],
      queues: [queueRow({ destination: 'x', lagP95Ms: null })],
    });
    expect(tiles.map((tile) => tile.value)).toEqual(['—', '—', '—', '—', '—']);
    expect(byId(tiles)).toMatchObject({
      requests: '— | no requests seen',
      cache: '— | no cache lookups seen',
      queue: '— | no consumed messages seen',
    });
  });

  it('labels each tile with what it measures', () => {
    expect(headlineTiles({ endpoints: [], caches: [], queues: [] }).map((tile) => tile.label)).toEqual([
      'Requests',
      'p95, slowest route',
      'Time in SQL',
      'Cache hit ratio',
      'Worst queue lag (p95)',
    ]);
  });
});
