import { describe, expect, it } from 'vitest';
import { scrubSpanName } from '../../../collector/normalize/span-name.js';

describe('scrubSpanName', () => {
  it.each([
    'request handler - /users/:id',
    'middleware - query',
    'pg.query:SELECT shop',
    'publish <default>',
    'send orders',
    'fs readFileSync',
    'dns.lookup',
  ])('keeps the static name %j', (name) => {
    expect(scrubSpanName(name)).toBe(name);
  });

  it.each([
    ["SELECT * FROM users WHERE email = 'ann@example.com'", 'select * from users where email = ?'],
    ['UPDATE accounts SET balance = 100 WHERE id = 7', 'update accounts set balance = ? where id = ?'],
    ['GET https://api.example.com/users/42?token=abc', 'GET https://api.example.com/users/{id}'],
    ['GET /users/42/orders', 'GET /users/{id}/orders'],
    ['process order 12345', 'process order {id}'],
    ['load user:42:profile', 'load user:{id}:profile'],
    ['notify ann.smith@example.com', 'notify {email}'],
    ["lookup 'Ann Smith' now", 'lookup ? now'],
    ['lookup "unterminated secret', 'lookup ?'],
    ['search q=secret&page=2', 'search q=?'],
    ['render report-7f3c9a0e-1b2d-4c5e-8f90-a1b2c3d4e5f6', 'render report-{uuid}'],
    ['fetch lookup%40example.com', 'fetch {email}'],
  ])('%j → %j', (name, scrubbed) => {
    expect(scrubSpanName(name)).toBe(scrubbed);
  });

  it('bounds the length of a name', () => {
    const name = `job ${'x'.repeat(500)} 1`;
    expect(scrubSpanName(name).length).toBeLessThanOrEqual(201);
  });
});
