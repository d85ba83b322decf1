import { describe, expect, it } from 'vitest';
import { keyPattern, parseRedisStatement } from '../../../collector/normalize/redis-key.js';

describe('keyPattern', () => {
  it.each([
    ['user:42:profile', 'user:{id}:profile'],
    ['user:42', 'user:{id}'],
    ['session:4c1f0d9e8b7a6c5d4e3f', 'session:{hash}'],
    ['session:AbC123xYz789QwE456rTy0', 'session:{hash}'],
    ['cart:7f3c9a0e-1b2d-4c5e-8f90-a1b2c3d4e5f6', 'cart:{uuid}'],
    ['prefs:ann.smith@example.com', 'prefs:{email}'],
    ['stats/2024-03-15/visits', 'stats/{date}/visits'],
    ['rate_limit_1234_minute', 'rate_limit_{id}_minute'],
    ['feed|9|items', 'feed|{id}|items'],
    ['post#77#comments', 'post#{id}#comments'],
    ['cache.v2.users.1001', 'cache.v2.users.{id}'],
    ['order-2024-00017', 'order-{id}-{id}'],
    ['report-7f3c9a0e-1b2d-4c5e-8f90-a1b2c3d4e5f6-v2', 'report-{uuid}-v2'],
    ['lock:job_7f3c9a0e-1b2d-4c5e-8f90-a1b2c3d4e5f6', 'lock:job_{uuid}'],
    ['{user:1000}.following', '{user:{id}}.following'],
    ['bull:emails:17', 'bull:emails:{id}'],
    ['plain', 'plain'],
    ['', ''],
  ])('%s → %s', (key, pattern) => {
    expect(keyPattern(key)).toBe(pattern);
  });

  it('keeps version and name parts', () => {
    expect(keyPattern('cache:v1:utf8mb4:users')).toBe('cache:v1:utf8mb4:users');
  });

  it('is idempotent, so an agent-folded pattern passes through unchanged', () => {
    for (const key of ['user:{id}:profile', 'session:{hash}', '{user:{id}}.following', 'prefs:{email}']) {
      expect(keyPattern(key)).toBe(key);
    }
  });
});

describe('parseRedisStatement', () => {
  it.each([
    // @opentelemetry/redis-common's serializer, as ioredis (lower case) and node-redis (upper case) call it.
    ['get user:42', { command: 'GET', key: 'user:42' }],
    ['GET user:42', { command: 'GET', key: 'user:42' }],
    ['set session:abc [2 other arguments]', { command: 'SET', key: 'session:abc' }],
    ['SETEX token:9 [2 other arguments]', { command: 'SETEX', key: 'token:9' }],
    ['HSET user:1 name [1 other arguments]', { command: 'HSET', key: 'user:1' }],
    ['HGET [2 other arguments]', { command: 'HGET' }],
    ['MGET [3 other arguments]', { command: 'MGET' }],
    ['expire user:42 60', { command: 'EXPIRE', key: 'user:42' }],
    ['del a:1 a:2', { command: 'DEL', key: 'a:1' }],
    ['incr counter:views:7', { command: 'INCR', key: 'counter:views:7' }],
    ['ZADD board [2 other arguments]', { command: 'ZADD', key: 'board' }],
    ['XREAD COUNT 10 STREAMS events:42 0', { command: 'XREAD', key: 'events:42' }],
    ['XREADGROUP GROUP g c STREAMS jobs >', { command: 'XREADGROUP', key: 'jobs' }],
    ['XREAD [4 other arguments]', { command: 'XREAD' }],
    ['EVALSHA 1a2b3c 1 lock:order:9 owner', { command: 'EVALSHA', key: 'lock:order:9' }],
    ['EVALSHA 1a2b3c 0 arg', { command: 'EVALSHA' }],
    ["EVAL return redis.call('get', KEYS[1]) 1 secret:key", { command: 'EVAL' }],
    ['CLIENT SETNAME my-app', { command: 'CLIENT SETNAME' }],
    ['CONFIG GET [1 other arguments]', { command: 'CONFIG GET' }],
    ['OBJECT ENCODING user:1', { command: 'OBJECT ENCODING', key: 'user:1' }],
    ['MEMORY USAGE user:1', { command: 'MEMORY USAGE', key: 'user:1' }],
    ['ACL [1 other arguments]', { command: 'ACL' }],
    ['AUTH [1 other arguments]', { command: 'AUTH' }],
    ['SELECT 2', { command: 'SELECT' }],
    ['SCAN 0 MATCH user:* COUNT 100', { command: 'SCAN' }],
    ['PING', { command: 'PING' }],
    ['multi', { command: 'MULTI' }],
    ['connect', { command: 'CONNECT' }],
    ['  get   spaced', { command: 'GET' }],
    // memcached's query.command: the command, its key, then flags and sizes.
    ['set user:42 0 3600 5', { command: 'SET', key: 'user:42' }],
  ])('%s', (statement, parsed) => {
    expect(parseRedisStatement(statement)).toEqual(parsed);
  });

  it('refuses text that does not start with a command name', () => {
    expect(parseRedisStatement('{"cmd":"set","value":"secret"}')).toBeUndefined();
    expect(parseRedisStatement('')).toBeUndefined();
    expect(parseRedisStatement('a'.repeat(40))).toBeUndefined();
  });

  it('reads only the first tokens of a statement that carries a large value', () => {
    expect(parseRedisStatement(`set blob:9 0 0 3000000\r\n${'v '.repeat(1_500_000)}`)).toEqual({
      command: 'SET',
      key: 'blob:9',
    });
  });

  it('returns the command and key only: the values never come back', () => {
    const parsed = parseRedisStatement('SET session:1 s3cr3t-value EX 60');
    expect(JSON.stringify(parsed)).not.toContain('s3cr3t');
  });
});
