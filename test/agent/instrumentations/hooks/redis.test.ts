/**
 * Redis as a cache, through ioredis and node-redis against the real server: the upstream
 * instrumentations with the agent's hooks record hits, misses, TTLs and key patterns, and
 * the collector reads them into cache_command operations.
 */
import { trace } from '@opentelemetry/api';
import type IORedis from 'ioredis';
import type * as NodeRedis from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeCacheCommand, describeCacheReply } from '../../../../agent/instrumentations/hooks/redis.js';
import { keyPattern } from '../../../../collector/normalize/index.js';
import type { CacheCommandOperation } from '../../../../model/index.js';
import { describeWithServices } from '../../../support/services.js';
import { traceInProcess } from '../../support/in-process.js';

const tracing = traceInProcess(['ioredis', 'redis']);
const Redis: typeof IORedis = tracing.require('ioredis');
const { createClient }: typeof NodeRedis = tracing.require('redis');

afterAll(() => tracing.shutdown());

describe('describeCacheCommand', () => {
  it.each([
    [['set', ['user:42', 'v', 'EX', 60]], { pattern: 'user:{id}', ttl: 60 }],
    [['SET', ['user:42', 'v', 'px', '1500', 'NX']], { pattern: 'user:{id}', ttl: 1.5 }],
    [['set', ['user:42', 'v']], { pattern: 'user:{id}' }],
    [['setex', [Buffer.from('cart:9f2c4e1a7b3d5e6f'), '30', 'v']], { pattern: 'cart:{hash}', ttl: 30 }],
    [['psetex', ['k:1', 2500, 'v']], { pattern: 'k:{id}', ttl: 2.5 }],
    [['expire', ['session:7', '0']], { pattern: 'session:{id}' }],
    [['pexpire', ['session:7', 'soon']], { pattern: 'session:{id}' }],
    [['getex', ['user:7', 'EX', 10]], { pattern: 'user:{id}', ttl: 10 }],
    [['hget', ['user:jane@example.com', 'name']], { pattern: 'user:{email}' }],
    [['mget', ['user:1', 'order:2']], { pattern: 'user:{id}' }],
    [['ping', []], {}],
    [['evalsha', ['abc', 1, 'user:1']], {}],
    [['get', ['']], {}],
  ])('%j → %j', ([name, args], expected) => {
    const attributes = describeCacheCommand(name as string, args as never);
    expect({
      pattern: attributes['chokepoint.cache.key_pattern'],
      ttl: attributes['chokepoint.cache.ttl_seconds'],
    }).toEqual({ pattern: undefined, ttl: undefined, ...expected });
  });

  it('folds keys as the collector does', () => {
    for (const key of [
      'user:42:profile',
      'report-0f8fad5b-d9cb-469f-a165-70867728950e',
      'feed|2024-05-01',
      'a.b_c-9',
    ]) {
      expect(describeCacheCommand('get', [key])['chokepoint.cache.key_pattern']).toBe(keyPattern(key));
    }
  });
});

describe('describeCacheReply', () => {
  it('tells hits from misses, for one key and for several', () => {
    expect(describeCacheReply('get', 'value')).toEqual({ 'chokepoint.cache.hit': true });
    expect(describeCacheReply('GET', '')).toEqual({ 'chokepoint.cache.hit': true });
    expect(describeCacheReply('hget', null)).toEqual({ 'chokepoint.cache.hit': false });
    expect(describeCacheReply('getdel', undefined)).toEqual({ 'chokepoint.cache.hit': false });
    expect(describeCacheReply('MGET', ['1', null, Buffer.from('3')])).toEqual({
      'chokepoint.cache.hits': 2,
      'chokepoint.cache.misses': 1,
    });
    expect(describeCacheReply('set', 'OK')).toEqual({});
    expect(describeCacheReply('hmget', 'not an array')).toEqual({});
  });
});

function cacheOperations(): CacheCommandOperation[] {
  return tracing
    .operations()
    .filter((operation): operation is CacheCommandOperation => operation.type === 'cache_command');
}

/** The cache fields of an operation, without timing and ids. */
function cacheFields({ command, keyPattern, hit, hits, misses, ttlSeconds }: CacheCommandOperation) {
  return Object.fromEntries(
    Object.entries({ command, keyPattern, hit, hits, misses, ttlSeconds }).filter(
      ([, value]) => value !== undefined,
    ),
  );
}

const prefix = `chokepoint:test:${process.pid}`;

await describeWithServices(['redis'], 'Redis as a cache through the agent', () => {
  let ioredis: IORedis;
  let nodeRedis: ReturnType<typeof createClient>;

  beforeAll(async () => {
    ioredis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    await ioredis.connect();
    nodeRedis = createClient({ socket: { host: '127.0.0.1', port: 6379 } });
    await nodeRedis.connect();
    await ioredis.hset(`${prefix}:user:42`, 'name', 'Jane');
    tracing.reset();
  });

  afterAll(async () => {
    await ioredis?.del(`${prefix}:user:42`, `${prefix}:product:7`, `${prefix}:product:8`);
    ioredis?.disconnect();
    await nodeRedis?.quit();
  });

  afterEach(() => tracing.reset());

  it('ioredis: reads record hits and misses, writes their TTL, every command its key pattern', async () => {
    await ioredis.set(`${prefix}:product:7`, '{"price":3}', 'EX', 120);
    await ioredis.get(`${prefix}:product:7`);
    await ioredis.get(`${prefix}:product:9`);
    await ioredis.mget(`${prefix}:product:7`, `${prefix}:product:8`, `${prefix}:product:9`);
    await ioredis.hget(`${prefix}:user:42`, 'name');
    await ioredis.hmget(`${prefix}:user:42`, 'name', 'email');
    await ioredis.expire(`${prefix}:product:7`, 300);

    await tracing.waitFor((spans) => spans.length === 7);
    const key = `chokepoint:test:{id}`;
    expect(tracing.records()[1]?.attributes).toEqual({
      'db.system.name': 'redis',
      'db.operation.name': 'get',
      'db.query.text': `get ${prefix}:product:7`,
      'server.address': '127.0.0.1',
      'server.port': 6379,
      'chokepoint.cache.key_pattern': `${key}:product:{id}`,
      'chokepoint.cache.hit': true,
    });
    expect(cacheOperations().map(cacheFields)).toEqual([
      { command: 'SET', keyPattern: `${key}:product:{id}`, ttlSeconds: 120 },
      { command: 'GET', keyPattern: `${key}:product:{id}`, hit: true },
      { command: 'GET', keyPattern: `${key}:product:{id}`, hit: false },
      { command: 'MGET', keyPattern: `${key}:product:{id}`, hits: 1, misses: 2 },
      { command: 'HGET', keyPattern: `${key}:user:{id}`, hit: true },
      { command: 'HMGET', keyPattern: `${key}:user:{id}`, hits: 1, misses: 1 },
      { command: 'EXPIRE', keyPattern: `${key}:product:{id}`, ttlSeconds: 300 },
    ]);
  });

  it('node-redis: the same, from its response hook', async () => {
    await nodeRedis.set(`${prefix}:product:8`, '{"price":4}', { PX: 90_000 });
    await nodeRedis.get(`${prefix}:product:8`);
    await nodeRedis.get(`${prefix}:product:9`);
    await nodeRedis.mGet([`${prefix}:product:8`, `${prefix}:product:9`]);
    await nodeRedis.hGet(`${prefix}:user:42`, 'email');
    await nodeRedis.setEx(`${prefix}:product:8`, 45, '{"price":4}');

    await tracing.waitFor((spans) => spans.length === 6);
    const key = `chokepoint:test:{id}`;
    expect(cacheOperations().map(cacheFields)).toEqual([
      { command: 'SET', keyPattern: `${key}:product:{id}`, ttlSeconds: 90 },
      { command: 'GET', keyPattern: `${key}:product:{id}`, hit: true },
      { command: 'GET', keyPattern: `${key}:product:{id}`, hit: false },
      { command: 'MGET', keyPattern: `${key}:product:{id}`, hits: 1, misses: 1 },
      { command: 'HGET', keyPattern: `${key}:user:{id}`, hit: false },
      { command: 'SETEX', keyPattern: `${key}:product:{id}`, ttlSeconds: 45 },
    ]);
  });

  it('ioredis: a command sent before the connection is up is traced once, under its caller', async () => {
    const early = new Redis({ host: '127.0.0.1', port: 6379 });
    try {
      await trace.getTracer('test').startActiveSpan('handler', async (handler) => {
        // Queued offline, sent again by ioredis once connected.
        await early.get('chokepoint:test:early');
        handler.end();
      });
    } finally {
      early.disconnect();
    }
    const records = await tracing.waitFor((spans) => spans.some((span) => span.name === 'handler'));
    const gets = records.filter((span) => span.attributes['db.query.text'] === 'get chokepoint:test:early');
    expect(gets).toHaveLength(1);
    expect(gets[0]?.parentSpanId).toBe(records.find((span) => span.name === 'handler')?.spanId);
    expect(gets[0]?.attributes['chokepoint.cache.hit']).toBe(false);
  });

  it('a failed command records no outcome', async () => {
    await expect(ioredis.get(`${prefix}:user:42`)).rejects.toThrow(/WRONGTYPE/);

    const [operation] = await tracing.waitFor((spans) => spans.length === 1).then(cacheOperations);
    expect(operation).toMatchObject({ command: 'GET', error: true });
    expect(operation?.hit).toBeUndefined();
  });
});
