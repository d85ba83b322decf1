import { describe, expect, it } from 'vitest';
import { databaseNamespace, describeQuery } from '../../../../agent/instrumentations/better-sqlite3/utils.js';

describe('databaseNamespace', () => {
  it.each([
    [{ name: ':memory:', memory: true }, ':memory:'],
    [{ name: '', memory: true }, ':memory:'],
    [{ name: '/var/data/shop.db', memory: false }, 'shop.db'],
    [{ name: 'relative/app.sqlite', memory: false }, 'app.sqlite'],
    [{ name: 'file:/var/data/shop.db?mode=ro', memory: false }, 'shop.db'],
  ])('%j → %s', (database, expected) => {
    expect(databaseNamespace(database)).toBe(expected);
  });
});

describe('describeQuery', () => {
  it('names the span <operation> <namespace> and sets the semconv attributes', () => {
    expect(describeQuery('SELECT 1', 'shop.db')).toEqual({
      spanName: 'SELECT shop.db',
      attributes: {
        'db.system.name': 'sqlite',
        'db.namespace': 'shop.db',
        'db.query.text': 'SELECT 1',
        'db.operation.name': 'SELECT',
      },
    });
  });

  it('falls back to the namespace alone without an operation', () => {
    const { spanName, attributes } = describeQuery('-- nothing', ':memory:');
    expect(spanName).toBe(':memory:');
    expect(attributes).not.toHaveProperty('db.operation.name');
  });
});
