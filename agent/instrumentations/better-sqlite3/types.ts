import type { Span } from '@opentelemetry/api';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';

/** The better-sqlite3 calls that become spans. */
export type BetterSqlite3Method = 'exec' | 'prepare' | 'run' | 'get' | 'all' | 'iterate';

export interface BetterSqlite3RequestInfo {
  method: BetterSqlite3Method;
  /** The SQL text, as given to better-sqlite3. */
  query: string;
}

export interface BetterSqlite3ResponseInfo extends BetterSqlite3RequestInfo {
  /**
   * What the call returned: the `RunResult` of `run`, the row of `get`, the rows of `all`,
   * the statement of `prepare`, the database of `exec`; for `iterate`, the number of rows
   * the iterator yielded.
   */
  result: unknown;
}

export interface BetterSqlite3InstrumentationConfig extends InstrumentationConfig {
  /** Called right after a span starts, before better-sqlite3 runs. */
  requestHook?: (span: Span, info: BetterSqlite3RequestInfo) => void;
  /** Called before a span ends without error. */
  responseHook?: (span: Span, info: BetterSqlite3ResponseInfo) => void;
}

/** The parts of a better-sqlite3 `Database` the instrumentation reads. */
export interface SqliteDatabase {
  readonly name: string;
  readonly memory: boolean;
}

/** The parts of a better-sqlite3 `Statement` (a native object) the instrumentation reads. */
export interface SqliteStatement {
  readonly source: string;
  readonly database: SqliteDatabase;
}
