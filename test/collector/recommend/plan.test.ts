/**
 * Plans as the real planners write them: SQLite (better-sqlite3), Postgres and MariaDB
 * explain the same statements, and readPlan must find the same facts in each.
 */
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conditionColumns, readPlan } from '../../../collector/recommend/plan.js';
import { describeWithServices } from '../../support/services.js';

const EMAIL = 'ann.secret@example.com';
const BY_EMAIL_SORTED = `SELECT * FROM orders WHERE customer_email = '${EMAIL}' AND created_at > 5 ORDER BY created_at DESC`;
const JOINED =
  "SELECT * FROM orders o JOIN items i ON i.order_id = o.id WHERE o.status = 'paid' ORDER BY o.total";
const BY_ID = 'SELECT * FROM orders WHERE id = 5';

describe('readPlan: SQLite EXPLAIN QUERY PLAN', () => {
  const db = new Database(':memory:');
  db.exec(`
    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_email TEXT, status TEXT, created_at INTEGER, total REAL);
    CREATE TABLE items (id INTEGER PRIMARY KEY, order_id INTEGER, sku TEXT);
    CREATE TABLE skus (code TEXT, name TEXT);
    CREATE INDEX idx_skus_code ON skus (code);
  `);
  const plan = (sql: string) =>
    readPlan(JSON.stringify(db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all()), 'sqlite');

  it('sees a full scan and a sort in a temporary B-tree', () => {
    expect(plan(BY_EMAIL_SORTED)).toEqual({
      system: 'sqlite',
      fullScanTables: ['orders'],
      filterColumns: [],
      sortWithoutIndex: true,
      sortColumns: [],
      indexesUsed: [],
    });
  });

  it('names tables by the alias SQLite prints, and primary-key searches as index use', () => {
    expect(plan(JOINED)).toMatchObject({
      fullScanTables: ['i'],
      sortWithoutIndex: true,
      indexesUsed: ['integer primary key'],
    });
    expect(plan(BY_ID)).toMatchObject({ fullScanTables: [], sortWithoutIndex: false });
    expect(plan("SELECT name FROM skus WHERE code = 'x'")).toMatchObject({
      fullScanTables: [],
      indexesUsed: ['idx_skus_code'],
    });
  });

  it('reads an automatic index as the full scan it is built from, with its columns', () => {
    const summary = plan('SELECT * FROM orders o JOIN items i ON i.sku = o.status');
    expect(summary?.fullScanTables).toEqual(['o', 'i']);
    expect(summary?.filterColumns).toEqual([{ table: 'i', column: 'sku', comparison: 'equality' }]);
  });
});

await describeWithServices(['postgres'], 'readPlan: Postgres EXPLAIN (FORMAT JSON)', () => {
  const client = new pg.Client({ host: '127.0.0.1', user: 'postgres', database: 'test' });
  const plan = async (sql: string) => {
    const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${sql}`);
    return readPlan(JSON.stringify(rows[0]['QUERY PLAN']), 'postgresql');
  };

  beforeAll(async () => {
    await client.connect();
    await client.query(`
      CREATE TEMP TABLE orders (id serial PRIMARY KEY, customer_email text, status varchar(20), created_at int, total numeric);
      CREATE TEMP TABLE items (id serial PRIMARY KEY, order_id int, sku text);
      INSERT INTO orders (customer_email, status, created_at, total)
        SELECT 'c' || g || '@example.com', 's' || (g % 10), g, g FROM generate_series(1, 20000) g;
      INSERT INTO items (order_id, sku) SELECT g, 'k' FROM generate_series(1, 20000) g;
      ANALYZE orders; ANALYZE items;
    `);
  });

  afterAll(async () => {
    await client.end();
  });

  it('reads the Seq Scan filter as columns, equality and range, and the Sort key', async () => {
    const summary = await plan(BY_EMAIL_SORTED);
    expect(summary).toMatchObject({
      fullScanTables: ['orders'],
      sortWithoutIndex: true,
      sortColumns: [{ table: '', column: 'created_at', comparison: 'sort' }],
    });
    expect(summary?.filterColumns).toEqual(
      expect.arrayContaining([
        { table: 'orders', column: 'customer_email', comparison: 'equality' },
        { table: 'orders', column: 'created_at', comparison: 'range' },
      ]),
    );
    expect(JSON.stringify(summary)).not.toContain(EMAIL);
  });

  it('resolves aliased sort keys to their table, and reads a cast varchar column', async () => {
    const summary = await plan(JOINED);
    expect(summary?.fullScanTables).toEqual(expect.arrayContaining(['orders', 'items']));
    expect(summary?.filterColumns).toContainEqual({
      table: 'orders',
      column: 'status',
      comparison: 'equality',
    });
    expect(summary?.sortColumns).toEqual([{ table: 'orders', column: 'total', comparison: 'sort' }]);
  });

  it('sees an index scan and no full scan on a primary-key lookup', async () => {
    expect(await plan(BY_ID)).toMatchObject({
      fullScanTables: [],
      sortWithoutIndex: false,
      indexesUsed: ['orders_pkey'],
    });
  });
});

await describeWithServices(['mariadb'], 'readPlan: MariaDB EXPLAIN FORMAT=JSON', () => {
  let connection: mysql.Connection;
  const plan = async (sql: string) => {
    const [rows] = await connection.query(`EXPLAIN FORMAT=JSON ${sql}`);
    return readPlan(JSON.stringify(rows), 'mariadb');
  };

  beforeAll(async () => {
    connection = await mysql.createConnection({ host: '127.0.0.1', user: 'root', database: 'test' });
    await connection.query(
      'CREATE TEMPORARY TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer_email VARCHAR(100), status VARCHAR(10), created_at INT, total DECIMAL(10,2))',
    );
    await connection.query(
      'CREATE TEMPORARY TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, order_id INT, sku VARCHAR(10))',
    );
    await connection.query(
      "INSERT INTO orders (customer_email, status, created_at, total) SELECT concat('c', seq, '@example.com'), concat('s', seq % 10), seq, seq FROM seq_1_to_5000",
    );
    await connection.query("INSERT INTO items (order_id, sku) SELECT seq, 'k' FROM seq_1_to_5000");
  });

  afterAll(async () => {
    await connection?.end();
  });

  it('reads access type ALL, its attached condition and the filesort key', async () => {
    const summary = await plan(BY_EMAIL_SORTED);
    expect(summary).toMatchObject({
      fullScanTables: ['orders'],
      sortWithoutIndex: true,
      sortColumns: [{ table: 'orders', column: 'created_at', comparison: 'sort' }],
      filterColumns: [
        { table: 'orders', column: 'customer_email', comparison: 'equality' },
        { table: 'orders', column: 'created_at', comparison: 'range' },
      ],
    });
    expect(JSON.stringify(summary)).not.toContain(EMAIL);
  });

  it('keeps a joined table’s own conditions and its alias, and the key used for the other', async () => {
    const summary = await plan(JOINED);
    expect(summary?.indexesUsed).toContain('PRIMARY');
    expect(summary?.sortColumns).toEqual([{ table: 'o', column: 'total', comparison: 'sort' }]);
    expect(await plan(BY_ID)).toMatchObject({ fullScanTables: [], indexesUsed: ['PRIMARY'] });
  });

  it('reads MySQL 8’s ordering_operation and three-part column names', () => {
    const mysql8 = {
      query_block: {
        select_id: 1,
        ordering_operation: {
          using_filesort: true,
          table: {
            table_name: 'orders',
            access_type: 'ALL',
            attached_condition: "(`shop`.`orders`.`customer_email` = 'x@example.com')",
          },
        },
      },
    };
    expect(readPlan(JSON.stringify(mysql8), 'mysql')).toMatchObject({
      fullScanTables: ['orders'],
      sortWithoutIndex: true,
      filterColumns: [{ table: 'orders', column: 'customer_email', comparison: 'equality' }],
    });
  });
});

describe('readPlan: input it cannot read', () => {
  it('answers undefined for invalid JSON, another planner’s shape or an unknown system', () => {
    expect(readPlan('{"Plan": ', 'postgresql')).toBeUndefined();
    expect(readPlan('[{"detail":"SCAN t"}]', 'postgresql')).toBeUndefined();
    expect(readPlan('{"query_block":{}}', 'sqlite')).toBeUndefined();
    expect(readPlan('[{"detail":"SCAN t"}]', 'oracle')).toBeUndefined();
    expect(readPlan(`[{"detail":"${'x'.repeat(1_000_001)}"}]`, 'sqlite')).toBeUndefined();
  });
});

describe('conditionColumns', () => {
  it('blanks literals before reading names, so a literal that looks like a comparison is not a column', () => {
    expect(conditionColumns("(note = 'total > 5 AND secret = 1')")).toEqual([
      { table: '', column: 'note', comparison: 'equality' },
    ]);
  });

  it('reads LIKE, IN, IS NULL and = ANY as index material; <>, NOT IN and IS NOT NULL as not', () => {
    expect(
      conditionColumns(
        "((name ~~ 'a%'::text) AND (id = ANY ('{1,2}'::integer[])) AND (deleted_at IS NULL) AND (kind <> 'x') AND (o.ref IS NOT NULL) AND (tag NOT IN ('a')))",
      ),
    ).toEqual([
      { table: '', column: 'name', comparison: 'range' },
      { table: '', column: 'id', comparison: 'equality' },
      { table: '', column: 'deleted_at', comparison: 'equality' },
    ]);
  });
});
