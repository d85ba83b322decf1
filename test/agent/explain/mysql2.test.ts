/**
 * Plans of slow statements through mysql2 (callback and promise API, pool and lone
 * connection) against the real MariaDB: `SET STATEMENT max_statement_time=… FOR EXPLAIN
 * FORMAT=JSON`, never on the app's connection, never for writes, not while the pool has
 * waiters, once per statement per interval.
 */
import type * as Mysql2 from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ExplainInstrumentation, ExplainSpanProcessor } from '../../../agent/explain/index.js';
import { ChokepointAttributes } from '../../../model/index.js';
import { describeWithServices } from '../../support/services.js';
import { traceInProcess } from '../support/in-process.js';
import { recordStatements, settled, withPlan } from './support.js';

const processor = new ExplainSpanProcessor({ thresholdMs: 0, intervalMs: 3_600_000 });
const tracing = traceInProcess(['mysql2'], [processor]);
const explainInstrumentation = new ExplainInstrumentation({ drivers: { pg: false, mysql2: true } });
const mysql: typeof Mysql2 = tracing.require('mysql2/promise');
const connection = { host: '127.0.0.1', port: 3306, user: 'root', database: 'test' };
const table = `chokepoint_explain_${process.pid}`;
/** The slow statement, named per test: each test's plans are its own (the interval outlives a test). */
const slow = (name: string) =>
  `SELECT id, total AS ${name} FROM ${table} WHERE status = ? ORDER BY created_at`;

afterAll(async () => {
  explainInstrumentation.disable();
  await tracing.shutdown();
});

await describeWithServices(['mariadb'], 'plans through mysql2', () => {
  let admin: Mysql2.Connection;
  let recorder: ReturnType<typeof recordStatements>;

  beforeAll(async () => {
    admin = await mysql.createConnection(connection);
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.query(
      `CREATE TABLE ${table} (id int AUTO_INCREMENT PRIMARY KEY, status varchar(20), created_at int, total int)`,
    );
    await admin.query(
      `INSERT INTO ${table} (status, created_at, total) SELECT IF(seq % 2, 'paid', 'refunded'), seq, seq % 300 FROM seq_1_to_2000`,
    );
    const base = Object.getPrototypeOf(tracing.require('mysql2').Connection.prototype);
    recorder = recordStatements(base, ['query', 'execute'], ([first]) =>
      typeof first === 'string' ? first : (first as { sql?: string } | undefined)?.sql,
    );
    tracing.reset();
  });

  afterAll(async () => {
    recorder?.restore();
    await admin?.query(`DROP TABLE IF EXISTS ${table}`);
    await admin?.end();
  });

  afterEach(async () => {
    // Statements a test ran last (its own checks included) are planned before the next starts.
    await settled(processor, processor.counts.asked);
    tracing.reset();
    recorder.sent.length = 0;
    Object.assign(processor.counts, { asked: 0, captured: 0, skipped: 0, failed: 0, attached: 0 });
  });

  it('Pool (promise API): plans on an idle pool connection with the app’s parameters; the next span carries it', async () => {
    const SLOW = slow('pool_run');
    const pool = mysql.createPool({ ...connection, connectionLimit: 2 });
    try {
      await pool.query(SLOW, ['refunded']);
      await settled(processor, 1);
      await pool.execute(SLOW, ['paid']);
      await pool.query(SLOW, ['paid']);
    } finally {
      await pool.end();
    }
    // pool.query formats the parameters into the statement before the connection sees it.
    expect(recorder.explains().map((statement) => statement.text)).toEqual([
      `SET STATEMENT max_statement_time=1 FOR EXPLAIN FORMAT=JSON ${SLOW.replace('?', "'refunded'")}`,
    ]);
    const queries = tracing.records().filter((span) => span.attributes['db.query.text'] === SLOW);
    expect(queries).toHaveLength(3);
    // The EXPLAIN left no span: beside the statements, the app's three checkouts and the connection its pool opened.
    const others = tracing.records().filter((span) => span.attributes['db.query.text'] !== SLOW);
    expect(others.map((span) => span.name).sort()).toEqual([
      'mysql2-pool.getConnection',
      'mysql2-pool.getConnection',
      'mysql2-pool.getConnection',
      'mysql2.connect',
    ]);
    expect(withPlan(queries)).toEqual([queries[1]]);
    expect(queries[1]?.attributes[ChokepointAttributes.DB_PLAN_SYSTEM]).toBe('mariadb');
    const operation = tracing.operations().find((op) => op.type === 'db_query' && op.plan !== undefined);
    expect(operation).toMatchObject({
      plan: {
        system: 'mariadb',
        fullScanTables: [table],
        filterColumns: [{ table, column: 'status', comparison: 'equality' }],
        sortWithoutIndex: true,
      },
    });
  });

  it('lone connection: plans on a one-off connection with the same configuration', async () => {
    const SLOW = slow('lone_run');
    const app = await mysql.createConnection(connection);
    try {
      await app.query(SLOW, ['paid']);
      await settled(processor, 1);
      await app.query(SLOW, ['paid']);
    } finally {
      await app.end();
    }
    const [explain, ...more] = recorder.explains();
    expect(more).toEqual([]);
    // The promise API wraps the connection the driver method runs on.
    const appConnection = (app as unknown as { connection: unknown }).connection;
    expect(recorder.sent.filter((statement) => statement.sender === appConnection)).toHaveLength(2);
    expect(explain?.sender).not.toBe(appConnection);
    expect(withPlan(tracing.records())).toHaveLength(1);
  });

  it('never plans writes, stored function calls, or statements with the app’s variables', async () => {
    const app = await mysql.createConnection(connection);
    try {
      await app.query(`INSERT INTO ${table} (status, created_at, total) VALUES (?, 1, 1)`, ['open']);
      await app.query(`SELECT * FROM ${table} WHERE total = (SELECT 1 FROM dual WHERE sleep(0) = 0)`);
      await app.query(`SELECT id INTO @last FROM ${table} LIMIT 1`);
      await app.query(`DELETE FROM ${table} WHERE status = 'open'`);
      await new Promise((resolve) => setImmediate(resolve));
      await settled(processor, processor.counts.asked);
    } finally {
      await app.end();
    }
    // The DELETE is planned (EXPLAIN does not run it); the INSERT, the call and the INTO are not.
    expect(recorder.explains().map((statement) => statement.text)).toEqual([
      `SET STATEMENT max_statement_time=1 FOR EXPLAIN FORMAT=JSON DELETE FROM ${table} WHERE status = 'open'`,
    ]);
  });

  it('leaves a pool alone while a request waits for a connection', async () => {
    const SLOW = slow('waiting_run');
    const pool = mysql.createPool({ ...connection, connectionLimit: 1 });
    try {
      const held = await pool.getConnection();
      await held.query(SLOW, ['paid']);
      const waiting = pool.query('SHOW STATUS LIKE "Uptime"');
      await settled(processor, 1);
      held.release();
      await waiting;
    } finally {
      await pool.end();
    }
    expect(processor.counts).toMatchObject({ asked: 1, skipped: 1, captured: 0 });
    expect(recorder.explains()).toEqual([]);
  });
});
