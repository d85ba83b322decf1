/**
 * Operations: what a span *means* after normalisation. Every text field here is
 * already scrubbed — no SQL literal, key value, id or query string survives.
 */

interface OperationBase {
  service: string;
  serviceVersion?: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  startTimeMs: number;
  durationMs: number;
  error: boolean;
  /** Why an outbound call (statement, command, publish, HTTP call) failed, when `error` and the span says. */
  errorKind?: ErrorKind;
}

/**
 * What a failed call ran into, read from its status message and exception (which are never kept):
 * `timeout` (a client or server time limit: `statement_timeout`, `commandTimeout`, an aborted fetch),
 * `connection` (refused, reset, closed, retries exhausted: the server was not reachable), `rejected`
 * (the server answered with an error: an SQL error, `WRONGTYPE`, a nack).
 */
export type ErrorKind = 'timeout' | 'connection' | 'rejected';

/** An inbound request handled by the service (SERVER span, or a local root). */
export interface HttpServerOperation extends OperationBase {
  type: 'http_server';
  method: string;
  /** The framework's route (`/users/:id`), or the path with ids folded (`/users/{id}`). */
  route: string;
  statusCode?: number;
}

/** An outbound HTTP call. */
export interface HttpClientOperation extends OperationBase {
  type: 'http_client';
  method: string;
  host: string;
  /** Path with ids folded, without query string: `/users/{id}`. */
  urlTemplate: string;
  statusCode?: number;
}

export type StatementType = 'select' | 'insert' | 'update' | 'delete' | 'ddl' | 'transaction' | 'other';

/** A database statement. */
export interface DbQueryOperation extends OperationBase {
  type: 'db_query';
  /** `postgresql`, `mysql`, `mariadb`, `sqlite`, … (OTel `db.system.name`). */
  system: string;
  namespace?: string;
  /** The server, `address[:port]` (`server.address`, `server.port`), when the span names it. */
  host?: string;
  /** Normalised statement: literals replaced by `?`, IN lists collapsed, case and whitespace folded. */
  fingerprint: string;
  /** Short stable hash of system + fingerprint (16 hex characters). */
  fingerprintId: string;
  statementType: StatementType;
  tables: string[];
  rows?: number;
  /** What a captured plan (`chokepoint.db.plan`) says about the statement, when the agent captured one. */
  plan?: QueryPlanSummary;
}

/** The parts of a query plan that index advice needs: names only, never a literal. */
export interface QueryPlanSummary {
  /** The planner that wrote the plan: `sqlite`, `postgresql`, `mysql`, `mariadb`. */
  system: string;
  /** Tables read in full (SQLite `SCAN`, Postgres `Seq Scan`, MySQL access type `ALL`), as the plan names them. */
  fullScanTables: string[];
  /** Columns the plan filters those full scans on, in plan order. */
  filterColumns: PlanColumn[];
  /** True when rows are sorted outside an index (a temp B-tree, a `Sort` node, a filesort). */
  sortWithoutIndex: boolean;
  /** That sort's keys, when the plan names them (Postgres, MySQL, MariaDB). */
  sortColumns: PlanColumn[];
  /** Indexes the plan uses. */
  indexesUsed: string[];
}

/** A column named in a plan; `table` is the table or alias the plan gives, `''` when it gives none. */
export interface PlanColumn {
  table: string;
  column: string;
  comparison: 'equality' | 'range' | 'sort';
}

/** Acquiring a connection (pool checkout, connect): never counted as a query. */
export interface DbConnectOperation extends OperationBase {
  type: 'db_connect';
  system: string;
  host?: string;
  /**
   * True when the span opens a new connection (`pg.connect`, Redis `connect`), false when it checks
   * one out of a pool (`pg-pool.connect`, which nests a `pg.connect` only when the pool opens one);
   * absent when the span does not say.
   */
  opensConnection?: boolean;
}

/** A cache command (Redis). */
export interface CacheCommandOperation extends OperationBase {
  type: 'cache_command';
  system: string;
  host?: string;
  command: string;
  /** Key with variable parts folded: `user:{id}:profile`. */
  keyPattern?: string;
  /** For single-key reads: true on hit, false on miss. */
  hit?: boolean;
  hits?: number;
  misses?: number;
  ttlSeconds?: number;
}

/** Producing or consuming a queue message. */
export interface QueueMessageOperation extends OperationBase {
  type: 'queue_message';
  system: string;
  /** The broker, `address[:port]`, when the span names it. */
  host?: string;
  destination: string;
  role: 'publish' | 'consume';
  /** When the message was published (consume side), for lag. */
  publishTimeMs?: number;
}

/** Anything else: kept so traces stay whole (parents, own-code time). */
export interface InternalOperation extends OperationBase {
  type: 'internal';
  name: string;
}

export type Operation =
  | HttpServerOperation
  | HttpClientOperation
  | DbQueryOperation
  | DbConnectOperation
  | CacheCommandOperation
  | QueueMessageOperation
  | InternalOperation;

export type OperationType = Operation['type'];
