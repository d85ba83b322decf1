/**
 * The overview's headline numbers, computed from the list routes' rows: how busy the
 * service is, how slow, where its time goes and what waits. Pure, so every number is
 * tested without a browser.
 */
import type { CacheRow, EndpointRow, QueueRow } from './api-types.js';
import { formatCount, formatDuration, formatRate, formatShare } from './format.js';

export interface Tile {
  id: 'requests' | 'latency' | 'database' | 'cache' | 'queue';
  label: string;
  /** The number, with its unit; `—` when nothing was measured. */
  value: string;
  /** What the number is about, in a few words. */
  detail: string;
}

/**
 * @example
 * headlineTiles({ endpoints, caches, queues }).map((tile) => `${tile.label}: ${tile.value}`)
 * // ['Requests: 368/min', 'p95, slowest route: 3.26 s', 'Time in SQL: 29%', …]
 */
export function headlineTiles(lists: {
  endpoints: EndpointRow[];
  caches: CacheRow[];
  queues: QueueRow[];
}): Tile[] {
  return [
    requests(lists.endpoints),
    latency(lists.endpoints),
    database(lists.endpoints),
    cache(lists.caches),
    queue(lists.queues),
  ];
}

function requests(endpoints: EndpointRow[]): Tile {
  const tile = { id: 'requests', label: 'Requests' } as const;
  const count = sum(endpoints, (row) => row.count);
  if (count === 0) return { ...tile, value: '—', detail: 'no requests seen' };
  const errors = sum(endpoints, (row) => row.errors);
  return {
    ...tile,
    value: formatRate(sum(endpoints, (row) => row.requestsPerMin)),
    detail: `${formatShare(errors / count)} errors · ${formatCount(endpoints.length)} ${endpoints.length === 1 ? 'route' : 'routes'}`,
  };
}

/** A service-wide p95 cannot be merged from per-route p95s: the slowest route's is the honest headline. */
function latency(endpoints: EndpointRow[]): Tile {
  const tile = { id: 'latency', label: 'p95, slowest route' } as const;
  const slowest = maxBy(endpoints, (row) => row.p95Ms);
  if (!slowest) return { ...tile, value: '—', detail: 'no requests seen' };
  return { ...tile, value: formatDuration(slowest.p95Ms), detail: slowest.route };
}

function database(endpoints: EndpointRow[]): Tile {
  const tile = { id: 'database', label: 'Time in SQL' } as const;
  const requestMs = sum(endpoints, (row) => row.totalMs);
  if (requestMs === 0) return { ...tile, value: '—', detail: 'no requests seen' };
  // breakdownMs is per request: times the count gives the route's SQL time.
  const sqlMs = sum(endpoints, (row) => (row.breakdownMs?.sql ?? 0) * row.count);
  return { ...tile, value: formatShare(Math.min(sqlMs / requestMs, 1)), detail: 'of request time' };
}

function cache(caches: CacheRow[]): Tile {
  const tile = { id: 'cache', label: 'Cache hit ratio' } as const;
  const lookups = sum(caches, (row) => row.lookups);
  if (lookups === 0) return { ...tile, value: '—', detail: 'no cache lookups seen' };
  return {
    ...tile,
    value: formatShare(sum(caches, (row) => row.hits) / lookups),
    detail: `of ${formatRate(sum(caches, (row) => row.lookupsPerMin))} lookups`,
  };
}

function queue(queues: QueueRow[]): Tile {
  const tile = { id: 'queue', label: 'Worst queue lag (p95)' } as const;
  const worst = maxBy(
    queues.filter((row) => row.lagP95Ms !== null),
    (row) => row.lagP95Ms ?? 0,
  );
  if (!worst) return { ...tile, value: '—', detail: 'no consumed messages seen' };
  return { ...tile, value: formatDuration(worst.lagP95Ms ?? 0), detail: worst.destination };
}

function sum<T>(rows: T[], value: (row: T) => number): number {
  return rows.reduce((total, row) => total + (Number.isFinite(value(row)) ? value(row) : 0), 0);
}

function maxBy<T>(rows: T[], value: (row: T) => number): T | undefined {
  return rows.reduce<T | undefined>(
    (best, row) => (best === undefined || value(row) > value(best) ? row : best),
    undefined,
  );
}
