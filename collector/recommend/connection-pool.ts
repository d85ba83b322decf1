/**
 * The fix for a connection_pool finding.
 *
 * Requests waiting for a connection: a pool big enough for the requests that want one at once.
 * Little's law sizes it: arrival rate × (wait + statement time) per request is how many requests
 * are in the database stage on average, and the longest wait, counted in statements queued
 * behind, shows the bursts; with that many connections, none waits.
 *
 * Requests opening connections: one pool for the process, created once, sized from arrival rate ×
 * statement time (the connections held at once) with headroom. A pool that churns is created per
 * request or closes its idle connections too soon. Either way the database must allow the size,
 * so the advice names the limit to check. The size is the detector's (`advisedPoolSize`), so the
 * dashboard shows the number this code sets; `null` there is a client that needs no pool.
 */
import type { FindingCandidate, Recommendation } from '../../model/index.js';

export function recommendConnectionPool(candidate: FindingCandidate): Recommendation {
  return candidate.evidence.rule === 'new_connections' ? reuseConnections(candidate) : sizePool(candidate);
}

function sizePool(candidate: FindingCandidate): Recommendation {
  const { evidence } = candidate;
  const system = String(evidence.system ?? '');
  const wanted = Number(evidence.connectionsWanted ?? 0);
  const peak = Number(evidence.peakConnectionsWanted ?? 0);
  const size = Number(evidence.advisedPoolSize);
  const driver = DRIVERS[system] ?? POSTGRES;
  return {
    summary: `Size the ${system} pool for ${size} connections: ${driver.knob}`,
    detail:
      `Requests wait ${evidence.waitMsPerRequest} ms for a connection on average, ${Math.round(Number(evidence.waitShare) * 100)}% ` +
      `of their time, then run ${evidence.dbMsPerRequest} ms of statements. At ${evidence.arrivalPerSecond} requests/s, ` +
      `${wanted} requests want a connection at once on average (Little's law: arrival rate × (wait + statement time)); ` +
      `at the worst moment a request queued behind ${peak - 1} statements, so at least ${peak} wanted one at once; ` +
      `a pool of ${size} covers both. ${driver.limit} Several app processes share that limit: ` +
      'divide it between them. If statements hold connections long, the slow_query findings shorten them, and ' +
      'a connection checked out by hand (`pool.connect()`) must be released in a `finally`.',
    code: driver.pool(size),
    language: 'javascript',
  };
}

function reuseConnections(candidate: FindingCandidate): Recommendation {
  const { evidence } = candidate;
  const system = String(evidence.system ?? '');
  const busy = Number(evidence.connectionsBusy ?? 0);
  const size = typeof evidence.advisedPoolSize === 'number' ? evidence.advisedPoolSize : undefined;
  const driver = DRIVERS[system] ?? POSTGRES;
  const measured =
    `${evidence.requestsOpening} of ${evidence.requests} requests (${Math.round(Number(evidence.openShare) * 100)}%) opened ` +
    `a new connection, ${evidence.openMsPerRequest} ms each, before ${evidence.dbMsPerRequest} ms of statements. ` +
    (size !== undefined
      ? `At ${evidence.arrivalPerSecond} requests/s, statements hold ${busy} connections at once on average ` +
        `(Little's law: arrival rate × statement time); ${size} covers that with headroom for bursts, and the pool ` +
        'opens connections only as requests need them. '
      : '');
  const cause = evidence.pooled
    ? 'The pool opens a connection on most checkouts: it is created per request (create it once, at start-up, and never ' +
      '`end()` it in a handler), or it closes idle connections before the next request comes (raise its idle timeout). '
    : `Each request connects on its own (\`${driver.perRequest}\`): ${driver.reuse} `;
  return {
    summary:
      size !== undefined
        ? `Reuse ${system} connections: one pool of ${size} for the process (${driver.knob})`
        : `Reuse ${system} connections: ${driver.knob}`,
    detail: measured + cause + driver.limit,
    code: driver.pool(size),
    language: 'javascript',
  };
}

interface Driver {
  knob: string;
  /** What opening a connection per request looks like with this driver. */
  perRequest: string;
  /** What to open once instead. */
  reuse: string;
  limit: string;
  /** The code creating the pool; `size` is undefined for a client that needs none, whose code ignores it. */
  pool: (size: number | undefined) => string;
}

const POSTGRES: Driver = {
  knob: 'new Pool({ max })',
  perRequest: 'new Client() + connect() + end()',
  reuse: 'open one pool when the app starts and run every statement through it.',
  limit:
    'Check that the server allows it (`SHOW max_connections;`, 100 by default, a few kept for superusers).',
  pool: (size) =>
    [
      "const { Pool } = require('pg');",
      '',
      '// Once, when the app starts; every request runs pool.query(…) and the pool reuses connections.',
      'const pool = new Pool({',
      `  max: ${size},`,
      '  connectionTimeoutMillis: 2_000, // fail fast instead of queueing forever when the pool is exhausted',
      '  idleTimeoutMillis: 30_000,',
      '});',
    ].join('\n'),
};

const MYSQL: Driver = {
  knob: 'createPool({ connectionLimit })',
  perRequest: 'createConnection() + end()',
  reuse: 'open one pool when the app starts and run every statement through it.',
  limit: "Check that the server allows it (`SHOW VARIABLES LIKE 'max_connections';`, 151 by default).",
  pool: (size) =>
    [
      "const mysql = require('mysql2/promise');",
      '',
      '// Once, when the app starts; every request runs pool.query(…) and the pool reuses connections.',
      'const pool = mysql.createPool({',
      `  connectionLimit: ${size},`,
      `  maxIdle: ${size},`,
      '  idleTimeout: 60_000,',
      '  waitForConnections: true,',
      '  queueLimit: 0,',
      '});',
    ].join('\n'),
};

const REDIS: Driver = {
  knob: 'one client per process, created at start-up',
  perRequest: 'new Redis() + quit()',
  reuse:
    'create one client when the app starts (ioredis `new Redis()`, node-redis `createClient()` + `connect()`) ' +
    'and send every command through it.',
  limit:
    'A Redis client multiplexes every command over its one connection, concurrent requests included: no pool is needed.',
  pool: () =>
    [
      "const Redis = require('ioredis');",
      '',
      '// Once, when the app starts; every request uses this client.',
      "const redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 2 });",
    ].join('\n'),
};

const DRIVERS: Record<string, Driver> = { postgresql: POSTGRES, mysql: MYSQL, mariadb: MYSQL, redis: REDIS };
