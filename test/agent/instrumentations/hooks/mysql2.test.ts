/**
 * mysql2 against the real MariaDB, through the upstream instrumentation configured by the
 * agent: statements without their bound values, row counts, and what the collector makes
 * of them.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Mysql2 from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mysql2Config, returnedRows } from '../../../../agent/instrumentations/hooks/mysql2.js';
import { StatusCode } from '../../../../model/index.js';
import { describeWithServices } from '../../../support/services.js';
import { traceInProcess } from '../../support/in-process.js';

// Loaded before the instrumentation exists, then required again through it below: upstream
// then holds mysql2's `format` when it patches the connection, the load order in which it
// writes bound values into the statement text.
createRequire(__filename)('mysql2');
const tracing = traceInProcess(['mysql2']);
tracing.require('mysql2');
tracing.require(join(dirname(tracing.require.resolve('mysql2')), 'lib', 'connection.js'));
const mysql: typeof Mysql2 = tracing.require('mysql2/promise');
const [instrumentation] = tracing.instrumentations;

afterAll(() => tracing.shutdown());

describe('returnedRows', () => {
  it('counts the rows of a row set, and none for a ResultSetHeader', () => {
    expect(returnedRows([{ id: 1 }, { id: 2 }])).toBe(2);
    expect(returnedRows({ affectedRows: 3, insertId: 0 })).toBe(0);
    expect(returnedRows(undefined)).toBeUndefined();
  });
});

await describeWithServices(['mariadb'], 'mysql2 through the agent', () => {
  let connection: Mysql2.Connection;

  beforeAll(async () => {
    connection = await mysql.createConnection({
      host: '127.0.0.1',
      port: 3306,
      user: 'root',
      database: 'test',
    });
    await connection.query('CREATE TEMPORARY TABLE customers (id int PRIMARY KEY, email varchar(100))');
    tracing.reset();
  });

  afterAll(() => connection?.end());

  afterEach(() => {
    tracing.reset();
    instrumentation?.setConfig(mysql2Config);
  });

  it('keeps the statement as written, never its bound values', async () => {
    await connection.query('INSERT INTO customers (id, email) VALUES (?, ?)', [1, 'jane@example.com']);
    await connection.execute('SELECT id, email FROM customers WHERE email = ?', ['jane@example.com']);
    await connection.query({ sql: 'SELECT id FROM customers WHERE id = ?', values: [1] });

    const records = await tracing.waitFor((spans) => spans.length === 3);
    const server = { 'server.address': '127.0.0.1', 'server.port': 3306 };
    expect(records.map((span) => span.attributes)).toEqual([
      {
        ...server,
        'db.system.name': 'mysql',
        'db.namespace': 'test',
        'db.query.text': 'INSERT INTO customers (id, email) VALUES (?, ?)',
        'db.operation.name': 'INSERT',
        'db.response.returned_rows': 0,
      },
      {
        ...server,
        'db.system.name': 'mysql',
        'db.namespace': 'test',
        'db.query.text': 'SELECT id, email FROM customers WHERE email = ?',
        'db.operation.name': 'SELECT',
        'db.response.returned_rows': 1,
      },
      expect.objectContaining({ 'db.query.text': 'SELECT id FROM customers WHERE id = ?' }),
    ]);
    expect(JSON.stringify(records)).not.toContain('jane@example.com');
    expect(tracing.operations()[1]).toMatchObject({
      type: 'db_query',
      system: 'mysql',
      namespace: 'test',
      fingerprint: 'select id, email from customers where email = ?',
      statementType: 'select',
      tables: ['customers'],
      rows: 1,
    });
  });

  it('upstream defaults would have sent the values, in this load order', async () => {
    instrumentation?.setConfig({});
    await connection.query('SELECT id FROM customers WHERE email = ?', ['jane@example.com']);

    const [span] = await tracing.waitFor((spans) => spans.length === 1);
    expect(span?.attributes['db.query.text']).toBe(
      "SELECT id FROM customers WHERE email = 'jane@example.com'",
    );
  });

  it('a failed statement still names its operation, with status ERROR', async () => {
    await expect(connection.query('SELECT missing_column FROM customers')).rejects.toThrow(/missing_column/);

    const [span] = await tracing.waitFor((spans) => spans.length === 1);
    expect(span?.statusCode).toBe(StatusCode.ERROR);
    expect(span?.attributes['db.operation.name']).toBe('SELECT');
  });
});
