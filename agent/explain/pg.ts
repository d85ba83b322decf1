/**
 * Postgres plans through pg: `EXPLAIN (FORMAT JSON)` with the call's own parameters, in the
 * extended protocol (the server refuses several statements there), inside a `READ ONLY`
 * transaction with `SET LOCAL statement_timeout`, rolled back. `ANALYZE` is never asked for:
 * the statement is planned, not run.
 *
 * Which connection:
 * - a client checked out of a pg-pool: an idle client of the same pool, only when the
 *   pool has one and no request waits (no connection is opened, no request waits behind
 *   the plan); the app's own client is never used, it may be back in the app's hands;
 * - a lone `Client`: a one-off connection with the same parameters, read-only by default
 *   and with the time limit from its start-up options, closed after. The app's client is
 *   not used: its next query would queue behind the plan, inside a transaction the agent
 *   opened (and pg 8 warns about queued queries).
 */
import type { CapturedPlan, ExplainDriver, ExplainSettings } from './types.js';

/** The parts of a pg `Client` the driver reads (connectionParameters, password: as pg sets them). */
export interface PgClient {
  query(config: { text: string; values?: unknown[]; queryMode?: string }): Promise<{ rows: unknown[] }>;
  connect(): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
  getTransactionStatus?(): string | null;
  release?: (destroy?: boolean | Error) => void;
  password?: unknown;
  ssl?: unknown;
  connectionParameters?: {
    host?: string;
    port?: number;
    user?: string;
    database?: string;
    password?: unknown;
    options?: string;
    application_name?: string;
    client_encoding?: string;
  };
}

/** The parts of a pg-pool `Pool` the driver reads. */
export interface PgPool {
  readonly waitingCount: number;
  readonly idleCount: number;
  connect(): Promise<PgClient>;
}

/** Which pool each checked-out client came from: pg-pool sets `release`, but no link back. */
export const poolOfClient = new WeakMap<object, PgPool>();

const noop = () => {};

/** The statement and parameters of `client.query(text, values?)`, `query({ text, values })` or a submittable. */
function statementOf(args: readonly unknown[]): { text?: string; values?: unknown[] } {
  const [first, second] = args;
  if (typeof first === 'string') return { text: first, values: Array.isArray(second) ? second : undefined };
  if (typeof first !== 'object' || first === null) return {};
  const config = first as { text?: unknown; values?: unknown };
  return {
    text: typeof config.text === 'string' ? config.text : undefined,
    values: Array.isArray(config.values) ? config.values : Array.isArray(second) ? second : undefined,
  };
}

function planOf(rows: unknown[]): CapturedPlan {
  const plan = (rows[0] as { 'QUERY PLAN'?: unknown } | undefined)?.['QUERY PLAN'];
  if (plan === undefined) throw new Error('EXPLAIN returned no plan');
  // pg parses the json column; the collector reads the text.
  return { text: typeof plan === 'string' ? plan : JSON.stringify(plan), system: 'postgresql' };
}

async function explainOnPoolClient(
  client: PgClient,
  explain: { text: string; values?: unknown[] },
  settings: ExplainSettings,
): Promise<CapturedPlan> {
  await client.query({
    text: `BEGIN READ ONLY; SET LOCAL statement_timeout = ${Math.ceil(settings.timeoutMs)}`,
  });
  try {
    return planOf((await client.query({ ...explain, queryMode: 'extended' })).rows);
  } finally {
    await client.query({ text: 'ROLLBACK' });
  }
}

async function explainOnOneOff(
  client: PgClient,
  explain: { text: string; values?: unknown[] },
  settings: ExplainSettings,
): Promise<CapturedPlan> {
  const parameters = client.connectionParameters ?? {};
  const Client = client.constructor as new (config: object) => PgClient;
  const timeoutMs = Math.ceil(settings.timeoutMs);
  const oneOff = new Client({
    host: parameters.host,
    port: parameters.port,
    user: parameters.user,
    database: parameters.database,
    password: client.password ?? parameters.password,
    ssl: client.ssl,
    application_name: parameters.application_name,
    client_encoding: parameters.client_encoding,
    // The app's own start-up options (search_path …) first: the plan must resolve the same tables.
    options:
      `${parameters.options ?? ''} -c default_transaction_read_only=on -c statement_timeout=${timeoutMs}`.trim(),
    connectionTimeoutMillis: timeoutMs,
  });
  oneOff.on('error', noop);
  try {
    await oneOff.connect();
    return planOf((await oneOff.query({ ...explain, queryMode: 'extended' })).rows);
  } finally {
    await oneOff.end().catch(noop);
  }
}

/** Outside any transaction; pg before 8.13 does not say, and pool clients are then taken as idle. */
function isIdle(client: PgClient): boolean {
  const status = client.getTransactionStatus?.();
  return status === undefined || status === 'I';
}

export const pgDriver: ExplainDriver<PgClient> = {
  system: () => 'postgresql',
  text: (_client, args) => statementOf(args).text,
  async explain(client, args, settings) {
    const { text, values } = statementOf(args);
    if (text === undefined) return undefined;
    const explain = { text: `EXPLAIN (FORMAT JSON) ${text}`, values };
    if (typeof client.release !== 'function') return explainOnOneOff(client, explain, settings);
    const pool = poolOfClient.get(client);
    if (pool === undefined || pool.waitingCount > 0 || pool.idleCount === 0) return undefined;
    const borrowed = await pool.connect();
    borrowed.on('error', noop);
    let broken = false;
    try {
      // A client released inside a transaction is the app's mistake: not one to plan in.
      if (!isIdle(borrowed)) return undefined;
      return await explainOnPoolClient(borrowed, explain, settings);
    } catch (error) {
      broken = !isIdle(borrowed);
      throw error;
    } finally {
      borrowed.removeListener('error', noop);
      // A client left in a transaction (ROLLBACK failed) is closed rather than handed back.
      borrowed.release?.(broken);
    }
  },
};
