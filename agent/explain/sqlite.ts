/**
 * SQLite plans through better-sqlite3: `EXPLAIN QUERY PLAN` of the statement's own text
 * with its own parameters, on its own database, as rows `[{id, parent, notused, detail}]`.
 * SQLite only compiles the statement for it, nothing runs: no time limit is needed, and
 * the call is synchronous, made on a later turn of the event loop than the app's.
 */
import type { CapturedPlan, ExplainDriver } from './types.js';

/** The parts of a better-sqlite3 `Statement` the driver uses. */
export interface SqliteStatementLike {
  readonly source: string;
  readonly database: {
    readonly open: boolean;
    prepare(source: string): { all(...parameters: unknown[]): unknown[] };
  };
}

export const sqliteDriver: ExplainDriver<SqliteStatementLike> = {
  system: () => 'sqlite',
  text: (statement) => statement.source,
  async explain(statement, args): Promise<CapturedPlan | undefined> {
    const { database } = statement;
    if (!database.open) return undefined;
    const rows = database.prepare(`EXPLAIN QUERY PLAN ${statement.source}`).all(...args);
    return { text: JSON.stringify(rows), system: 'sqlite' };
  },
};
