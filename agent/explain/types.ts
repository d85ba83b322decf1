/** Which planner wrote a plan: the values of `chokepoint.db.plan_system`. */
export type PlanSystem = 'sqlite' | 'postgresql' | 'mysql' | 'mariadb';

export interface CapturedPlan {
  /** The plan as JSON text, in the shape the collector's `readPlan` reads. */
  text: string;
  system: PlanSystem;
}

export interface ExplainSettings {
  /** Statements that took at least this long are planned. */
  thresholdMs: number;
  /** A fingerprint is planned again at most this often. */
  intervalMs: number;
  /** At most this many plans are asked for per minute, whatever the fingerprints. */
  perMinute: number;
  /** The longest a plan may take on the server (Postgres and MariaDB enforce it there). */
  timeoutMs: number;
  /** Fingerprints remembered; the least recently used goes first. */
  maxFingerprints: number;
  /** Plans longer than this (in characters) are dropped rather than sent. */
  maxPlanLength: number;
  /** Replace the literals plans print with `?` before they leave the process (`CHOKEPOINT_SCRUB=sql|all`). */
  scrub: boolean;
}

/**
 * How to plan a statement on the connection a driver call used, later and off the app's
 * path. `explain` resolves `undefined` when it chose not to (the pool is busy, the
 * connection is closing), and rejects when the database refused.
 */
export interface ExplainDriver<Connection = unknown> {
  /** The planner behind the connection, as far as the driver knows before asking. */
  system(connection: Connection): PlanSystem;
  /** The statement the call ran, as sent (span attributes may be truncated or scrubbed). */
  text(connection: Connection, args: readonly unknown[]): string | undefined;
  explain(
    connection: Connection,
    args: readonly unknown[],
    settings: ExplainSettings,
  ): Promise<CapturedPlan | undefined>;
}

/** A driver call whose span is about to start: what it takes to plan it later. */
export interface ExplainableCall {
  driver: ExplainDriver;
  connection: unknown;
  /** The arguments the app passed: the statement and its parameters. */
  args: readonly unknown[];
}
