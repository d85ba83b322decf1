/**
 * Versioned schema migrations, applied in order inside one transaction each and
 * tracked with `PRAGMA user_version`. Append only: never edit a shipped migration.
 */
export const migrations: readonly string[] = [
  `
  CREATE TABLE findings (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    service TEXT NOT NULL,
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    severity TEXT NOT NULL,
    impact REAL NOT NULL,
    status TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    evidence TEXT NOT NULL,
    recommendation TEXT NOT NULL
  );
  CREATE INDEX findings_by_impact ON findings (impact DESC);
  CREATE INDEX findings_by_service ON findings (service, kind);
  CREATE TABLE buckets (
    family TEXT NOT NULL,
    service TEXT NOT NULL,
    key TEXT NOT NULL,
    bucket_start INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (family, service, key, bucket_start)
  ) WITHOUT ROWID;
  CREATE INDEX buckets_by_time ON buckets (bucket_start);
  `,
  `
  ALTER TABLE findings ADD COLUMN p95 REAL;
  ALTER TABLE findings ADD COLUMN service_version TEXT;
  ALTER TABLE findings ADD COLUMN baseline_version TEXT;
  ALTER TABLE findings ADD COLUMN baseline_impact REAL;
  ALTER TABLE findings ADD COLUMN baseline_p95 REAL;
  CREATE TABLE hourly_buckets (
    family TEXT NOT NULL,
    service TEXT NOT NULL,
    key TEXT NOT NULL,
    bucket_start INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (family, service, key, bucket_start)
  ) WITHOUT ROWID;
  CREATE INDEX hourly_buckets_by_time ON hourly_buckets (bucket_start);
  `,
  `
  CREATE TABLE example_traces (
    trace_id TEXT PRIMARY KEY,
    captured_at INTEGER NOT NULL,
    operations TEXT NOT NULL
  );
  CREATE INDEX example_traces_by_time ON example_traces (captured_at);
  `,
  // Minute buckets ordered by time first: written at the end of the table, rolled up and pruned
  // from its front as contiguous ranges; a key's series is read through buckets_by_key.
  `
  CREATE TABLE minute_buckets (
    family TEXT NOT NULL,
    service TEXT NOT NULL,
    key TEXT NOT NULL,
    bucket_start INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (bucket_start, family, service, key)
  ) WITHOUT ROWID;
  INSERT INTO minute_buckets SELECT family, service, key, bucket_start, data FROM buckets;
  DROP TABLE buckets;
  ALTER TABLE minute_buckets RENAME TO buckets;
  CREATE INDEX buckets_by_key ON buckets (family, service, key, bucket_start);
  `,
  // Rowid tables: a WITHOUT ROWID row over ~1 KB (a rolled-up hour's sketch) spills into an overflow
  // page of its own, 4 KB on disk for 1.5 KB of data; a rowid table keeps rows up to ~4 KB in place.
  `
  CREATE TABLE minute_buckets (
    id INTEGER PRIMARY KEY,
    family TEXT NOT NULL,
    service TEXT NOT NULL,
    key TEXT NOT NULL,
    bucket_start INTEGER NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (bucket_start, family, service, key)
  );
  INSERT INTO minute_buckets (family, service, key, bucket_start, data)
    SELECT family, service, key, bucket_start, data FROM buckets ORDER BY bucket_start;
  DROP TABLE buckets;
  ALTER TABLE minute_buckets RENAME TO buckets;
  CREATE INDEX buckets_by_key ON buckets (family, service, key, bucket_start);
  CREATE TABLE hour_buckets (
    id INTEGER PRIMARY KEY,
    family TEXT NOT NULL,
    service TEXT NOT NULL,
    key TEXT NOT NULL,
    bucket_start INTEGER NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (family, service, key, bucket_start)
  );
  INSERT INTO hour_buckets (family, service, key, bucket_start, data)
    SELECT family, service, key, bucket_start, data FROM hourly_buckets ORDER BY bucket_start;
  DROP TABLE hourly_buckets;
  ALTER TABLE hour_buckets RENAME TO hourly_buckets;
  CREATE INDEX hourly_buckets_by_time ON hourly_buckets (bucket_start);
  `,
  // Every write to a finding bumps its revision, so a reader that kept what it made of each finding
  // (the API's serialized list) reads and redoes only the findings written since, whoever wrote them.
  // The list's ids and revisions in its order come from this index alone: after another connection
  // commits, reading them touches a few index pages instead of every row's JSON.
  `
  ALTER TABLE findings ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX findings_by_revision ON findings (impact DESC, id, revision, service, kind, status);
  `,
];
