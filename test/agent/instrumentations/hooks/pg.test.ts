/**
 * pg (Pool and Client) against the real PostgreSQL, through the upstream instrumentation
 * configured by the agent: the attributes the collector reads, and what it makes of them.
 */
import { trace } from '@opentelemetry/api';
import type * as Pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { returnedRows } from '../../../../agent/instrumentations/hooks/pg.js';
import { SpanKind, StatusCode } from '../../../../model/index.js';
import { describeWithServices } from '../../../support/services.js';
import { traceInProcess } from '../../support/in-process.js';

const tracing = traceInProcess(['pg']);
const pg: typeof Pg = tracing.require('pg');
const connection = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const server = { 'server.address': '127.0.0.1', 'server.port': 5432 };

afterAll(() => tracing.shutdown());

describe('returnedRows', () => {
  it('counts the rows of a result, of every result of a multi-statement text, and none without a row set', () => {
    const result = (rows: unknown[], rowCount: number | null) => ({ rows, rowCount }) as Pg.QueryResult;
    expect(returnedRows(result([{}, {}], 2))).toBe(2);
    expect(returnedRows(result([], 5))).toBe(0);
    expect(returnedRows([result([{}], 1), result([{}, {}], 2)] as unknown as Pg.QueryResult)).toBe(3);
    expect(returnedRows({} as Pg.QueryResult)).toBeUndefined();
  });
});

await describeWithServices(['postgres'], 'pg through the agent', () => {
  let pool: Pg.Pool;
  let client: Pg.Client;

  beforeAll(async () => {
    pool = new pg.Pool({ ...connection, max: 2 });
    client = new pg.Client(connection);
    await client.connect();
    await client.query('CREATE TEMP TABLE carts (id int PRIMARY KEY, items int)');
    tracing.reset();
  });

  afterAll(async () => {
    await client?.end();
    await pool?.end();
  });

  afterEach(() => tracing.reset());

  it('Pool: the checkout is a connection span, the query a statement with its rows', async () => {
    await trace.getTracer('test').startActiveSpan('handler', async (handler) => {
      await pool.query('SELECT n FROM generate_series(1, $1) AS n', [3]);
      handler.end();
    });

    const records = await tracing.waitFor((spans) => spans.some((span) => span.name === 'handler'));
    const handler = records.find((span) => span.name === 'handler');
    const checkout = records.find((span) => span.name === 'pg-pool.connect');
    const query = records.find((span) => span.attributes['db.query.text'] !== undefined);
    expect(checkout?.attributes).toMatchObject({
      'chokepoint.db.connect': true,
      'db.system.name': 'postgresql',
    });
    expect(query?.kind).toBe(SpanKind.CLIENT);
    expect(query?.attributes).toEqual({
      ...server,
      'db.system.name': 'postgresql',
      'db.namespace': 'test',
      'db.query.text': 'SELECT n FROM generate_series(1, $1) AS n',
      'db.operation.name': 'SELECT',
      'db.response.returned_rows': 3,
    });
    // Under a parent, the query is the handler's child, not the checkout's: N+1 detection groups by parent.
    expect(query?.parentSpanId).toBe(handler?.spanId);

    const operations = tracing.operations();
    expect(operations.filter((operation) => operation.type === 'db_connect')).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'db_connect', system: 'postgresql' })]),
    );
    expect(operations.find((operation) => operation.type === 'db_query')).toMatchObject({
      system: 'postgresql',
      namespace: 'test',
      fingerprint: 'select n from generate_series(?, ?) as n',
      statementType: 'select',
      rows: 3,
    });
  });

  it('Client: rows returned by INSERT … RETURNING, none by a plain UPDATE', async () => {
    await client.query('INSERT INTO carts (id, items) VALUES (1, 2), (2, 5) RETURNING id');
    await client.query('UPDATE carts SET items = items + 1');

    const records = await tracing.waitFor((spans) => spans.length === 2);
    expect(records.map((span) => span.attributes)).toEqual([
      expect.objectContaining({ 'db.operation.name': 'INSERT', 'db.response.returned_rows': 2 }),
      expect.objectContaining({ 'db.operation.name': 'UPDATE', 'db.response.returned_rows': 0 }),
    ]);
    expect(
      tracing.operations().map((operation) => operation.type === 'db_query' && operation.tables),
    ).toEqual([['carts'], ['carts']]);
  });

  it('a failed statement still names its operation, with status ERROR', async () => {
    await expect(client.query('SELECT missing_column FROM carts')).rejects.toThrow(/missing_column/);

    const [span] = await tracing.waitFor((spans) => spans.length === 1);
    expect(span?.statusCode).toBe(StatusCode.ERROR);
    expect(span?.attributes['db.operation.name']).toBe('SELECT');
    expect(span?.attributes['db.response.returned_rows']).toBeUndefined();
    expect(tracing.operations()[0]).toMatchObject({ type: 'db_query', error: true });
  });
});
