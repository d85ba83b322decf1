/**
 * The fix for a connection_pool finding: a pool big enough for the requests that want a
 * connection at once. Little's law sizes it: arrival rate × (wait + statement time) per
 * request is how many requests are in the database stage on average, and the longest
 * wait, counted in statements queued behind, shows the bursts; with that many
 * connections, none waits. The database must allow it, so the advice names the limit to check.
 */
import type { FindingCandidate, Recommendation } from '../../model/index.js';

/** Headroom over the average: requests arrive in bursts. */
const HEADROOM = 1.5;

export function recommendConnectionPool(candidate: FindingCandidate): Recommendation {
  const { evidence } = candidate;
  const system = String(evidence.system ?? '');
  const wanted = Number(evidence.connectionsWanted ?? 0);
  const peak = Number(evidence.peakConnectionsWanted ?? 0);
  const size = Math.max(2, Math.ceil(wanted * HEADROOM), peak);
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
    code: driver.code(size),
    language: 'javascript',
  };
}

interface Driver {
  knob: string;
  limit: string;
  code: (size: number) => string;
}

const POSTGRES: Driver = {
  knob: 'new Pool({ max })',
  limit:
    'Check that the server allows it (`SHOW max_connections;`, 100 by default, a few kept for superusers).',
  code: (size) =>
    [
      "const { Pool } = require('pg');",
      '',
      'const pool = new Pool({',
      `  max: ${size},`,
      '  connectionTimeoutMillis: 2_000, // fail fast instead of queueing forever when the pool is exhausted',
      '  idleTimeoutMillis: 30_000,',
      '});',
    ].join('\n'),
};

const MYSQL: Driver = {
  knob: 'createPool({ connectionLimit })',
  limit: "Check that the server allows it (`SHOW VARIABLES LIKE 'max_connections';`, 151 by default).",
  code: (size) =>
    [
      "const mysql = require('mysql2/promise');",
      '',
      'const pool = mysql.createPool({',
      `  connectionLimit: ${size},`,
      '  waitForConnections: true,',
      '  queueLimit: 0,',
      '});',
    ].join('\n'),
};

const DRIVERS: Record<string, Driver> = { postgresql: POSTGRES, mysql: MYSQL, mariadb: MYSQL };
