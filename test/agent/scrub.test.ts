import { SpanKind } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import {
  foldKey,
  type ScrubMode,
  ScrubSpanProcessor,
  scrubRedisCommand,
  scrubSql,
} from '../../agent/scrub.js';
import { keyPattern, parseRedisStatement } from '../../collector/normalize/redis-key.js';

describe('scrubSql', () => {
  it.each([
    [
      "SELECT * FROM users WHERE email = 'a@b.c' AND age > 30",
      'SELECT * FROM users WHERE email = ? AND age > ?',
    ],
    ["INSERT INTO t (a, b) VALUES ('it''s', -1.5e3)", 'INSERT INTO t (a, b) VALUES (?, -?)'],
    ["SELECT E'\\x41', X'BEEF', N'nom', 0xFF", 'SELECT ?, ?, ?, ?'],
    ['SELECT $body$ secret ; text $body$, $$ also $$', 'SELECT ?, ?'],
    ['SELECT * FROM t1 WHERE id = $1 AND v IN (?, ?)', 'SELECT * FROM t1 WHERE id = $1 AND v IN (?, ?)'],
    ['SELECT "Users"."id2" FROM "Users" LIMIT 10', 'SELECT "Users"."id2" FROM "Users" LIMIT ?'],
    ['SELECT `order`.total FROM `order` WHERE x = .5', 'SELECT `order`.total FROM `order` WHERE x = ?'],
    ["SELECT 'unterminated tail with secret", 'SELECT ?'],
  ])('%s', (text, expected) => {
    expect(scrubSql(text)).toBe(expected);
  });

  it('treats "…" as a string literal on MySQL and MariaDB only', () => {
    const query = 'SELECT * FROM users WHERE name = "alice"';
    expect(scrubSql(query, 'mysql')).toBe('SELECT * FROM users WHERE name = ?');
    expect(scrubSql(query, 'mariadb')).toBe('SELECT * FROM users WHERE name = ?');
    expect(scrubSql(query, 'postgresql')).toBe(query);
  });
});

describe('foldKey', () => {
  const keys = [
    'user:42:profile',
    'session:4c1f0d9e8b7a6c5d4e3f',
    'session:AbC123xYz789QwE456rTy0',
    'sess:AbC123xyz_Q9wE4rT7yU1iOp',
    'cart:7f3c9a0e-1b2d-4c5e-8f90-a1b2c3d4e5f6',
    'prefs:ann.smith@example.com',
    'stats/2024-03-15/visits',
    'rate_limit_1234_minute',
    'feed|9|items',
    'post#77#comments',
    'cache.v2.users.1001',
    'order-2024-00017',
    'report-7f3c9a0e-1b2d-4c5e-8f90-a1b2c3d4e5f6-v2',
    'lock:job_7f3c9a0e-1b2d-4c5e-8f90-a1b2c3d4e5f6',
    '{user:1000}.following',
    'cache:v1:utf8mb4:users',
    'slug:quarterly-report-2024-final-draft',
    'plain',
    '',
    'deadbeefcafe:x',
    'x:DEADBEEFCAFE01',
    'a@b:c',
    'Word:UPPER:lower',
    'trailing:',
    ':leading',
    'a::b',
    'orders:42:',
    'user:42:profile:42',
    'tenant/acme/user/9/settings',
  ];

  it.each([
    ['user:42:profile', 'user:{id}:profile'],
    ['sess:AbC123xyz_Q9wE4rT7yU1iOp', 'sess:{hash}'],
    ['prefs:ann.smith@example.com', 'prefs:{email}'],
    ['report-7f3c9a0e-1b2d-4c5e-8f90-a1b2c3d4e5f6-v2', 'report-{uuid}-v2'],
    ['{user:1000}.following', '{user:{id}}.following'],
    ['cache:v1:utf8mb4:users', 'cache:v1:utf8mb4:users'],
  ])('%s → %s', (key, expected) => {
    expect(foldKey(key)).toBe(expected);
  });

  it('folds as the collector does, so scrubbed and raw keys meet in one pattern', () => {
    for (const key of keys) expect(foldKey(key), key).toBe(keyPattern(key));
  });
});

describe('scrubRedisCommand', () => {
  it('keeps the command and its first argument folded, drops the other arguments', () => {
    expect(scrubRedisCommand('set user:42 [1 other arguments]')).toBe('set user:{id}');
    expect(scrubRedisCommand('hmget user:42 name email')).toBe('hmget user:{id}');
  });

  it('leaves the collector a statement it reads the folded key from, keyless commands included', () => {
    const scrubbed = scrubRedisCommand('set user:42 [1 other arguments]');
    expect(parseRedisStatement(scrubbed)).toEqual({ command: 'SET', key: 'user:{id}' });
    expect(keyPattern('user:{id}')).toBe('user:{id}');
    expect(parseRedisStatement(scrubRedisCommand('select 2'))).toEqual({ command: 'SELECT' });
  });

  it('keeps only the command when there is no argument, or its arguments were elided', () => {
    expect(scrubRedisCommand('ping')).toBe('ping');
    expect(scrubRedisCommand('auth [1 other arguments]')).toBe('auth');
  });
});

function exportedThrough(mode: ScrubMode, attributes: Record<string, string>): ReadableSpan {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new ScrubSpanProcessor(mode), new SimpleSpanProcessor(exporter)],
  });
  provider.getTracer('test').startSpan('query', { kind: SpanKind.CLIENT, attributes }).end();
  const [span] = exporter.getFinishedSpans();
  if (!span) throw new Error('no span exported');
  return span;
}

const pgQuery = {
  'db.system.name': 'postgresql',
  'db.query.text': "SELECT * FROM users WHERE email = 'a@b.c'",
};
const redisCommand = { 'db.system.name': 'redis', 'db.query.text': 'set user:42 [1 other arguments]' };

describe('ScrubSpanProcessor', () => {
  it('scrubs SQL before the export processor sees the span', () => {
    expect(exportedThrough('sql', pgQuery).attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.query.text': 'SELECT * FROM users WHERE email = ?',
    });
  });

  it('scrubs the old attribute names too', () => {
    const span = exportedThrough('all', { 'db.system': 'mysql', 'db.statement': 'SELECT "x", 1' });
    expect(span.attributes['db.statement']).toBe('SELECT ?, ?');
  });

  it('scrubs Redis commands', () => {
    expect(exportedThrough('redis', redisCommand).attributes).toEqual({
      'db.system.name': 'redis',
      'db.query.text': 'set user:{id}',
    });
  });

  it('folds Kafka message keys with the keys', () => {
    const send = {
      'messaging.system': 'kafka',
      'messaging.kafka.message.key': 'customer-42:ann@example.com',
    };
    expect(exportedThrough('redis', send).attributes['messaging.kafka.message.key']).toBe(
      'customer-{id}:{email}',
    );
    expect(exportedThrough('all', send).attributes['messaging.kafka.message.key']).toBe(
      'customer-{id}:{email}',
    );
    expect(exportedThrough('sql', send).attributes).toEqual(send);
  });

  it('leaves alone what its mode does not cover', () => {
    expect(exportedThrough('redis', pgQuery).attributes).toEqual(pgQuery);
    expect(exportedThrough('sql', redisCommand).attributes).toEqual(redisCommand);
    expect(exportedThrough('all', { 'http.route': "/users/'x'" }).attributes).toEqual({
      'http.route': "/users/'x'",
    });
  });
});
