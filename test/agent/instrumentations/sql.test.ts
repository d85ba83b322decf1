import { describe, expect, it } from 'vitest';
import { operationName } from '../../../agent/instrumentations/sql.js';

describe('operationName', () => {
  it.each([
    ['select * from orders', 'SELECT'],
    ['  \n\tInsert into orders values (1)', 'INSERT'],
    ['-- newest first\nSELECT 1', 'SELECT'],
    ['/* report */ /* twice */ update orders set total = 0', 'UPDATE'],
    ['(SELECT 1) UNION (SELECT 2)', 'SELECT'],
    ['WITH recent AS (SELECT 1) SELECT * FROM recent', 'WITH'],
    ['pragma journal_mode = WAL', 'PRAGMA'],
  ])('%j → %s', (query, expected) => {
    expect(operationName(query)).toBe(expected);
  });

  it('is undefined when no keyword leads the text', () => {
    expect(operationName('')).toBeUndefined();
    expect(operationName('-- only a comment')).toBeUndefined();
    expect(operationName('; SELECT 1')).toBeUndefined();
  });

  it('stays fast on long runs of blanks that lead nowhere', () => {
    expect(operationName(`${' '.repeat(100_000)};`)).toBeUndefined();
  });
});
