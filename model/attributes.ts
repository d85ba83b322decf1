/**
 * Attribute names the agent adds on top of OpenTelemetry's semantic conventions,
 * and which the collector reads. Standard `db.*`, `http.*`, `messaging.*` names are
 * used as the conventions define them; these cover what the conventions lack.
 */
export const ChokepointAttributes = {
  /** Redis single-key read outcome: `true` on hit, `false` on miss. */
  CACHE_HIT: 'chokepoint.cache.hit',
  /** Multi-key reads (MGET, HMGET): how many keys hit and missed. */
  CACHE_HITS: 'chokepoint.cache.hits',
  CACHE_MISSES: 'chokepoint.cache.misses',
  /** TTL set by SET EX/PX, SETEX or EXPIRE, in seconds. */
  CACHE_TTL_SECONDS: 'chokepoint.cache.ttl_seconds',
  /** The cache key with its variable parts folded (`user:{id}`), when the agent scrubs keys. */
  CACHE_KEY_PATTERN: 'chokepoint.cache.key_pattern',
  /** Unix epoch milliseconds at which a message was published, carried to its consumer. */
  MESSAGE_PUBLISH_TIME_MS: 'chokepoint.messaging.publish_time_ms',
  /** Marks a span as connection acquisition (pool checkout, connect), not a query. */
  DB_CONNECT: 'chokepoint.db.connect',
  /** Marks a span as statement preparation (better-sqlite3 `prepare`): time spent, but not a query run. */
  DB_PREPARE: 'chokepoint.db.prepare',
  /**
   * A captured query plan, as JSON text: SQLite `EXPLAIN QUERY PLAN` rows (`[{id, parent, detail}]`),
   * Postgres `EXPLAIN (FORMAT JSON)` output, or MySQL/MariaDB `EXPLAIN FORMAT=JSON` output. The
   * collector reads only table, column and index names from it: the literals it may hold are never stored.
   */
  DB_PLAN: 'chokepoint.db.plan',
  /** Which planner wrote `chokepoint.db.plan`: `sqlite`, `postgresql`, `mysql` or `mariadb`. */
  DB_PLAN_SYSTEM: 'chokepoint.db.plan_system',
} as const;
