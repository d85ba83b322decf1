/**
 * Plans of slow statements through better-sqlite3 (the agent's own instrumentation):
 * `EXPLAIN QUERY PLAN` with the statement's parameters on its database, after the span;
 * never for writes; literals scrubbed from plans when the agent scrubs SQL.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ExplainSpanProcessor, scrubPlan } from '../../../agent/explain/index.js';
import { ChokepointAttributes } from '../../../model/index.js';
import { traceInProcess } from '../support/in-process.js';
import { recordStatements, settled, withPlan } from './support.js';

const processor = new ExplainSpanProcessor({ thresholdMs: 0, intervalMs: 3_600_000 });
const tracing = traceInProcess(['better-sqlite3'], [processor]);
const Database: typeof BetterSqlite3 = tracing.require('better-sqlite3');
const SLOW = 'SELECT id, total FROM orders WHERE customer_email = ? ORDER BY created_at DESC LIMIT 10';

afterAll(() => tracing.shutdown());

describe('plans through better-sqlite3', () => {
  let db: BetterSqlite3.Database;
  let recorder: ReturnType<typeof recordStatements>;

  beforeAll(() => {
    db = new Database(':memory:');
    db.exec(
      'CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_email TEXT, created_at INTEGER, total REAL)',
    );
    const insert = db.prepare('INSERT INTO orders (customer_email, created_at, total) VALUES (?, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < 20_000; i++) insert.run(`customer${i % 500}@example.com`, i, i % 300);
    })();
    recorder = recordStatements(Database.prototype as never, ['prepare'], ([source]) =>
      typeof source === 'string' ? source : undefined,
    );
  });

  afterAll(() => {
    recorder?.restore();
    db?.close();
  });

  afterEach(async () => {
    await settled(processor, processor.counts.asked);
    tracing.reset();
    recorder.sent.length = 0;
    Object.assign(processor.counts, { asked: 0, captured: 0, skipped: 0, failed: 0, attached: 0 });
  });

  it('plans a slow SELECT after its span, with its parameters; the next span carries the plan', async () => {
    const statement = db.prepare(SLOW);
    tracing.reset();
    statement.all('customer7@example.com');
    // Synchronous driver, yet the plan waits for a later turn of the event loop.
    expect(recorder.explains()).toEqual([]);
    await settled(processor, 1);
    statement.all('customer8@example.com');
    statement.all('customer9@example.com');

    expect(recorder.explains().map((sent) => sent.text)).toEqual([`EXPLAIN QUERY PLAN ${SLOW}`]);
    const queries = tracing.records();
    expect(queries).toHaveLength(3);
    expect(withPlan(queries)).toEqual([queries[1]]);
    expect(queries[1]?.attributes[ChokepointAttributes.DB_PLAN_SYSTEM]).toBe('sqlite');
    expect(tracing.operations()[1]).toMatchObject({
      plan: { system: 'sqlite', fullScanTables: ['orders'], sortWithoutIndex: true },
    });
  });

  it('plans UPDATE and DELETE without running them; never INSERT, DDL or pragmas', async () => {
    const before = db.prepare('SELECT count(*) AS n, sum(total) AS sum FROM orders').get();
    db.prepare('INSERT INTO orders (customer_email, created_at, total) VALUES (?, ?, ?)').run('x@y.z', 1, 1);
    db.prepare('UPDATE orders SET total = total + 1 WHERE customer_email = ?').run('nobody@example.com');
    db.prepare('DELETE FROM orders WHERE customer_email = ?').run('x@y.z');
    db.prepare('CREATE TABLE IF NOT EXISTS audit (id INTEGER)').run();
    db.prepare('PRAGMA user_version').get();
    await new Promise((resolve) => setImmediate(resolve));
    await settled(processor, processor.counts.asked);

    expect(recorder.explains().map((sent) => sent.text)).toEqual([
      'EXPLAIN QUERY PLAN SELECT count(*) AS n, sum(total) AS sum FROM orders',
      'EXPLAIN QUERY PLAN UPDATE orders SET total = total + 1 WHERE customer_email = ?',
      'EXPLAIN QUERY PLAN DELETE FROM orders WHERE customer_email = ?',
    ]);
    expect(db.prepare('SELECT count(*) AS n, sum(total) AS sum FROM orders').get()).toEqual(before);
  });
});

describe('scrubPlan', () => {
  it('blanks the literals of plan conditions and keeps the names the collector reads', () => {
    const plan = JSON.stringify([
      {
        Plan: {
          'Node Type': 'Seq Scan',
          'Relation Name': 'orders',
          Filter: "((status = 'refunded'::text) AND (created_at >= 199000))",
          'Total Cost': 4.5,
        },
      },
    ]);
    expect(JSON.parse(scrubPlan(plan, 'postgresql'))).toEqual([
      {
        Plan: {
          'Node Type': 'Seq Scan',
          'Relation Name': 'orders',
          Filter: '((status = ?::text) AND (created_at >= ?))',
          'Total Cost': 4.5,
        },
      },
    ]);
    const mysql = JSON.stringify({
      query_block: { table: { attached_condition: '(`orders`.`note` = "a@b.c")' } },
    });
    expect(scrubPlan(mysql, 'mariadb')).toBe(
      JSON.stringify({ query_block: { table: { attached_condition: '(`orders`.`note` = ?)' } } }),
    );
  });
});
