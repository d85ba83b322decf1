import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrations } from '../../../collector/store/migrations.js';
import { findingId, SqliteStore, StoreOpenError } from '../../../collector/store/sqlite-store.js';
import type { FindingUpdate } from '../../../collector/store/types.js';

const MINUTE = 60_000;
const open: SqliteStore[] = [];
function tempDb(): string {
  return join(mkdtempSync(join(tmpdir(), 'chokepoint-store-')), 'test.db');
}
function storeAt(path: string, lifecycle = {}): SqliteStore {
  const store = new SqliteStore(path, lifecycle);
  open.push(store);
  return store;
}
afterEach(() => {
  for (const store of open.splice(0)) store.close();
});

function update(fields: Partial<FindingUpdate> = {}): FindingUpdate {
  return {
    kind: 'slow_query',
    service: 'shop',
    key: 'abc123',
    title: 'Slow SELECT on orders: p95 250 ms',
    severity: 'medium',
    impact: 1_000,
    evidence: { fingerprint: 'select * from orders where customer_email = ?' },
    recommendation: { summary: 'Add an index', detail: 'because' },
    ...fields,
  };
}

describe('SqliteStore', () => {
  it('creates the schema in WAL mode and records the migration version', () => {
    const path = tempDb();
    storeAt(path).close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    db.close();
  });

  it('keeps a stable id and first-seen while refreshing what changed', () => {
    const store = storeAt(tempDb());
    store.upsertFindings([update()], 1_000);
    store.upsertFindings([update({ impact: 2_000, title: 'worse' })], 5_000);
    const [finding] = store.listFindings();
    expect(finding).toMatchObject({
      id: findingId('slow_query', 'shop', 'abc123'),
      impact: 2_000,
      title: 'worse',
      status: 'new',
      firstSeen: new Date(1_000).toISOString(),
      lastSeen: new Date(5_000).toISOString(),
    });
  });

  it('moves findings new → ongoing → resolved → regressed', () => {
    const store = storeAt(tempDb(), { newForMs: 10 * MINUTE, resolveAfterMs: 15 * MINUTE });
    store.upsertFindings([update()], 0);
    store.updateLifecycle(9 * MINUTE);
    expect(store.listFindings()[0]?.status).toBe('new');
    store.upsertFindings([update()], 11 * MINUTE);
    expect(store.listFindings()[0]?.status).toBe('ongoing');
    store.updateLifecycle(26 * MINUTE);
    expect(store.listFindings()[0]?.status).toBe('resolved');
    store.upsertFindings([update()], 27 * MINUTE);
    expect(store.listFindings()[0]?.status).toBe('regressed');
  });

  it('lists by impact and filters by service, kind and status', () => {
    const store = storeAt(tempDb());
    store.upsertFindings(
      [
        update({ key: 'a', impact: 10 }),
        update({ key: 'b', impact: 300, kind: 'n_plus_one' }),
        update({ key: 'c', impact: 50, service: 'billing' }),
      ],
      0,
    );
    expect(store.listFindings().map((f) => f.key)).toEqual(['b', 'c', 'a']);
    expect(store.listFindings({ service: 'shop' }).map((f) => f.key)).toEqual(['b', 'a']);
    expect(store.listFindings({ kind: 'n_plus_one' }).map((f) => f.key)).toEqual(['b']);
    expect(store.listFindings({ status: 'resolved' })).toEqual([]);
    expect(store.listServices()).toEqual(['billing', 'shop']);
  });

  it('lists revisions in the list order, moved by every write, whole findings only where not kept', () => {
    const path = tempDb();
    const store = storeAt(path, { newForMs: 10 * MINUTE, resolveAfterMs: 15 * MINUTE });
    store.upsertFindings([update({ key: 'a', impact: 10 }), update({ key: 'b', impact: 300 })], 0);
    const a = findingId('slow_query', 'shop', 'a');
    const b = findingId('slow_query', 'shop', 'b');

    const first = store.listFindingRevisions({}, (id) => id === b);
    expect(first.map((r) => r.id)).toEqual([b, a]);
    expect(first[0]?.finding).toBeUndefined();
    expect(first[1]?.finding).toEqual(store.getFinding(a));
    expect(store.listFindingRevisions({ service: 'billing' }, () => false)).toEqual([]);

    store.upsertFindings([update({ key: 'a', impact: 10 })], MINUTE);
    store.updateLifecycle(11 * MINUTE); // both new → ongoing
    store.updateLifecycle(30 * MINUTE); // both resolved
    storeAt(path).upsertFindings([update({ key: 'b', impact: 300 })], 31 * MINUTE); // b regressed, elsewhere
    expect(store.listFindingRevisions({}, () => true)).toEqual([
      { id: b, revision: 3 },
      { id: a, revision: 3 },
    ]);
  });

  it('upserts buckets, reads them by time range and prunes old ones', () => {
    const store = storeAt(tempDb());
    const record = (bucketStartMs: number, count: number) => ({
      family: 'service',
      service: 'shop',
      key: 'shop',
      bucketStartMs,
      data: { count },
    });
    store.writeBuckets([record(0, 1), record(MINUTE, 2)]);
    store.writeBuckets([record(MINUTE, 5)]);
    expect(store.readBuckets({ fromMs: 0 }).map((r) => r.data)).toEqual([{ count: 1 }, { count: 5 }]);
    expect(store.readBuckets({ fromMs: MINUTE, family: 'service', key: 'shop' })).toHaveLength(1);
    expect(store.pruneBuckets(MINUTE)).toBe(1);
    expect(store.readBuckets({ fromMs: 0 })).toHaveLength(1);
  });

  it('survives reopening: findings and buckets persist', () => {
    const path = tempDb();
    const first = storeAt(path);
    first.upsertFindings([update()], 0);
    first.writeBuckets([{ family: 'query', service: 'shop', key: 'k', bucketStartMs: 0, data: { n: 1 } }]);
    first.close();
    const second = storeAt(path);
    expect(second.listFindings()).toHaveLength(1);
    expect(second.readBuckets({ fromMs: 0 })).toHaveLength(1);
  });

  it('refuses a file that is not a SQLite database with a clear error and leaves it untouched', () => {
    const path = tempDb();
    const content = 'this is my shopping list, not a database\n'.repeat(200);
    writeFileSync(path, content);
    expect(() => new SqliteStore(path)).toThrow(StoreOpenError);
    expect(() => new SqliteStore(path)).toThrow(
      /cannot open database .*test\.db: file is not a database.*left as it is/,
    );
    expect(readFileSync(path, 'utf8')).toBe(content);
  });

  it('refuses a database from a newer Chokepoint', () => {
    const path = tempDb();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => new SqliteStore(path)).toThrow(/schema version 99 is newer/);
  });
});

describe('SqliteStore opened readonly', () => {
  it('reads what a writer holding the file open has written, including its later writes', () => {
    const path = tempDb();
    const writer = storeAt(path);
    writer.upsertFindings([update({ key: 'a' })], 1_000);
    const reader = storeAt(path, { readonly: true });
    expect(reader.listFindings().map((f) => f.key)).toEqual(['a']);
    writer.upsertFindings([update({ key: 'b', impact: 5_000 })], 2_000);
    expect(reader.listFindings().map((f) => f.key)).toEqual(['b', 'a']);
    expect(reader.listFindingRevisions({}, () => false).map((r) => r.finding?.key)).toEqual(['b', 'a']);
  });

  it('never writes: an attempt fails and the data stays as it was', () => {
    const path = tempDb();
    storeAt(path).upsertFindings([update()], 1_000);
    const reader = storeAt(path, { readonly: true });
    expect(() => reader.upsertFindings([update({ key: 'other' })], 2_000)).toThrow(/readonly/);
    expect(reader.listFindings().map((f) => f.key)).toEqual(['abc123']);
  });

  it('refuses a missing file without creating it', () => {
    const path = tempDb();
    expect(() => new SqliteStore(path, { readonly: true })).toThrow(StoreOpenError);
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a SQLite file without a Chokepoint schema, or with a newer one, and leaves it as it was', () => {
    const empty = tempDb();
    new Database(empty).close();
    expect(() => new SqliteStore(empty, { readonly: true })).toThrow(/not a Chokepoint database/);
    const untouched = new Database(empty, { readonly: true });
    expect(untouched.pragma('user_version', { simple: true })).toBe(0);
    untouched.close();

    const newer = tempDb();
    const db = new Database(newer);
    db.pragma('user_version = 99');
    db.close();
    expect(() => new SqliteStore(newer, { readonly: true })).toThrow(/schema version 99 is newer/);
  });
});
