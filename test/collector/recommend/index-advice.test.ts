/**
 * Index advice, proven by taking it: a slow query runs on a real database, its plan is
 * captured as the agent would attach it, the spans go through normalise → slow_query →
 * recommend, and the recommended CREATE INDEX is applied to the same database. The plan
 * must then use that index. Timings before and after are measured and printed, not asserted.
 */
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slowQueryDetector } from '../../../collector/detect/slow-query.js';
import { normalizeSpan } from '../../../collector/normalize/normalize-span.js';
import { recommend } from '../../../collector/recommend/index.js';
import { readPlan } from '../../../collector/recommend/plan.js';
import { ChokepointAttributes, type Operation, SpanKind, StatusCode } from '../../../model/index.js';
import { FIXTURE_NOW, runDetector } from '../../support/detect-harness.js';
import { describeWithServices } from '../../support/services.js';

const RUNS = 15;

/** A request span and one query span per run, timed as they really ran, carrying the captured plan. */
function operationsOf(system: string, statement: string, plan: string, durationsMs: number[]): Operation[] {
  return durationsMs.flatMap((durationMs, run) => {
    const traceId = run.toString(16).padStart(32, '0');
    const startTimeMs = FIXTURE_NOW - 30_000 + run * 100;
    const base = {
      traceId,
      statusCode: StatusCode.UNSET,
      statusMessage: '',
      events: [],
      links: [],
      resource: { serviceName: 'shop', attributes: {} },
      scopeName: 'test',
      scopeVersion: '0',
    };
    return [
      normalizeSpan({
        ...base,
        spanId: `${run.toString(16).padStart(15, '0')}a`,
        parentSpanId: '',
        name: 'GET /orders',
        kind: SpanKind.SERVER,
        startTimeMs,
        endTimeMs: startTimeMs + durationMs + 1,
        attributes: { 'http.request.method': 'GET', 'http.route': '/orders' },
      }),
      normalizeSpan({
        ...base,
        spanId: `${run.toString(16).padStart(15, '0')}b`,
        parentSpanId: `${run.toString(16).padStart(15, '0')}a`,
        name: 'SELECT',
        kind: SpanKind.CLIENT,
        startTimeMs,
        endTimeMs: startTimeMs + durationMs,
        attributes: {
          'db.system.name': system,
          'db.query.text': statement,
          [ChokepointAttributes.DB_PLAN]: plan,
        },
      }),
    ];
  });
}

function timeRuns(run: () => unknown): number[] {
  return Array.from({ length: RUNS }, () => {
    const start = performance.now();
    run();
    return performance.now() - start;
  });
}

async function timeRunsAsync(run: () => Promise<unknown>): Promise<number[]> {
  const durations: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    durations.push(performance.now() - start);
  }
  return durations;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** The recommendation's CREATE INDEX statement, and the name it gives the index. */
function createIndexOf(code: string | undefined): { sql: string; name: string } {
  const sql = /^CREATE INDEX .*;$/m.exec(code ?? '')?.[0];
  const name = sql && /^CREATE INDEX (?:CONCURRENTLY )?(\S+)/.exec(sql)?.[1];
  if (!sql || !name) throw new Error(`no CREATE INDEX in the recommendation: ${code}`);
  return { sql, name };
}

describe('index advice on SQLite, applied', () => {
  const db = new Database(':memory:');
  const statement =
    "SELECT id, total FROM orders WHERE customer_email = 'customer77@example.com' ORDER BY created_at DESC LIMIT 10";
  const explain = () => JSON.stringify(db.prepare(`EXPLAIN QUERY PLAN ${statement}`).all());

  beforeAll(() => {
    db.exec(
      'CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_email TEXT, created_at INTEGER, total REAL)',
    );
    const insert = db.prepare('INSERT INTO orders (customer_email, created_at, total) VALUES (?, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < 200_000; i++) insert.run(`customer${i % 5_000}@example.com`, i, i % 300);
    })();
  });

  it('recommends the index the plan asks for; once created, the plan uses it', () => {
    const query = db.prepare(statement);
    const before = timeRuns(() => query.all());
    const [finding] = runDetector(slowQueryDetector, operationsOf('sqlite', statement, explain(), before), {
      slowQueryMs: 0.01,
    });
    expect(finding?.evidence.plan).toMatchObject({ fullScanTables: ['orders'], sortWithoutIndex: true });
    const recommendation = recommend(finding as NonNullable<typeof finding>);
    expect(recommendation.summary).toBe('Add an index on orders (customer_email, created_at)');
    expect(recommendation.detail).toContain('The captured plan reads orders in full');

    const index = createIndexOf(recommendation.code);
    db.exec(index.sql);
    const after = readPlan(explain(), 'sqlite');
    expect(after).toMatchObject({ fullScanTables: [], sortWithoutIndex: false, indexesUsed: [index.name] });

    const indexed = db.prepare(statement);
    const afterMs = timeRuns(() => indexed.all());
    console.log(
      `[index advice] SQLite, 200k rows: median ${median(before).toFixed(3)} ms before, ${median(afterMs).toFixed(3)} ms after ${index.sql}`,
    );
  });
});

await describeWithServices(['postgres'], 'index advice on Postgres, applied', () => {
  const schema = `chokepoint_advice_${process.pid}`;
  const client = new pg.Client({ host: '127.0.0.1', user: 'postgres', database: 'test' });
  const statement = `SELECT o.id, o.total FROM ${schema}.orders o JOIN ${schema}.customers c ON c.id = o.customer_id WHERE status = 'refunded' AND created_at >= 199000 ORDER BY created_at`;
  const explain = async () => {
    const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${statement}`);
    return JSON.stringify(rows[0]['QUERY PLAN']);
  };

  beforeAll(async () => {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
    await client.query(`
      CREATE TABLE ${schema}.customers (id int PRIMARY KEY, name text);
      CREATE TABLE ${schema}.orders (id serial PRIMARY KEY, customer_id int, status text, created_at int, total numeric);
      INSERT INTO ${schema}.customers SELECT g, 'c' || g FROM generate_series(1, 1000) g;
      INSERT INTO ${schema}.orders (customer_id, status, created_at, total)
        SELECT 1 + g % 1000, (ARRAY['paid', 'shipped', 'refunded', 'open'])[1 + g % 4], g, g % 300
        FROM generate_series(1, 200000) g;
      ANALYZE ${schema}.customers; ANALYZE ${schema}.orders;
    `);
  });

  afterAll(async () => {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it('indexes the scanned table of a join on its filter columns; once created, the plan uses it', async () => {
    const before = await timeRunsAsync(() => client.query(statement));
    const plan = await explain();
    const [finding] = runDetector(slowQueryDetector, operationsOf('postgresql', statement, plan, before), {
      slowQueryMs: 0.01,
    });
    const candidate = finding as NonNullable<typeof finding>;
    // The statement alone cannot tell which table unqualified `status` and `created_at` belong to…
    expect(recommend({ ...candidate, evidence: { ...candidate.evidence, plan: undefined } }).summary).toBe(
      `Reduce the work this query does on ${schema}.orders`,
    );
    // …the plan can: Postgres scans orders filtering on both. Equality first, then the range.
    const recommendation = recommend(candidate);
    expect(recommendation.summary).toBe(`Add an index on ${schema}.orders (status, created_at)`);

    const index = createIndexOf(recommendation.code);
    expect(index.sql).toContain('CREATE INDEX CONCURRENTLY');
    await client.query(index.sql);
    await client.query(`ANALYZE ${schema}.orders`);
    const after = readPlan(await explain(), 'postgresql');
    expect(after?.indexesUsed).toContain(index.name);
    expect(after?.fullScanTables).not.toContain('orders');

    const afterMs = await timeRunsAsync(() => client.query(statement));
    console.log(
      `[index advice] Postgres, 200k rows: median ${median(before).toFixed(2)} ms before, ${median(afterMs).toFixed(2)} ms after ${index.sql}`,
    );
  });
});
