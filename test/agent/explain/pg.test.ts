/**
 * Plans of slow statements through pg (Pool and Client) against the real PostgreSQL, with
 * the agent's instrumentations and processors in this process: the plan rides on the next
 * span of the statement and the collector reads index material from it; writes are never
 * planned; a pool with waiters is left alone; one plan per statement per interval.
 */
import type * as Pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ExplainInstrumentation, ExplainSpanProcessor } from '../../../agent/explain/index.js';
import { ChokepointAttributes } from '../../../model/index.js';
import { describeWithServices } from '../../support/services.js';
import { traceInProcess } from '../support/in-process.js';
import { recordStatements, settled, withPlan } from './support.js';

const processor = new ExplainSpanProcessor({ thresholdMs: 0, intervalMs: 3_600_000 });
const tracing = traceInProcess(['pg'], [processor]);
const explainInstrumentation = new ExplainInstrumentation({ drivers: { pg: true, mysql2: false } });
const pg: typeof Pg = tracing.require('pg');
const connection = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const schema = `chokepoint_explain_${process.pid}`;
/** The slow statement, named per test: each test's plans are its own (the interval outlives a test). */
const slow = (name: string) =>
  `SELECT id, total AS ${name} FROM ${schema}.orders WHERE status = $1 ORDER BY created_at`;

afterAll(async () => {
  explainInstrumentation.disable();
  await tracing.shutdown();
});

await describeWithServices(['postgres'], 'plans through pg', () => {
  let admin: Pg.Client;
  let recorder: ReturnType<typeof recordStatements>;

  beforeAll(async () => {
    admin = new pg.Client(connection);
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
    await admin.query(`
      CREATE TABLE ${schema}.orders (id serial PRIMARY KEY, status text, created_at int, total numeric);
      INSERT INTO ${schema}.orders (status, created_at, total)
        SELECT (ARRAY['paid', 'refunded'])[1 + g % 2], g, g % 300 FROM generate_series(1, 5000) g;
      ANALYZE ${schema}.orders;
    `);
    recorder = recordStatements(pg.Client.prototype as never, ['query'], ([first]) =>
      typeof first === 'string' ? first : (first as { text?: string } | undefined)?.text,
    );
  });

  afterAll(async () => {
    recorder?.restore();
    await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin?.end();
  });

  afterEach(async () => {
    // Statements a test ran last (its own checks included) are planned before the next starts.
    await settled(processor, processor.counts.asked);
    tracing.reset();
    recorder.sent.length = 0;
    processor.settings.thresholdMs = 0;
    processor.settings.intervalMs = 3_600_000;
    Object.assign(processor.counts, { asked: 0, captured: 0, skipped: 0, failed: 0, attached: 0 });
  });

  it('Pool: plans a slow SELECT on an idle pool client, read-only and rolled back; the next span carries it', async () => {
    const SLOW = slow('pool_run');
    const pool = new pg.Pool({ ...connection, max: 2 });
    try {
      await pool.query(SLOW, ['refunded']);
      await settled(processor, 1);
      await pool.query(SLOW, ['paid']);
      await pool.query(SLOW, ['refunded']);
    } finally {
      await pool.end();
    }

    // Once per statement per interval, with the app's parameters, inside a read-only transaction.
    expect(recorder.explains().map((statement) => statement.text)).toEqual([`EXPLAIN (FORMAT JSON) ${SLOW}`]);
    const texts = recorder.sent.map((statement) => statement.text);
    const explainAt = texts.indexOf(`EXPLAIN (FORMAT JSON) ${SLOW}`);
    expect(texts[explainAt - 1]).toMatch(/^BEGIN READ ONLY; SET LOCAL statement_timeout = \d+$/);
    expect(texts[explainAt + 1]).toBe('ROLLBACK');

    const queries = tracing.records().filter((span) => span.attributes['db.query.text'] === SLOW);
    expect(queries).toHaveLength(3);
    // The EXPLAIN and its transaction left no span.
    expect(
      tracing
        .records()
        .filter((span) => /EXPLAIN|BEGIN|ROLLBACK/.test(String(span.attributes['db.query.text']))),
    ).toEqual([]);
    expect(withPlan(queries)).toEqual([queries[1]]);
    expect(queries[1]?.attributes[ChokepointAttributes.DB_PLAN_SYSTEM]).toBe('postgresql');
    const operation = tracing.operations().find((op) => op.type === 'db_query' && op.plan !== undefined);
    expect(operation).toMatchObject({
      plan: {
        system: 'postgresql',
        fullScanTables: ['orders'],
        filterColumns: [{ table: 'orders', column: 'status', comparison: 'equality' }],
        sortWithoutIndex: true,
      },
    });
  });

  it('Client: plans on a one-off connection with the same parameters, never on the app’s client', async () => {
    const SLOW = slow('client_run');
    const client = new pg.Client(connection);
    await client.connect();
    try {
      await client.query({ text: SLOW, values: ['paid'] });
      await settled(processor, 1);
      await client.query(SLOW, ['paid']);
    } finally {
      await client.end();
    }
    const [explain, ...more] = recorder.explains();
    expect(more).toEqual([]);
    expect(explain?.text).toBe(`EXPLAIN (FORMAT JSON) ${SLOW}`);
    expect(explain?.sender).toBeInstanceOf(pg.Client);
    expect(explain?.sender).not.toBe(client);
    expect(withPlan(tracing.records())).toHaveLength(1);
  });

  it('never plans statements that write, several statements, or failed ones', async () => {
    const client = new pg.Client(connection);
    await client.connect();
    try {
      await client.query(`INSERT INTO ${schema}.orders (status, created_at, total) VALUES ($1, 1, 1)`, [
        'open',
      ]);
      await client.query(
        `WITH gone AS (DELETE FROM ${schema}.orders WHERE status = 'open' RETURNING id) SELECT count(*) FROM gone`,
      );
      await client.query(`SELECT 1; UPDATE ${schema}.orders SET total = 0 WHERE false`);
      await client.query(`CREATE INDEX IF NOT EXISTS orders_total ON ${schema}.orders (total)`);
      await expect(client.query(`SELECT missing FROM ${schema}.orders`)).rejects.toThrow(/missing/);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      await client.end();
    }
    expect(processor.counts.asked).toBe(0);
    expect(recorder.explains()).toEqual([]);
  });

  it('leaves a pool alone while a request waits for a client', async () => {
    const SLOW = slow('waiting_run');
    const pool = new pg.Pool({ ...connection, max: 1 });
    try {
      const client = await pool.connect();
      await client.query(SLOW, ['paid']);
      // The plan is asked for on the next turn of the event loop: by then a request waits.
      const waiting = pool.query('SHOW server_version');
      await settled(processor, 1);
      expect(pool.waitingCount).toBe(1);
      client.release();
      await waiting;
    } finally {
      await pool.end();
    }
    expect(processor.counts).toMatchObject({ asked: 1, skipped: 1, captured: 0 });
    expect(recorder.explains()).toEqual([]);
  });

  it('plans nothing faster than the threshold, and a statement again once its interval passed', async () => {
    const SLOW = slow('interval_run');
    const pool = new pg.Pool({ ...connection, max: 2 });
    try {
      processor.settings.thresholdMs = 60_000;
      await pool.query(SLOW, ['paid']);
      await new Promise((resolve) => setImmediate(resolve));
      expect(processor.counts.asked).toBe(0);

      processor.settings.thresholdMs = 0;
      processor.settings.intervalMs = 0;
      await pool.query(SLOW, ['paid']);
      await settled(processor, 1);
      await pool.query(SLOW, ['paid']);
      await settled(processor, 2);
    } finally {
      await pool.end();
    }
    expect(processor.counts).toMatchObject({ asked: 2, captured: 2 });
    expect(recorder.explains()).toHaveLength(2);
  });
});
