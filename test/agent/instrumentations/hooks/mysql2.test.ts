/**
 * mysql2 against the real MariaDB, through the upstream instrumentation configured by the
 * agent: statements without their bound values, row counts, and what the collector makes
 * of them.
 */
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { trace } from '@opentelemetry/api';
import type * as Mysql2Callbacks from 'mysql2';
import type * as Mysql2 from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  connectionAttributes,
  mysql2Config,
  returnedRows,
} from '../../../../agent/instrumentations/hooks/mysql2.js';
import { type SpanRecord, StatusCode } from '../../../../model/index.js';
import { describeWithServices } from '../../../support/services.js';
import { traceInProcess } from '../../support/in-process.js';

// Loaded before the instrumentation exists, then required again through it below: upstream
// then holds mysql2's `format` when it patches the connection, the load order in which it
// writes bound values into the statement text.
createRequire(__filename)('mysql2');
const tracing = traceInProcess(['mysql2']);
tracing.require('mysql2');
tracing.require(join(dirname(tracing.require.resolve('mysql2')), 'lib', 'connection.js'));
tracing.require(join(dirname(tracing.require.resolve('mysql2')), 'lib', 'pool.js'));
const mysql: typeof Mysql2 = tracing.require('mysql2/promise');
const mysqlCallbacks: typeof Mysql2Callbacks = tracing.require('mysql2');
const settings = { host: '127.0.0.1', port: 3306, user: 'root', database: 'test' };
const [instrumentation] = tracing.instrumentations;

afterAll(() => tracing.shutdown());

describe('returnedRows', () => {
  it('counts the rows of a row set, and none for a ResultSetHeader', () => {
    expect(returnedRows([{ id: 1 }, { id: 2 }])).toBe(2);
    expect(returnedRows({ affectedRows: 3, insertId: 0 })).toBe(0);
    expect(returnedRows(undefined)).toBeUndefined();
  });
});

describe('connectionAttributes', () => {
  it('names the server as upstream’s query spans do, and marks connection acquisition', () => {
    expect(connectionAttributes({ host: '127.0.0.1', port: '3306', database: 'shop' })).toEqual({
      'db.system.name': 'mysql',
      'chokepoint.db.connect': true,
      'server.address': '127.0.0.1',
      'server.port': 3306,
      'db.namespace': 'shop',
    });
    expect(connectionAttributes(undefined)).toEqual({
      'db.system.name': 'mysql',
      'chokepoint.db.connect': true,
    });
  });
});

/** Runs `work` under a request span, as a request handler would; resolves with that span's id. */
async function inRequest(work: () => Promise<unknown>): Promise<string> {
  return trace.getTracer('test').startActiveSpan('GET /orders', async (span) => {
    try {
      await work();
    } finally {
      span.end();
    }
    return span.spanContext().spanId;
  });
}

const named = (records: SpanRecord[], name: string) => records.filter((span) => span.name === name);

await describeWithServices(['mariadb'], 'mysql2 connections through the agent', () => {
  afterEach(() => tracing.reset());

  it('traces a connection opened in a request as a new connection, under the request', async () => {
    const requestId = await inRequest(async () => {
      const connection = await mysql.createConnection(settings);
      await connection.query('SELECT 1');
      await connection.end();
    });

    const records = await tracing.waitFor((spans) => spans.some((span) => span.name === 'GET /orders'));
    const [connect] = named(records, 'mysql2.connect');
    expect(named(records, 'mysql2.connect')).toHaveLength(1);
    expect(connect).toMatchObject({
      parentSpanId: requestId,
      statusCode: StatusCode.UNSET,
      attributes: {
        'db.system.name': 'mysql',
        'chokepoint.db.connect': true,
        'server.address': '127.0.0.1',
        'server.port': 3306,
        'db.namespace': 'test',
      },
    });
    // The statement still gets upstream's span, beside the connection's.
    expect(named(records, 'SELECT')).toHaveLength(1);
    expect(tracing.operations().find((operation) => operation.spanId === connect?.spanId)).toMatchObject({
      type: 'db_connect',
      system: 'mysql',
      host: '127.0.0.1:3306',
      opensConnection: true,
    });
  });

  it('traces pool checkouts, a connection opened only when the pool has none free, and statements beside them', async () => {
    const pool = mysql.createPool({ ...settings, connectionLimit: 1 });
    try {
      const requestId = await inRequest(async () => {
        await pool.query('SELECT 1');
        await pool.query('SELECT 2');
      });

      const records = await tracing.waitFor((spans) => spans.some((span) => span.name === 'GET /orders'));
      const checkouts = named(records, 'mysql2-pool.getConnection');
      const [connect] = named(records, 'mysql2.connect');
      expect(checkouts.map((span) => span.parentSpanId)).toEqual([requestId, requestId]);
      expect(named(records, 'mysql2.connect')).toHaveLength(1);
      expect(connect?.parentSpanId).toBe(checkouts[0]?.spanId);
      expect(named(records, 'SELECT').map((span) => span.parentSpanId)).toEqual([requestId, requestId]);
      const operations = tracing.operations();
      expect(operations.filter((operation) => operation.type === 'db_connect')).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ spanId: checkouts[0]?.spanId, opensConnection: false }),
          expect.objectContaining({ spanId: checkouts[1]?.spanId, opensConnection: false }),
          expect.objectContaining({ spanId: connect?.spanId, opensConnection: true }),
        ]),
      );
    } finally {
      await pool.end();
    }
  });

  it('a checkout that waits for a busy pool lasts until a connection is released', async () => {
    const pool = mysqlCallbacks.createPool({ ...settings, connectionLimit: 1 });
    const acquire = () =>
      new Promise<Mysql2Callbacks.PoolConnection>((resolve, reject) =>
        pool.getConnection((error, connection) => (error ? reject(error) : resolve(connection))),
      );
    try {
      const held = await acquire();
      tracing.reset();
      const waiting = acquire();
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Queued behind the held connection: its checkout has not ended.
      expect(tracing.records()).toEqual([]);
      held.release();
      (await waiting).release();

      await tracing.waitFor((spans) => named(spans, 'mysql2-pool.getConnection').length === 1);
      expect(named(tracing.records(), 'mysql2.connect')).toEqual([]);
    } finally {
      await new Promise((resolve) => pool.end(resolve));
    }
  });

  it('a connection that cannot be opened ends its span with the error, and the app still gets it', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise((resolve) => closed.close(resolve));

    await expect(mysql.createConnection({ ...settings, port })).rejects.toThrow(/ECONNREFUSED/);

    const [connect] = await tracing.waitFor((spans) => named(spans, 'mysql2.connect').length === 1);
    expect(connect?.statusCode).toBe(StatusCode.ERROR);
    expect(connect?.attributes['error.type']).toBe('ECONNREFUSED');
    expect(tracing.operations()[0]).toMatchObject({
      type: 'db_connect',
      error: true,
      errorKind: 'connection',
    });
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
