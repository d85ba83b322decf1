/**
 * The SQLite store (better-sqlite3, WAL). Writes are batched into one transaction
 * per call; statements are prepared once. Opening a file that is not a Chokepoint
 * database fails with a clear error and leaves the file untouched. Opened `readonly`
 * (for `chokepoint report`), it reads a database a running collector may be writing,
 * and never migrates or writes it.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import type { Finding, FindingKind, FindingStatus, Recommendation, Severity } from '../../model/index.js';
import type { BucketRecord } from '../aggregate/window.js';
import { migrations } from './migrations.js';
import type { FindingFilter, FindingUpdate, LifecycleOptions, Store } from './types.js';

export interface StoreOptions extends LifecycleOptions {
  /** Read an existing, up-to-date database only: no migration, no write (default false). */
  readonly: boolean;
}

export const defaultLifecycle: LifecycleOptions = {
  newForMs: 10 * 60_000,
  resolveAfterMs: 15 * 60_000,
};

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
}

/** Stable finding id: the same bottleneck keeps its id across restarts and versions. */
export function findingId(kind: string, service: string, key: string): string {
  return createHash('sha256').update(`${kind}\u0000${service}\u0000${key}`).digest('hex').slice(0, 16);
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly lifecycle: LifecycleOptions;
  private readonly statements;

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
      insertFinding: this.db.prepare(
        `INSERT INTO findings (id, kind, service, key, title, severity, impact, status, first_seen, last_seen, evidence, recommendation)
         VALUES (@id, @kind, @service, @key, @title, @severity, @impact, 'new', @now, @now, @evidence, @recommendation)`,
      ),
      refreshFinding: this.db.prepare(
        `UPDATE findings SET title = @title, severity = @severity, impact = @impact, status = @status,
           last_seen = @now, evidence = @evidence, recommendation = @recommendation WHERE id = @id`,
      ),
      ageNew: this.db.prepare(
        `UPDATE findings SET status = 'ongoing' WHERE status = 'new' AND first_seen <= ?`,
      ),
      resolve: this.db.prepare(
        `UPDATE findings SET status = 'resolved' WHERE status IN ('new', 'ongoing', 'regressed') AND last_seen <= ?`,
      ),
      services: this.db.prepare<[], { service: string }>(
        'SELECT service FROM findings UNION SELECT DISTINCT service FROM buckets ORDER BY service',
      ),
      upsertBucket: this.db.prepare(
        `INSERT INTO buckets (family, service, key, bucket_start, data) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (family, service, key, bucket_start) DO UPDATE SET data = excluded.data`,
      ),
      pruneBuckets: this.db.prepare('DELETE FROM buckets WHERE bucket_start < ?'),
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
        };
        if (!existing) {
          this.statements.insertFinding.run(row);
          continue;
        }
        const status: FindingStatus =
          existing.status === 'resolved'
            ? 'regressed'
            : existing.status === 'new' && nowMs - existing.first_seen >= this.lifecycle.newForMs
              ? 'ongoing'
              : (existing.status as FindingStatus);
        this.statements.refreshFinding.run({ ...row, status });
      }
    });
    write(findings);
  }

  updateLifecycle(nowMs: number): void {
    this.statements.ageNew.run(nowMs - this.lifecycle.newForMs);
    this.statements.resolve.run(nowMs - this.lifecycle.resolveAfterMs);
  }

  listFindings(filter: FindingFilter = {}): Finding[] {
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
    return this.db
      .prepare<Record<string, string>, FindingRow>(`SELECT * FROM findings ${where} ORDER BY impact DESC, id`)
      .all(params)
      .map(toFinding);
  }

  getFinding(id: string): Finding | undefined {
    const row = this.statements.getFinding.get(id);
    return row ? toFinding(row) : undefined;
  }

  listServices(): string[] {
    return this.statements.services.all().map((row) => row.service);
  }

  writeBuckets(records: BucketRecord[]): void {
    if (records.length === 0) return;
    const write = this.db.transaction((rows: BucketRecord[]) => {
      for (const r of rows) {
        this.statements.upsertBucket.run(r.family, r.service, r.key, r.bucketStartMs, JSON.stringify(r.data));
      }
    });
    write(records);
  }

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
        clauses.push(`${field} = @${field}`);
        params[field] = value;
      }
    }
    return this.db
      .prepare<
        Record<string, string | number>,
        { family: string; service: string; key: string; bucket_start: number; data: string }
      >(`SELECT * FROM buckets WHERE ${clauses.join(' AND ')} ORDER BY bucket_start`)
      .all(params)
      .map((row) => ({
        family: row.family,
        service: row.service,
        key: row.key,
        bucketStartMs: row.bucket_start,
        data: JSON.parse(row.data) as unknown,
      }));
  }

  pruneBuckets(beforeMs: number): number {
    return this.statements.pruneBuckets.run(beforeMs).changes;
  }

  sizeBytes(): number {
    const pageCount = this.db.pragma('page_count', { simple: true }) as number;
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    return pageCount * pageSize;
  }

  close(): void {
    if (this.db.open) this.db.close();
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
  };
}
