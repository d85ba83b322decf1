import { describe, expect, it } from 'vitest';
import { recommend } from '../../../collector/recommend/index.js';
import { indexColumns, predicateShape } from '../../../collector/recommend/sql-shape.js';
import type { FindingCandidate } from '../../../model/index.js';

function candidate(kind: FindingCandidate['kind'], evidence: Record<string, unknown>): FindingCandidate {
  return { kind, service: 'shop', key: 'k', title: 't', severity: 'high', impact: 1, evidence };
}

describe('predicateShape', () => {
  it('splits equality, range and sort columns', () => {
    expect(
      predicateShape(
        'select * from orders o where o.customer_id = ? and o.created_at > ? and status in (...) order by o.created_at desc limit ?',
      ),
    ).toEqual({
      equality: ['customer_id', 'status'],
      range: ['created_at'],
      orderBy: ['created_at'],
      hasOr: false,
    });
  });

  it('handles quoted identifiers and OR', () => {
    expect(predicateShape('select * from "Users" where "Email" = ? or name like ?')).toMatchObject({
      equality: ['Email'],
      range: ['name'],
      hasOr: true,
    });
  });

  it('puts equality columns first, then one range column, else the sort', () => {
    expect(indexColumns({ equality: ['a'], range: ['b', 'c'], orderBy: ['d'], hasOr: false })).toEqual([
      'a',
      'b',
    ]);
    expect(indexColumns({ equality: ['a'], range: [], orderBy: ['d'], hasOr: false })).toEqual(['a', 'd']);
  });
});

describe('recommend', () => {
  it('suggests an index shaped from the statement for a slow filtered SELECT', () => {
    const rec = recommend(
      candidate('slow_query', {
        system: 'postgresql',
        fingerprint: 'select * from orders where customer_email = ? and created_at >= ?',
        tables: ['orders'],
        statementType: 'select',
      }),
    );
    expect(rec.summary).toBe('Add an index on orders (customer_email, created_at)');
    expect(rec.code).toContain(
      'CREATE INDEX CONCURRENTLY idx_orders_customer_email_created_at ON orders (customer_email, created_at);',
    );
    expect(rec.code).toContain('EXPLAIN select * from orders');
  });

  it('advises precomputing when nothing selective can be indexed', () => {
    const rec = recommend(
      candidate('slow_query', {
        system: 'sqlite',
        fingerprint: 'select customer_id, sum(total) from orders group by customer_id',
        tables: ['orders'],
        statementType: 'select',
      }),
    );
    expect(rec.summary).toBe('Reduce the work this query does on orders');
    expect(rec.code).toBe(
      'EXPLAIN QUERY PLAN select customer_id, sum(total) from orders group by customer_id;',
    );
  });

  it('shows the batched form of an N+1 SELECT', () => {
    const rec = recommend(
      candidate('n_plus_one', {
        system: 'sqlite',
        fingerprint: 'select * from order_items where order_id = ?',
        statementType: 'select',
        avgRepeats: 12,
      }),
    );
    expect(rec.summary).toBe('Load all rows in one query: order_id IN (…) instead of 12 queries');
    expect(rec.code).toContain('select * from order_items where order_id in (?)');
    expect(rec.detail).toContain('DataLoader');
  });

  it('uses = any(?) for Postgres batched lookups', () => {
    const rec = recommend(
      candidate('n_plus_one', {
        system: 'postgresql',
        fingerprint: 'select * from items where id = ?',
        statementType: 'select',
      }),
    );
    expect(rec.code).toContain('select * from items where id = any(?)');
  });
});

describe('recommend: batched JavaScript', () => {
  it('collects the parent keys and groups the rows, per driver', () => {
    const sqlite = recommend(
      candidate('n_plus_one', {
        system: 'sqlite',
        fingerprint: 'select * from order_items where order_id = ?',
        statementType: 'select',
        tables: ['order_items'],
      }),
    );
    expect(sqlite.code).toContain('const ids = parents.map((parent) => parent.id);');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the advice contains a JavaScript template to paste.
    expect(sqlite.code).toContain("where order_id in (${ids.map(() => '?').join(', ')})");
    expect(sqlite.code).toContain('db.prepare(sql).all(...ids)');
    expect(sqlite.code).toContain('const rowsByOrderId = Map.groupBy(rows, (row) => row.order_id);');
    const pg = recommend(
      candidate('n_plus_one', {
        system: 'postgresql',
        fingerprint: 'select * from users where id = ?',
        statementType: 'select',
        tables: ['users'],
      }),
    );
    expect(pg.code).toContain('const ids = parents.map((parent) => parent.user_id);');
    expect(pg.code).toContain("await pool.query('select * from users where id = any($1)', [ids])");
  });
});
