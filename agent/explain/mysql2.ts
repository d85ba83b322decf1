/**
 * MySQL and MariaDB plans through mysql2: `EXPLAIN FORMAT=JSON` with the call's own
 * parameters (formatted in by mysql2 as for the app's `query`), one statement, no session
 * or transaction state touched. On MariaDB it runs as `SET STATEMENT max_statement_time=…
 * FOR EXPLAIN …`; MySQL has no per-statement limit that covers `EXPLAIN` (planning, and
 * waiting for a metadata lock, are all it does). Connections with `multipleStatements`
 * are never used.
 *
 * Which connection, as for pg: a pool connection's statements go to an idle connection of
 * the same pool, only when one is free and nothing waits for one; a lone connection's to a
 * one-off connection with the same configuration, closed after. Both the callback and the
 * promise API (`mysql2/promise` wraps the same connections) are covered.
 */
import type { CapturedPlan, ExplainDriver, ExplainSettings, PlanSystem } from './types.js';

type Callback = (error: Error | null, rows?: unknown) => void;

/** The parts of a mysql2 connection the driver reads (underscored ones are mysql2's own state). */
export interface MysqlConnection {
  query(sql: string, values: unknown[] | undefined, callback: Callback): unknown;
  end(callback?: (error?: Error | null) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  release?(): void;
  config: object & { multipleStatements?: boolean };
  _pool?: MysqlPool | null;
  _isMariaDB?: boolean;
  _handshakePacket?: { serverVersion?: string } | null;
}

/** The parts of a mysql2 pool the driver reads. */
interface MysqlPool {
  _closed?: boolean;
  _freeConnections: { length: number };
  _connectionQueue: { length: number };
  getConnection(callback: (error: Error | null, connection?: MysqlConnection) => void): void;
}

const noop = () => {};

function statementOf(args: readonly unknown[]): { sql?: string; values?: unknown[] } {
  const [first, second] = args;
  if (typeof first === 'string') {
    return { sql: first, values: Array.isArray(second) ? second : undefined };
  }
  if (typeof first !== 'object' || first === null) return {};
  const options = first as { sql?: unknown; values?: unknown };
  return {
    sql: typeof options.sql === 'string' ? options.sql : undefined,
    values: Array.isArray(options.values) ? options.values : Array.isArray(second) ? second : undefined,
  };
}

function isMariaDb(connection: MysqlConnection): boolean {
  if (typeof connection._isMariaDB === 'boolean' && connection._isMariaDB) return true;
  return /mariadb/i.test(connection._handshakePacket?.serverVersion ?? '');
}

function query(connection: MysqlConnection, sql: string, values: unknown[] | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    connection.query(sql, values, (error, rows) => (error ? reject(error) : resolve(rows)));
  });
}

async function explainOn(
  connection: MysqlConnection,
  system: PlanSystem,
  statement: { sql: string; values?: unknown[] },
  settings: ExplainSettings,
): Promise<CapturedPlan> {
  const explain = `EXPLAIN FORMAT=JSON ${statement.sql}`;
  const sql =
    system === 'mariadb'
      ? `SET STATEMENT max_statement_time=${settings.timeoutMs / 1000} FOR ${explain}`
      : explain;
  const rows = await query(connection, sql, statement.values);
  const plan = Array.isArray(rows) ? (rows[0] as { EXPLAIN?: unknown } | undefined)?.EXPLAIN : undefined;
  if (typeof plan !== 'string') throw new Error('EXPLAIN returned no plan');
  return { text: plan, system };
}

function borrow(pool: MysqlPool): Promise<MysqlConnection> {
  return new Promise((resolve, reject) => {
    pool.getConnection((error, connection) => (error || !connection ? reject(error) : resolve(connection)));
  });
}

async function explainOnOneOff(
  connection: MysqlConnection,
  system: PlanSystem,
  statement: { sql: string; values?: unknown[] },
  settings: ExplainSettings,
): Promise<CapturedPlan> {
  // A copy, as mysql2's pool makes per connection: commands such as changeUser mutate it.
  const config = Object.create(
    Object.getPrototypeOf(connection.config),
    Object.getOwnPropertyDescriptors(connection.config),
  ) as object;
  const Connection = connection.constructor as new (options: { config: object }) => MysqlConnection;
  const oneOff = new Connection({ config });
  oneOff.on('error', noop);
  try {
    return await explainOn(oneOff, system, statement, settings);
  } finally {
    oneOff.end(noop);
  }
}

export const mysql2Driver: ExplainDriver<MysqlConnection> = {
  system: (connection) => (isMariaDb(connection) ? 'mariadb' : 'mysql'),
  text: (_connection, args) => statementOf(args).sql,
  async explain(connection, args, settings) {
    const { sql, values } = statementOf(args);
    if (sql === undefined || connection.config.multipleStatements) return undefined;
    const system = mysql2Driver.system(connection);
    const statement = { sql, values };
    const pool = connection._pool;
    if (pool === undefined) return explainOnOneOff(connection, system, statement, settings);
    // null: a pool connection its pool let go of.
    if (
      pool === null ||
      pool._closed ||
      pool._connectionQueue.length > 0 ||
      pool._freeConnections.length === 0
    ) {
      return undefined;
    }
    const borrowed = await borrow(pool);
    try {
      return await explainOn(borrowed, system, statement, settings);
    } finally {
      borrowed.release?.();
    }
  },
};
