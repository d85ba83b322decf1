/**
 * Statements as real drivers send them, through the real OpenTelemetry instrumentations:
 * pg sends `$n` placeholders; mysql2 statements arrive with `?` placeholders, or with the
 * values inlined when the app formats them client-side (mysql2's own `format`: quotes,
 * backslash escapes, dates, buffers); better-sqlite3 prepares its source text.
 */
import { createRequire } from 'node:module';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type BetterSqlite3 from 'better-sqlite3';
import type * as Mysql2 from 'mysql2/promise';
import type * as Pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeSpan } from '../../../collector/normalize/normalize-span.js';
import { fingerprintSql } from '../../../collector/normalize/sql-fingerprint.js';
import type { Operation, SpanKind, SpanRecord, StatusCode } from '../../../model/index.js';
import { describeWithServices } from '../../support/services.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
registerInstrumentations({
  tracerProvider: provider,
  instrumentations: [new PgInstrumentation(), new MySQL2Instrumentation()],
});
// Loaded after the instrumentations are registered, through require, which they hook.
const requireDriver = createRequire(__filename);
const pg = requireDriver('pg') as typeof Pg;
const mysql = requireDriver('mysql2/promise') as typeof Mysql2;
const Database = requireDriver('better-sqlite3') as typeof BetterSqlite3;

const EMAIL = 'ann.smith@example.com';
const CARD = '4111111111111111';
const TRICKY = 'O\'Brien \\ "quoted" -- not a comment';

/** The receive stage's view of a finished span (OTLP numbers span kinds from 1, the API from 0). */
function toSpanRecord(span: ReadableSpan): SpanRecord {
  const toMs = ([seconds, nanos]: [number, number]): number => seconds * 1000 + nanos / 1e6;
  const attributes: SpanRecord['attributes'] = {};
  for (const [key, value] of Object.entries(span.attributes)) {
    if (value !== undefined) attributes[key] = value as SpanRecord['attributes'][string];
  }
  return {
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? '',
    name: span.name,
    kind: (span.kind + 1) as SpanKind,
    startTimeMs: toMs(span.startTime),
    endTimeMs: toMs(span.endTime),
    attributes,
    statusCode: span.status.code as StatusCode,
    statusMessage: span.status.message ?? '',
    events: [],
    links: [],
    resource: { serviceName: 'drivers-test', attributes: {} },
    scopeName: span.instrumentationScope.name,
    scopeVersion: span.instrumentationScope.version ?? '',
  };
}

/** Operations normalised from the spans finished since the last call. */
function takeOperations(): Operation[] {
  const spans = exporter.getFinishedSpans();
  exporter.reset();
  return spans.map((span) => normalizeSpan(toSpanRecord(span)));
}

function queries(operations: Operation[]) {
  return operations.flatMap((operation) => (operation.type === 'db_query' ? [operation] : []));
}

afterAll(async () => {
  await provider.shutdown();
});

await describeWithServices(['postgres'], 'real pg statements', () => {
  let client: Pg.Client;

  beforeAll(async () => {
    exporter.reset();
    client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
  });

  it('takes the client connection as db_connect', () => {
    const operations = takeOperations();
    expect(operations).toContainEqual(expect.objectContaining({ type: 'db_connect', system: 'postgresql' }));
  });

  it('fingerprints placeholders, inline literals, IN lists and multi-row VALUES as pg sends them', async () => {
    await client.query(
      'CREATE TEMP TABLE norm_orders (id serial PRIMARY KEY, email text NOT NULL, total numeric, note text)',
    );
    await client.query('INSERT INTO norm_orders (email, total, note) VALUES ($1, $2, $3), ($4, $5, $6)', [
      EMAIL,
      10.5,
      TRICKY,
      'bob@example.com',
      20,
      CARD,
    ]);
    const byLiteral = await client.query(
      `SELECT id FROM norm_orders WHERE email = '${EMAIL}' AND total > 10.25`,
    );
    await client.query("SELECT id FROM norm_orders WHERE email = 'bob@example.com' AND total > -3");
    await client.query('SELECT id, total FROM norm_orders WHERE id IN (1, 2, 3) ORDER BY id');
    await client.query({
      name: 'by-email',
      text: 'SELECT * FROM norm_orders o WHERE o.email = $1',
      values: [EMAIL],
    });
    await client.query(
      `SELECT note FROM norm_orders WHERE note = E'${CARD.slice(0, 4)}\\'x' OR note = $tag$${CARD}$tag$`,
    );
    await client.query('BEGIN');
    await client.query('UPDATE norm_orders SET total = total * 1.1 WHERE email = $1', [EMAIL]);
    await client.query('COMMIT');
    expect(byLiteral.rows).toHaveLength(1);

    const operations = queries(takeOperations());
    expect(
      operations.map((operation) => [operation.fingerprint, operation.statementType, operation.tables]),
    ).toEqual([
      [
        'create temp table norm_orders(id serial primary key, email text not null, total numeric, note text)',
        'ddl',
        [],
      ],
      ['insert into norm_orders(email, total, note) values (?, ?, ?), ...', 'insert', ['norm_orders']],
      ['select id from norm_orders where email = ? and total > ?', 'select', ['norm_orders']],
      ['select id from norm_orders where email = ? and total > ?', 'select', ['norm_orders']],
      ['select id, total from norm_orders where id in (...) order by id', 'select', ['norm_orders']],
      ['select * from norm_orders o where o.email = ?', 'select', ['norm_orders']],
      ['select note from norm_orders where note = ? or note = ?', 'select', ['norm_orders']],
      ['begin', 'transaction', []],
      ['update norm_orders set total = total * ? where email = ?', 'update', ['norm_orders']],
      ['commit', 'transaction', []],
    ]);
    expect(
      operations.every((operation) => operation.system === 'postgresql' && operation.namespace === 'test'),
    ).toBe(true);
    // Same shape, different literals: one fingerprint id.
    expect(operations[2]?.fingerprintId).toBe(operations[3]?.fingerprintId);
    const stored = JSON.stringify(operations);
    for (const secret of [EMAIL, 'bob@example.com', CARD, "O'Brien"]) expect(stored).not.toContain(secret);
  });

  it('takes a pool checkout as db_connect, not as a query', async () => {
    const pool = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 1 });
    const pooled = await pool.connect();
    pooled.release();
    await pool.end();
    const operations = takeOperations();
    expect(operations).toContainEqual(expect.objectContaining({ type: 'db_connect', system: 'postgresql' }));
    expect(queries(operations)).toEqual([]);
  });
});

await describeWithServices(['mariadb'], 'real mysql2 statements', () => {
  let connection: Mysql2.Connection;

  beforeAll(async () => {
    connection = await mysql.createConnection({
      host: '127.0.0.1',
      port: 3306,
      user: 'root',
      database: 'test',
    });
    await connection.query(
      'CREATE TEMPORARY TABLE norm_orders (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(200), total DECIMAL(10,2), note TEXT, paid_at DATETIME, raw BLOB, vip BOOLEAN)',
    );
    exporter.reset();
  });

  afterAll(async () => {
    await connection?.end();
  });

  it('fingerprints parameterised statements, which the instrumentation reports with their placeholders', async () => {
    await connection.query('INSERT INTO norm_orders (email, total, note) VALUES ?', [
      [[EMAIL, 10.5, TRICKY]],
    ]);
    const [found] = await connection.execute('SELECT id FROM norm_orders WHERE email = ? AND total > ?', [
      EMAIL,
      5,
    ]);
    await connection.query(`SELECT COUNT(*) AS n FROM norm_orders WHERE email = "${EMAIL}" # inline comment`);
    expect(found).toHaveLength(1);

    const operations = queries(takeOperations());
    expect(operations.map((operation) => operation.fingerprint)).toEqual([
      'insert into norm_orders(email, total, note) values ?',
      'select id from norm_orders where email = ? and total > ?',
      'select count(*) as n from norm_orders where email = ?',
    ]);
    expect(
      operations.every((operation) => operation.system === 'mysql' && operation.namespace === 'test'),
    ).toBe(true);
    expect(JSON.stringify(operations)).not.toContain(EMAIL);
  });

  it("fingerprints statements formatted client-side with mysql2's own escaping", async () => {
    const rows = [
      [EMAIL, 10.5, TRICKY, new Date('2024-03-15T10:00:00Z'), Buffer.from(CARD), true],
      ['bob@example.com', 20, CARD, null, null, false],
    ];
    const insert = mysql.format('INSERT INTO norm_orders (email, total, note, paid_at, raw, vip) VALUES ?', [
      rows,
    ]);
    // The formatted text really carries the values, escaped as MySQL reads them: otherwise this proves nothing.
    expect(insert).toContain(EMAIL);
    expect(insert).toContain("\\'");
    await connection.query(insert);
    const [found] = await connection.query(
      mysql.format('SELECT id FROM norm_orders WHERE email = ? AND total > ?', [EMAIL, 5]),
    );
    await connection.query(
      mysql.format('SELECT id FROM norm_orders WHERE email = ? AND total > ?', ['bob@example.com', -1.5]),
    );
    await connection.query(
      mysql.format('SELECT id FROM norm_orders WHERE id IN (?) AND note <> ?', [[1, 2, 3], TRICKY]),
    );
    await connection.query(
      mysql.format('UPDATE norm_orders SET note = ? WHERE id = ?', [`${CARD} ${EMAIL}`, 1]),
    );
    expect(found).toHaveLength(2);

    const operations = queries(takeOperations());
    expect(
      operations.map((operation) => [operation.fingerprint, operation.statementType, operation.tables]),
    ).toEqual([
      [
        'insert into norm_orders(email, total, note, paid_at, raw, vip) values (?, ?, ?, ?, ?, ?), ...',
        'insert',
        ['norm_orders'],
      ],
      ['select id from norm_orders where email = ? and total > ?', 'select', ['norm_orders']],
      ['select id from norm_orders where email = ? and total > ?', 'select', ['norm_orders']],
      ['select id from norm_orders where id in (...) and note <> ?', 'select', ['norm_orders']],
      ['update norm_orders set note = ? where id = ?', 'update', ['norm_orders']],
    ]);
    expect(operations[1]?.fingerprintId).toBe(operations[2]?.fingerprintId);
    const stored = JSON.stringify(operations);
    for (const secret of [EMAIL, 'bob@example.com', CARD, "O'Brien", 'Brien', '2024-03-15']) {
      expect(stored).not.toContain(secret);
    }
  });
});

describe('real better-sqlite3 statements', () => {
  const db = new Database(':memory:');

  afterAll(() => {
    db.close();
  });

  it('fingerprints the source of prepared statements, whatever the parameter style', () => {
    db.exec('CREATE TABLE norm_orders (id INTEGER PRIMARY KEY, email TEXT, total REAL, note TEXT)');
    const statements = [
      db.prepare('INSERT INTO norm_orders (email, total, note) VALUES (?, ?, ?)'),
      db.prepare('INSERT INTO norm_orders (email, total, note) VALUES (@email, @total, @note)'),
      db.prepare('INSERT INTO norm_orders (email, total, note) VALUES (:email, :total, :note)'),
      db.prepare('INSERT INTO norm_orders (email, total, note) VALUES ($email, $total, $note)'),
      db.prepare(`INSERT INTO norm_orders (email, total, note) VALUES ('${EMAIL}', 1e3, X'0A0B')`),
    ];
    statements[0]?.run(EMAIL, 1, TRICKY);
    for (const statement of statements.slice(1, 4)) statement.run({ email: EMAIL, total: 2, note: CARD });
    statements[4]?.run();
    expect((db.prepare('SELECT COUNT(*) AS n FROM norm_orders').get() as { n: number }).n).toBe(5);

    const fingerprints = new Set(
      statements.map((statement) => fingerprintSql(statement.source, 'sqlite').fingerprint),
    );
    expect([...fingerprints]).toEqual(['insert into norm_orders(email, total, note) values (?, ?, ?)']);
  });

  it('reads SQLite quoting: "identifiers", [brackets] and `backticks`', () => {
    db.exec('CREATE TABLE "Line Items" ([order id] INTEGER, `sku` TEXT)');
    const statement = db.prepare(
      `SELECT [order id] FROM "Line Items" WHERE \`sku\` = 'SKU-${CARD}' LIMIT 10`,
    );
    expect(statement.all()).toEqual([]);
    expect(fingerprintSql(statement.source, 'sqlite')).toEqual({
      fingerprint: 'select [order id] from "Line Items" where `sku` = ? limit ?',
      statementType: 'select',
      tables: ['Line Items'],
    });
  });
});
