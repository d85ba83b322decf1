/**
 * The SQLite store (better-sqlite3, WAL). Writes are batched into one transaction
 * per call; statements are prepared once. Opening a file that is not a Chokepoint
 * database fails with a clear error and leaves the file untouched. Opened `readonly`
 * (for `chokepoint report`), it reads a database a running collector may be writing,
 * and never migrates or writes it.
 */
import Database from 'better-sqlite3';
import type {
  Finding,
  FindingKind,
  FindingStatus,
  Operation,
  Recommendation,
  Severity,
} from '../../model/index.js';
import type { BucketRecord } from '../aggregate/window.js';
import { findingId } from './finding-id.js';
import { migrations } from './migrations.js';
import type {
  ExampleTrace,
  FindingFilter,
  FindingRevision,
  FindingUpdate,
  LifecycleOptions,
  MergeBuckets,
  Store,
} from './types.js';

export interface StoreOptions extends LifecycleOptions {
  /** Read an existing, up-to-date database only: no migration, no write (default false). */
  readonly: boolean;
}

export const defaultLifecycle: LifecycleOptions = {
  newForMs: 10 * 60_000,
  resolveAfterMs: 15 * 60_000,
};

export { findingId };

export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
}

interface FindingRow {
  id: string;
  kind: string;
  service: string;
  key: string;
  title: string;
  severity: string;
  impact: number;
  status: string;
  first_seen: number;
  last_seen: number;
  evidence: string;
  recommendation: string;
  p95: number | null;
  service_version: string | null;
  baseline_version: string | null;
  baseline_impact: number | null;
  baseline_p95: number | null;
  revision: number;
}

/** Width of the buckets fine ones are rolled up into. */
export const HOUR_MS = 60 * 60_000;
/** How long one roll-up call may work before it leaves the rest for the next. */
const DEFAULT_ROLLUP_BUDGET_MS = 50;
/** Fine buckets merged per roll-up transaction. */
const ROLLUP_CHUNK_ROWS = 256;
/** Example requests kept at most; the oldest go first. */
const MAX_EXAMPLE_TRACES = 2_000;
/** A finding regressed when, under a new service version, its impact reached this multiple of before… */
const REGRESSION_IMPACT_FACTOR = 2;
/** …or its p95 reached this multiple. */
const REGRESSION_P95_FACTOR = 1.5;

/** A bucket read's row, in its columns' order: family, service, key, start, data, width (null: a minute). */
type BucketColumns = [string, string, string, number, string, number | null];

interface BucketRow {
  family: string;
  service: string;
  key: string;
  bucket_start: number;
  data: string;
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly lifecycle: LifecycleOptions;
  private readonly statements;
  /** Writes to findings through this connection; `data_version` only counts other connections' commits. */
  private findingWrites = 0;
  /** The findings list's statements by columns and filter (sixteen at most), prepared once each. */
  private readonly findingQueries = new Map<string, Database.Statement<Record<string, string>>>();
  /**
   * Bucket reads by the fields they filter on (sixteen at most), prepared once each: a finding's
   * detail prepared its union anew on every request.
   */
  private readonly bucketQueries = new Map<
    string,
    Database.Statement<Record<string, string | number>, BucketColumns>
  >();

  constructor(path: string, options: Partial<StoreOptions> = {}) {
    const { readonly = false, ...lifecycle } = options;
    this.lifecycle = { ...defaultLifecycle, ...lifecycle };
    try {
      this.db = new Database(path, { readonly, fileMustExist: readonly });
      this.db.pragma('busy_timeout = 5000');
      if (readonly) this.checkSchemaVersion();
      else {
        this.db.pragma('journal_mode = WAL');
        this.db.pragma('synchronous = NORMAL');
        // After a checkpoint the WAL file shrinks back to this, instead of keeping its largest size.
        this.db.pragma('journal_size_limit = 67108864');
        this.migrate();
      }
    } catch (error) {
      throw new StoreOpenError(
        `cannot open database ${path}: ${(error as Error).message}. ` +
          'The file was left as it is; move it aside or pass another --db.',
      );
    }
    this.statements = {
      getFinding: this.db.prepare<[string], FindingRow>('SELECT * FROM findings WHERE id = ?'),
      dataVersion: this.db.prepare<[], number>('PRAGMA data_version').pluck(),
      insertFinding: this.db.prepare(
        `INSERT INTO findings (id, kind, service, key, title, severity, impact, status, first_seen, last_seen, evidence,
           recommendation, p95, service_version)
         VALUES (@id, @kind, @service, @key, @title, @severity, @impact, 'new', @now, @now, @evidence, @recommendation,
           @p95, @serviceVersion)`,
      ),
      refreshFinding: this.db.prepare(
        `UPDATE findings SET title = @title, severity = @severity, impact = @impact, status = @status,
           last_seen = @now, evidence = @evidence, recommendation = @recommendation, p95 = @p95,
           service_version = @serviceVersion, baseline_version = @baselineVersion,
           baseline_impact = @baselineImpact, baseline_p95 = @baselineP95, revision = revision + 1
         WHERE id = @id`,
      ),
      ageNew: this.db.prepare(
        `UPDATE findings SET status = 'ongoing', revision = revision + 1 WHERE status = 'new' AND first_seen <= ?`,
      ),
      resolve: this.db.prepare(
        `UPDATE findings SET status = 'resolved', revision = revision + 1
         WHERE status IN ('new', 'ongoing', 'regressed') AND last_seen <= ?`,
      ),
      services: this.db.prepare<[], { service: string }>(
        `SELECT service FROM findings UNION SELECT DISTINCT service FROM buckets
         UNION SELECT DISTINCT service FROM hourly_buckets ORDER BY service`,
      ),
      upsertBucket: this.db.prepare(
        `INSERT INTO buckets (family, service, key, bucket_start, data) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (bucket_start, family, service, key) DO UPDATE SET data = excluded.data`,
      ),
      storedBucket: this.db.prepare<[number, string, string, string], { data: string }>(
        'SELECT data FROM buckets WHERE bucket_start = ? AND family = ? AND service = ? AND key = ?',
      ),
      pruneBuckets: this.db.prepare('DELETE FROM buckets WHERE bucket_start < ?'),
      pruneHourlyBuckets: this.db.prepare('DELETE FROM hourly_buckets WHERE bucket_start < ?'),
      insertExampleTrace: this.db.prepare(
        'INSERT OR REPLACE INTO example_traces (trace_id, captured_at, operations) VALUES (?, ?, ?)',
      ),
      getExampleTrace: this.db.prepare<[string], { operations: string }>(
        'SELECT operations FROM example_traces WHERE trace_id = ?',
      ),
      // The key's index alone: the operations (kilobytes of JSON) are not read to say they are there.
      hasExampleTrace: this.db
        .prepare<[string], number>('SELECT 1 FROM example_traces WHERE trace_id = ?')
        .pluck(),
      pruneExampleTraces: this.db.prepare(
        `DELETE FROM example_traces WHERE captured_at < ? OR trace_id NOT IN
           (SELECT trace_id FROM example_traces ORDER BY captured_at DESC LIMIT ${MAX_EXAMPLE_TRACES})`,
      ),
      oldestBucket: this.db.prepare<[], { start: number | null }>(
        'SELECT MIN(bucket_start) AS start FROM buckets',
      ),
      bucketsAt: this.db.prepare<[number, number], BucketRow>(
        'SELECT * FROM buckets WHERE bucket_start = ? LIMIT ?',
      ),
      hourlyBucket: this.db.prepare<[string, string, string, number], { data: string }>(
        'SELECT data FROM hourly_buckets WHERE family = ? AND service = ? AND key = ? AND bucket_start = ?',
      ),
      upsertHourlyBucket: this.db.prepare(
        `INSERT INTO hourly_buckets (family, service, key, bucket_start, data) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (family, service, key, bucket_start) DO UPDATE SET data = excluded.data`,
      ),
      deleteBucket: this.db.prepare(
        'DELETE FROM buckets WHERE bucket_start = ? AND family = ? AND service = ? AND key = ?',
      ),
    };
  }

  upsertFindings(findings: FindingUpdate[], nowMs: number): void {
    const write = this.db.transaction((updates: FindingUpdate[]) => {
      for (const update of updates) {
        const id = findingId(update.kind, update.service, update.key);
        const existing = this.statements.getFinding.get(id);
        const row = {
          id,
          kind: update.kind,
          service: update.service,
          key: update.key,
          title: update.title,
          severity: update.severity,
          impact: update.impact,
          now: nowMs,
          evidence: JSON.stringify(update.evidence),
          recommendation: JSON.stringify(update.recommendation),
          p95: update.p95Ms ?? null,
          serviceVersion: update.serviceVersion ?? existing?.service_version ?? null,
        };
        if (!existing) {
          this.statements.insertFinding.run(row);
          continue;
        }
        // A new version: how the finding looked under the one before becomes what it is measured against.
        const newVersion =
          existing.service_version !== null &&
          update.serviceVersion !== undefined &&
          update.serviceVersion !== existing.service_version;
        const baseline = newVersion
          ? { version: existing.service_version, impact: existing.impact, p95: existing.p95 }
          : {
              version: existing.baseline_version,
              impact: existing.baseline_impact,
              p95: existing.baseline_p95,
            };
        const status: FindingStatus =
          existing.status === 'resolved' || (existing.status !== 'regressed' && isWorse(update, baseline))
            ? 'regressed'
            : existing.status === 'new' && nowMs - existing.first_seen >= this.lifecycle.newForMs
              ? 'ongoing'
              : (existing.status as FindingStatus);
        this.statements.refreshFinding.run({
          ...row,
          status,
          baselineVersion: baseline.version,
          baselineImpact: baseline.impact,
          baselineP95: baseline.p95,
        });
      }
    });
    write(findings);
    if (findings.length > 0) this.findingWrites += 1;
  }

  updateLifecycle(nowMs: number): void {
    const changes =
      this.statements.ageNew.run(nowMs - this.lifecycle.newForMs).changes +
      this.statements.resolve.run(nowMs - this.lifecycle.resolveAfterMs).changes;
    if (changes > 0) this.findingWrites += 1;
  }

  listFindings(filter: FindingFilter = {}): Finding[] {
    const { query, params } = this.findingQuery('*', filter);
    return (query.all(params) as FindingRow[]).map(toFinding);
  }

  listFindingRevisions(
    filter: FindingFilter,
    isKept: (id: string, revision: number) => boolean,
  ): FindingRevision[] {
    // Ids and revisions in two strings: a row apiece cost 0.6 ms for a thousand findings, 0.14 ms
    // so. SQLite feeds an ordered subquery to an aggregate in its order (it does not flatten one
    // into an aggregate); `group_concat(… ORDER BY …)` would sort it again.
    const { query, params } = this.findingQuery(
      'id, revision',
      filter,
      (list) =>
        `SELECT group_concat(id, ' ') AS ids, group_concat(revision, ' ') AS revisions FROM (${list})`,
    );
    // One read transaction: the order, the revisions and the findings read are of the same commit.
    return this.db.transaction(() => {
      const listed = query.get(params) as { ids: string | null; revisions: string | null };
      if (listed.ids === null || listed.revisions === null) return [];
      const revisions = listed.revisions.split(' ');
      return listed.ids.split(' ').map((id, index): FindingRevision => {
        const revision = Number(revisions[index]);
        if (isKept(id, revision)) return { id, revision };
        const row = this.statements.getFinding.get(id) as FindingRow;
        return { id, revision, finding: toFinding(row) };
      });
    })();
  }

  findingsRevision(): string {
    return `${this.statements.dataVersion.get()}.${this.findingWrites}`;
  }

  getFinding(id: string): Finding | undefined {
    const row = this.statements.getFinding.get(id);
    return row ? toFinding(row) : undefined;
  }

  listServices(): string[] {
    return this.statements.services.all().map((row) => row.service);
  }

  writeBuckets(records: BucketRecord[], merge?: MergeBuckets): void {
    if (records.length === 0) return;
    const write = this.db.transaction((rows: BucketRecord[]) => {
      for (const r of rows) {
        let data = r.data;
        if (r.merge) {
          if (!merge)
            throw new Error(`late data for ${r.family} bucket ${r.bucketStartMs} needs a merge function`);
          const stored = this.statements.storedBucket.get(r.bucketStartMs, r.family, r.service, r.key);
          if (stored) data = merge(r.family, [parseOrUndefined(stored.data), r.data]) ?? r.data;
        }
        this.statements.upsertBucket.run(r.family, r.service, r.key, r.bucketStartMs, JSON.stringify(data));
      }
    });
    write(records);
  }

  /** Fine and rolled-up buckets together, oldest first; rolled-up ones carry their `bucketMs`. */
  readBuckets(query: {
    family?: string;
    service?: string;
    key?: string;
    fromMs: number;
    toMs?: number;
  }): BucketRecord[] {
    const clauses = ['bucket_start >= @fromMs'];
    const params: Record<string, string | number> = { fromMs: query.fromMs };
    if (query.toMs !== undefined) {
      clauses.push('bucket_start < @toMs');
      params.toMs = query.toMs;
    }
    for (const field of ['family', 'service', 'key'] as const) {
      const value = query[field];
      if (value !== undefined) {
        // One key's series is read by key (buckets_by_key). A whole family over a range is read by
        // time: `+` keeps SQLite from choosing the key index for `family = ?` alone, which walks
        // every bucket the family kept and sorts the range; 1h of 7 days: 700 → 520 ms.
        clauses.push(`${field === 'family' && query.key === undefined ? '+' : ''}${field} = @${field}`);
        params[field] = value;
      }
    }
    const where = clauses.join(' AND ');
    const sql = `SELECT family, service, key, bucket_start, data, NULL AS width FROM buckets WHERE ${where}
      UNION ALL SELECT family, service, key, bucket_start, data, ${HOUR_MS} AS width FROM hourly_buckets
      WHERE ${where} ORDER BY bucket_start`;
    let statement = this.bucketQueries.get(sql);
    if (!statement) {
      statement = this.db.prepare<Record<string, string | number>, BucketColumns>(sql).raw();
      this.bucketQueries.set(sql, statement);
    }
    // Rows as arrays, each made a record without spreading in its width: a list merge reads tens
    // of thousands of them.
    return statement.all(params).map(([family, service, key, bucketStartMs, data, width]) => {
      const record: BucketRecord = { family, service, key, bucketStartMs, data: JSON.parse(data) };
      if (width !== null) record.bucketMs = width;
      return record;
    });
  }

  rollUpBuckets(beforeMs: number, merge: MergeBuckets, budgetMs = DEFAULT_ROLLUP_BUDGET_MS): number {
    // A few hundred rows per transaction, each merged into its hour and deleted: the work is
    // spread over short calls instead of parsing an hour of rows at once.
    const rollUpChunk = this.db.transaction((start: number) => {
      const hourStart = start - (start % HOUR_MS);
      const rows = this.statements.bucketsAt.all(start, ROLLUP_CHUNK_ROWS);
      for (const row of rows) {
        const previous = this.statements.hourlyBucket.get(row.family, row.service, row.key, hourStart);
        const data = merge(
          row.family,
          previous ? [JSON.parse(previous.data), JSON.parse(row.data)] : [JSON.parse(row.data)],
        );
        if (data !== undefined) {
          this.statements.upsertHourlyBucket.run(
            row.family,
            row.service,
            row.key,
            hourStart,
            JSON.stringify(data),
          );
        }
        this.statements.deleteBucket.run(row.bucket_start, row.family, row.service, row.key);
      }
      return rows.length;
    });
    const started = performance.now();
    let rolledUp = 0;
    for (;;) {
      const oldest = this.statements.oldestBucket.get()?.start;
      if (oldest === null || oldest === undefined || oldest >= beforeMs) break;
      rolledUp += rollUpChunk(oldest);
      if (performance.now() - started >= budgetMs) break;
    }
    return rolledUp;
  }

  pruneBuckets(beforeMs: number): number {
    return this.db.transaction(
      () =>
        this.statements.pruneBuckets.run(beforeMs).changes +
        this.statements.pruneHourlyBuckets.run(beforeMs).changes +
        this.statements.pruneExampleTraces.run(beforeMs).changes,
    )();
  }

  saveExampleTraces(traces: ExampleTrace[], nowMs: number): void {
    if (traces.length === 0) return;
    this.db.transaction(() => {
      for (const trace of traces) {
        this.statements.insertExampleTrace.run(trace.traceId, nowMs, JSON.stringify(trace.operations));
      }
    })();
  }

  getExampleTrace(traceId: string): ExampleTrace | undefined {
    const row = this.statements.getExampleTrace.get(traceId);
    return row ? { traceId, operations: JSON.parse(row.operations) as Operation[] } : undefined;
  }

  hasExampleTrace(traceId: string): boolean {
    return this.statements.hasExampleTrace.get(traceId) !== undefined;
  }

  sizeBytes(): number {
    const pageCount = this.db.pragma('page_count', { simple: true }) as number;
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    return pageCount * pageSize;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * The findings list's statement for `columns` under `filter`, in the list's order (or a query
   * over that list, by `over`), and its parameters.
   */
  private findingQuery(columns: string, filter: FindingFilter, over = (list: string) => list) {
    const clauses: string[] = [];
    const params: Record<string, string> = {};
    for (const field of ['service', 'kind', 'status'] as const) {
      const value = filter[field];
      if (value !== undefined) {
        clauses.push(`${field} = @${field}`);
        params[field] = value;
      }
    }
    const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
    const sql = over(`SELECT ${columns} FROM findings ${where} ORDER BY impact DESC, id`);
    let query = this.findingQueries.get(sql);
    if (!query) {
      query = this.db.prepare<Record<string, string>>(sql);
      this.findingQueries.set(sql, query);
    }
    return { query, params };
  }

  /** The database's schema version, refusing one newer than this code understands. */
  private schemaVersion(): number {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > migrations.length) {
      throw new Error(
        `schema version ${version} is newer than this collector understands (${migrations.length})`,
      );
    }
    return version;
  }

  /** A read-only store cannot migrate: the file must already be a current Chokepoint database. */
  private checkSchemaVersion(): void {
    const version = this.schemaVersion();
    if (version === 0) throw new Error('it is not a Chokepoint database (no schema)');
    if (version < migrations.length) {
      throw new Error(
        `its schema version ${version} is older than this version of Chokepoint (${migrations.length}); ` +
          'run the collector on it once to upgrade it',
      );
    }
  }

  private migrate(): void {
    const version = this.schemaVersion();
    for (let next = version; next < migrations.length; next++) {
      const sql = migrations[next] as string;
      this.db.transaction(() => {
        this.db.exec(sql);
        this.db.pragma(`user_version = ${next + 1}`);
      })();
    }
  }
}

/** Stored JSON, or `undefined` when damaged: a merge skips what it cannot read. */
function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toFinding(row: FindingRow): Finding {
  return {
    id: row.id,
    kind: row.kind as FindingKind,
    service: row.service,
    key: row.key,
    title: row.title,
    severity: row.severity as Severity,
    impact: row.impact,
    status: row.status as FindingStatus,
    firstSeen: new Date(row.first_seen).toISOString(),
    lastSeen: new Date(row.last_seen).toISOString(),
    evidence: JSON.parse(row.evidence) as Record<string, unknown>,
    recommendation: JSON.parse(row.recommendation) as Recommendation,
    ...(row.p95 === null ? {} : { p95Ms: row.p95 }),
    ...(row.service_version === null ? {} : { serviceVersion: row.service_version }),
    ...(row.baseline_version === null || row.baseline_impact === null
      ? {}
      : {
          baseline: {
            serviceVersion: row.baseline_version,
            impact: row.baseline_impact,
            ...(row.baseline_p95 === null ? {} : { p95Ms: row.baseline_p95 }),
          },
        }),
  };
}

/** Worse than under the previous version: impact doubled, or p95 up by half. */
function isWorse(
  update: FindingUpdate,
  baseline: { version: string | null; impact: number | null; p95: number | null },
): boolean {
  if (baseline.version === null || baseline.version === update.serviceVersion) return false;
  const impactWorse =
    baseline.impact !== null &&
    baseline.impact > 0 &&
    update.impact >= REGRESSION_IMPACT_FACTOR * baseline.impact;
  const p95Worse =
    baseline.p95 !== null &&
    baseline.p95 > 0 &&
    update.p95Ms !== undefined &&
    update.p95Ms >= REGRESSION_P95_FACTOR * baseline.p95;
  return impactWorse || p95Worse;
}
