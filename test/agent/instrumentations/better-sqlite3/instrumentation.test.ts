import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { isWrapped } from '@opentelemetry/instrumentation';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type BetterSqlite3 from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BetterSqlite3Instrumentation } from '../../../../agent/instrumentations/better-sqlite3/instrumentation.js';
import type { BetterSqlite3RequestInfo } from '../../../../agent/instrumentations/better-sqlite3/types.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
const instrumentation = new BetterSqlite3Instrumentation();
instrumentation.setTracerProvider(provider);

// Required (not imported) after the instrumentation exists, as the agent's users do: the require hook patches it.
const require = createRequire(import.meta.url);
const Database: typeof BetterSqlite3 = require('better-sqlite3');
const originalExec: unknown = require('better-sqlite3/lib/methods/wrappers').exec;

const memory = { 'db.system.name': 'sqlite', 'db.namespace': ':memory:' };

function spansNamed(name: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((span) => span.name === name);
}

function onlySpan(name: string): ReadableSpan {
  const spans = spansNamed(name);
  expect(spans.map((span) => span.name)).toEqual([name]);
  return spans[0] as ReadableSpan;
}

let db: BetterSqlite3.Database;

beforeEach(() => {
  db = new Database(':memory:');
  db.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)');
  db.exec('INSERT INTO orders (id, total) VALUES (1, 10), (2, 20), (3, 30)');
  exporter.reset();
});

afterEach(() => {
  db.close();
  instrumentation.setConfig({});
});

afterAll(async () => {
  instrumentation.disable();
  await provider.shutdown();
});

describe('exec', () => {
  it('is a CLIENT span named after operation and database, with the query attributes', () => {
    db.exec('DELETE FROM orders WHERE id = 3');

    const span = onlySpan('DELETE :memory:');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toEqual({
      ...memory,
      'db.query.text': 'DELETE FROM orders WHERE id = 3',
      'db.operation.name': 'DELETE',
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records an error with status ERROR and the SQLite code as error.type', () => {
    expect(() => db.exec('SELEC 1')).toThrow(/syntax error/);

    const span = onlySpan('SELEC :memory:');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'near "SELEC": syntax error' });
    expect(span.attributes['error.type']).toBe('SQLITE_ERROR');
    expect(span.events.map((event) => event.name)).toEqual(['exception']);
  });
});

describe('prepare', () => {
  it('is a short CLIENT span marked chokepoint.db.prepare, separate from executions', () => {
    const statement = db.prepare('SELECT total FROM orders WHERE id = ?');

    const span = onlySpan('prepare SELECT :memory:');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toEqual({
      ...memory,
      'db.query.text': 'SELECT total FROM orders WHERE id = ?',
      'db.operation.name': 'SELECT',
      'chokepoint.db.prepare': true,
    });

    statement.get(1);
    expect(spansNamed('SELECT :memory:')[0]?.attributes['chokepoint.db.prepare']).toBeUndefined();
  });

  it('records a failed preparation', () => {
    expect(() => db.prepare('SELECT * FROM missing')).toThrow(/no such table/);

    const span = onlySpan('prepare SELECT :memory:');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('SQLITE_ERROR');
  });
});

describe('statements', () => {
  it('run: the query attributes, no row count', () => {
    db.prepare('UPDATE orders SET total = ? WHERE id = ?').run(15, 1);

    expect(onlySpan('UPDATE :memory:').attributes).toEqual({
      ...memory,
      'db.query.text': 'UPDATE orders SET total = ? WHERE id = ?',
      'db.operation.name': 'UPDATE',
    });
  });

  it('get: db.response.returned_rows is 1 for a row, 0 for none', () => {
    const statement = db.prepare('SELECT total FROM orders WHERE id = ?');
    expect(statement.get(2)).toEqual({ total: 20 });
    expect(statement.get(99)).toBeUndefined();

    const spans = spansNamed('SELECT :memory:');
    expect(spans.map((span) => span.attributes['db.response.returned_rows'])).toEqual([1, 0]);
    expect(spans[0]?.attributes).toEqual({
      ...memory,
      'db.query.text': 'SELECT total FROM orders WHERE id = ?',
      'db.operation.name': 'SELECT',
      'db.response.returned_rows': 1,
    });
  });

  it('all: db.response.returned_rows is the number of rows', () => {
    expect(db.prepare('SELECT id FROM orders').pluck().all()).toEqual([1, 2, 3]);

    expect(onlySpan('SELECT :memory:').attributes['db.response.returned_rows']).toBe(3);
  });

  it('records a failed run', () => {
    const insert = db.prepare('INSERT INTO orders (id, total) VALUES (?, ?)');
    expect(() => insert.run(1, 5)).toThrow(/UNIQUE constraint failed/);

    const span = onlySpan('INSERT :memory:');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
  });

  it('traces statements better-sqlite3 prepares itself (transactions), without prepare spans', () => {
    const insert = db.prepare('INSERT INTO orders (total) VALUES (?)');
    exporter.reset();
    db.transaction(() => insert.run(40))();

    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual([
      'BEGIN :memory:',
      'INSERT :memory:',
      'COMMIT :memory:',
    ]);
  });

  it('names a file database by its basename', () => {
    const directory = mkdtempSync(join(tmpdir(), 'chokepoint-sqlite-'));
    const fileDb = new Database(join(directory, 'shop.db'));
    try {
      fileDb.exec('CREATE TABLE carts (id INTEGER)');
      fileDb.prepare('SELECT count(*) FROM carts').get();
    } finally {
      fileDb.close();
      rmSync(directory, { recursive: true, force: true });
    }

    expect(onlySpan('CREATE shop.db').attributes['db.namespace']).toBe('shop.db');
    expect(onlySpan('prepare SELECT shop.db').attributes['db.namespace']).toBe('shop.db');
    expect(onlySpan('SELECT shop.db').attributes['db.namespace']).toBe('shop.db');
  });

  it('makes spans children of the active span', () => {
    const tracer = provider.getTracer('test');
    const parentId = tracer.startActiveSpan('request', (parent: Span) => {
      db.prepare('SELECT 1').get();
      parent.end();
      return parent.spanContext().spanId;
    });

    expect(onlySpan('prepare SELECT :memory:').parentSpanContext?.spanId).toBe(parentId);
    expect(onlySpan('SELECT :memory:').parentSpanContext?.spanId).toBe(parentId);
  });
});

describe('iterate', () => {
  it('ends its span when the iteration finishes, with the rows read', () => {
    const iterator = db.prepare('SELECT id FROM orders ORDER BY id').iterate();
    expect(iterator.next()).toEqual({ done: false, value: { id: 1 } });
    expect(spansNamed('SELECT :memory:')).toEqual([]);

    expect([...iterator]).toEqual([{ id: 2 }, { id: 3 }]);

    expect(onlySpan('SELECT :memory:').attributes).toEqual({
      ...memory,
      'db.query.text': 'SELECT id FROM orders ORDER BY id',
      'db.operation.name': 'SELECT',
      'db.response.returned_rows': 3,
    });
  });

  it('ends its span when the loop stops early', () => {
    for (const row of db.prepare('SELECT id FROM orders ORDER BY id').iterate()) {
      expect(row).toEqual({ id: 1 });
      break;
    }

    expect(onlySpan('SELECT :memory:').attributes['db.response.returned_rows']).toBe(1);
    // The statement is free again: `break` reached better-sqlite3's own `return`.
    expect(db.prepare('SELECT count(*) AS n FROM orders').get()).toEqual({ n: 3 });
  });

  it('ends its span with an error when reading a row throws', () => {
    db.function('explode', (id: unknown) => {
      if (id === 2) throw new Error('exploded on row 2');
      return id;
    });
    const rows = db.prepare('SELECT explode(id) FROM orders ORDER BY id').iterate();

    expect(() => [...rows]).toThrow('exploded on row 2');
    const span = onlySpan('SELECT :memory:');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'exploded on row 2' });
    expect(span.attributes['error.type']).toBe('Error');
  });
});

describe('hooks', () => {
  it('calls requestHook at the start and responseHook with the result', () => {
    const requests: BetterSqlite3RequestInfo[] = [];
    instrumentation.setConfig({
      requestHook: (span, info) => {
        requests.push(info);
        span.setAttribute('test.request', info.method);
      },
      responseHook: (span, info) => span.setAttribute('test.result', JSON.stringify(info.result)),
    });

    db.prepare('SELECT total FROM orders WHERE id = ?').get(3);

    expect(requests).toEqual([
      { method: 'prepare', query: 'SELECT total FROM orders WHERE id = ?' },
      { method: 'get', query: 'SELECT total FROM orders WHERE id = ?' },
    ]);
    const span = onlySpan('SELECT :memory:');
    expect(span.attributes['test.request']).toBe('get');
    expect(span.attributes['test.result']).toBe('{"total":30}');
  });

  it('gives iterate’s responseHook the number of rows read', () => {
    const results: unknown[] = [];
    instrumentation.setConfig({ responseHook: (_span, info) => results.push([info.method, info.result]) });

    expect([...db.prepare('SELECT id FROM orders').iterate()]).toHaveLength(3);

    expect(results).toEqual([
      ['prepare', expect.any(Object)],
      ['iterate', 3],
    ]);
  });

  it('survives hooks that throw', () => {
    instrumentation.setConfig({
      requestHook: () => {
        throw new Error('request hook bug');
      },
      responseHook: () => {
        throw new Error('response hook bug');
      },
    });

    expect(db.prepare('SELECT count(*) AS n FROM orders').get()).toEqual({ n: 3 });
    expect(onlySpan('SELECT :memory:').ended).toBe(true);
  });
});

describe('disable', () => {
  it('restores the original methods, and enable patches them again', () => {
    const statementPrototype = Object.getPrototypeOf(db.prepare('SELECT 1'));
    expect(isWrapped(Database.prototype.exec)).toBe(true);
    expect(isWrapped(statementPrototype.run)).toBe(true);

    instrumentation.disable();
    try {
      expect(Database.prototype.exec).toBe(originalExec);
      expect(isWrapped(Database.prototype.prepare)).toBe(false);
      for (const method of ['run', 'get', 'all', 'iterate']) {
        expect(isWrapped(statementPrototype[method]), method).toBe(false);
        expect(String(statementPrototype[method]), method).toContain('[native code]');
      }
      exporter.reset();
      db.exec('DELETE FROM orders');
      db.prepare('SELECT * FROM orders').all();
      expect(exporter.getFinishedSpans()).toEqual([]);
    } finally {
      instrumentation.enable();
    }

    db.prepare('SELECT * FROM orders').all();
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual([
      'prepare SELECT :memory:',
      'SELECT :memory:',
    ]);
  });
});

it('leaves untraced what is not a query: a non-string argument still fails as better-sqlite3 says', () => {
  expect(() => db.exec(42 as unknown as string)).toThrow(TypeError);
  expect(exporter.getFinishedSpans()).toEqual([]);
});
