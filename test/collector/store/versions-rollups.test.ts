/**
 * What the store adds over time: findings that got worse with a new service version
 * regress, minute buckets roll up into hours that merge exactly, retention deletes both,
 * and a database from the first schema upgrades in place.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { QuantileSketch } from '../../../collector/aggregate/sketch.js';
import { mergeBucketData, type QueryStats, queryFamily } from '../../../collector/aggregate/stats.js';
import { migrations } from '../../../collector/store/migrations.js';
import { HOUR_MS, SqliteStore } from '../../../collector/store/sqlite-store.js';
import type { FindingUpdate } from '../../../collector/store/types.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-20T10:00:00Z');
const open: SqliteStore[] = [];
function store(path = join(mkdtempSync(join(tmpdir(), 'chokepoint-store-')), 'test.db')): SqliteStore {
  const opened = new SqliteStore(path);
  open.push(opened);
  return opened;
}
afterEach(() => {
  for (const opened of open.splice(0)) opened.close();
});

function update(fields: Partial<FindingUpdate> = {}): FindingUpdate {
  return {
    kind: 'slow_endpoint',
    service: 'shop',
    key: 'GET /orders',
    title: 'Slow GET /orders',
    severity: 'medium',
    impact: 1_000,
    p95Ms: 600,
    evidence: {},
    recommendation: { summary: 's', detail: 'd' },
    serviceVersion: '1.0.0',
    ...fields,
  };
}

describe('regression across service versions', () => {
  it('marks a finding regressed when its impact doubles under a new version, and keeps the baseline', () => {
    const s = store();
    s.upsertFindings([update()], T0);
    s.upsertFindings([update({ impact: 1_100 })], T0 + 2_000);
    s.upsertFindings([update({ impact: 1_500, serviceVersion: '1.1.0' })], T0 + 4_000);
    expect(s.listFindings()[0]).toMatchObject({ status: 'new', serviceVersion: '1.1.0' });
    s.upsertFindings([update({ impact: 2_200, serviceVersion: '1.1.0' })], T0 + 6_000);
    expect(s.listFindings()[0]).toMatchObject({
      status: 'regressed',
      serviceVersion: '1.1.0',
      baseline: { serviceVersion: '1.0.0', impact: 1_100, p95Ms: 600 },
    });
  });

  it('marks it regressed when its p95 grows by half, even at the same impact', () => {
    const s = store();
    s.upsertFindings([update()], T0);
    s.upsertFindings([update({ p95Ms: 900, serviceVersion: '2.0.0' })], T0 + 2_000);
    expect(s.listFindings()[0]?.status).toBe('regressed');
  });

  it('does not regress a finding that stays as it was, or gets worse without a new version', () => {
    const s = store();
    s.upsertFindings([update()], T0);
    s.upsertFindings([update({ impact: 1_900, p95Ms: 890, serviceVersion: '1.1.0' })], T0 + 2_000);
    s.upsertFindings([update({ key: 'GET /cart' })], T0);
    s.upsertFindings([update({ key: 'GET /cart', impact: 5_000, p95Ms: 2_000 })], T0 + 2_000);
    expect(s.listFindings().map((f) => f.status)).toEqual(['new', 'new']);
  });

  it('keeps a finding’s version when an update carries none', () => {
    const s = store();
    s.upsertFindings([update()], T0);
    const { serviceVersion: _, ...withoutVersion } = update({ impact: 900 });
    s.upsertFindings([withoutVersion], T0 + 2_000);
    expect(s.listFindings()[0]?.serviceVersion).toBe('1.0.0');
  });
});

function queryBucket(durations: number[]): QueryStats {
  const sketch = new QuantileSketch();
  for (const ms of durations) sketch.add(ms);
  return {
    count: durations.length,
    errors: 0,
    totalMs: durations.reduce((a, b) => a + b, 0),
    maxMs: Math.max(...durations),
    sketch,
    service: 'shop',
    system: 'postgresql',
    fingerprintId: 'fp',
    fingerprint: 'select * from orders where id = ?',
    statementType: 'select',
    tables: ['orders'],
    entries: { 'GET /orders': durations.length },
    exampleTraceId: `t${durations[0]}`,
    exampleDurationMs: Math.max(...durations),
  };
}

describe('roll-ups and retention', () => {
  it('merges every minute of an hour into one hourly bucket, exactly, and deletes the minutes', () => {
    const s = store();
    const minutes = Array.from({ length: 60 }, (_, i) => [i + 1, 2 * (i + 1), 100 + i]);
    s.writeBuckets(
      minutes.map((durations, i) => ({
        family: 'query',
        service: 'shop',
        key: 'fp',
        bucketStartMs: T0 + i * MINUTE,
        data: queryFamily.serialize(queryBucket(durations)),
      })),
    );
    // A minute that does not start before the cut-off stays a minute.
    s.writeBuckets([
      {
        family: 'query',
        service: 'shop',
        key: 'fp',
        bucketStartMs: T0 + HOUR_MS,
        data: queryFamily.serialize(queryBucket([7])),
      },
    ]);
    expect(s.rollUpBuckets(T0 + HOUR_MS, mergeBucketData, Number.POSITIVE_INFINITY)).toBe(60);

    const records = s.readBuckets({ family: 'query', fromMs: 0 });
    expect(records.map((r) => [r.bucketStartMs - T0, r.bucketMs])).toEqual([
      [0, HOUR_MS],
      [HOUR_MS, undefined],
    ]);
    const hour = queryFamily.deserialize(records[0]?.data);
    const whole = queryBucket(minutes.flat());
    expect(hour).toMatchObject({
      count: 180,
      totalMs: whole.totalMs,
      maxMs: 159,
      entries: { 'GET /orders': 180 },
    });
    for (const q of [0.5, 0.95, 0.99]) expect(hour.sketch.quantile(q)).toBe(whole.sketch.quantile(q));
  });

  it('merges late minutes into an hour already rolled up', () => {
    const s = store();
    const write = (minute: number, durations: number[]) =>
      s.writeBuckets([
        {
          family: 'query',
          service: 'shop',
          key: 'fp',
          bucketStartMs: T0 + minute * MINUTE,
          data: queryFamily.serialize(queryBucket(durations)),
        },
      ]);
    write(5, [10, 20]);
    s.rollUpBuckets(T0 + HOUR_MS, mergeBucketData);
    write(59, [30]);
    s.rollUpBuckets(T0 + HOUR_MS, mergeBucketData);
    const [hour, ...rest] = s.readBuckets({ family: 'query', fromMs: 0 });
    expect(rest).toEqual([]);
    expect(queryFamily.deserialize(hour?.data)).toMatchObject({ count: 3, totalMs: 60 });
  });

  it('stops after its time budget, always making progress, and goes on from there on the next call', () => {
    const s = store();
    s.writeBuckets(
      [0, 1, 2].map((minute) => ({
        family: 'query',
        service: 'shop',
        key: 'fp',
        bucketStartMs: T0 + minute * MINUTE,
        data: queryFamily.serialize(queryBucket([minute + 1])),
      })),
    );
    expect(s.rollUpBuckets(T0 + HOUR_MS, mergeBucketData, 0)).toBe(1);
    expect(s.rollUpBuckets(T0 + HOUR_MS, mergeBucketData, 0)).toBe(1);
    expect(s.readBuckets({ fromMs: 0 }).map((r) => r.bucketMs ?? MINUTE)).toEqual([HOUR_MS, MINUTE]);
    expect(s.rollUpBuckets(T0 + HOUR_MS, mergeBucketData, 0)).toBe(1);
    expect(queryFamily.deserialize(s.readBuckets({ fromMs: 0 })[0]?.data)).toMatchObject({
      count: 3,
      totalMs: 6,
    });
  });

  it('deletes fine and hourly buckets past retention', () => {
    const s = store();
    const data = queryFamily.serialize(queryBucket([1]));
    s.writeBuckets([
      { family: 'query', service: 'shop', key: 'fp', bucketStartMs: T0, data },
      { family: 'query', service: 'shop', key: 'fp', bucketStartMs: T0 + 3 * HOUR_MS, data },
    ]);
    s.rollUpBuckets(T0 + 2 * HOUR_MS, mergeBucketData);
    expect(s.pruneBuckets(T0 + 4 * HOUR_MS)).toBe(2);
    expect(s.readBuckets({ fromMs: 0 })).toEqual([]);
  });

  it('drops buckets of a family it does not know at roll-up, and still rolls up the others', () => {
    const s = store();
    s.writeBuckets([
      { family: 'future', service: 'shop', key: 'k', bucketStartMs: T0, data: { anything: 1 } },
      {
        family: 'query',
        service: 'shop',
        key: 'fp',
        bucketStartMs: T0,
        data: queryFamily.serialize(queryBucket([4])),
      },
    ]);
    expect(s.rollUpBuckets(T0 + HOUR_MS, mergeBucketData)).toBe(2);
    expect(s.readBuckets({ fromMs: 0 }).map((r) => r.family)).toEqual(['query']);
  });
});

describe('schema upgrade', () => {
  it('upgrades a first-schema database in place, keeping its findings', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'chokepoint-store-')), 'v1.db');
    const old = new Database(path);
    old.exec(migrations[0] as string);
    old.pragma('user_version = 1');
    old
      .prepare(
        `INSERT INTO findings VALUES ('f1', 'slow_query', 'shop', 'k', 't', 'low', 5, 'ongoing', 1, 2, '{}', '{"summary":"s","detail":"d"}')`,
      )
      .run();
    old.close();
    const s = store(path);
    expect(s.listFindings()).toMatchObject([{ id: 'f1', status: 'ongoing', impact: 5 }]);
    expect(s.listFindings()[0]).not.toHaveProperty('baseline');
  });
});
