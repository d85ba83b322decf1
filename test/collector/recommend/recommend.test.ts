import { describe, expect, it } from 'vitest';
import { recommend } from '../../../collector/recommend/index.js';
import { predicateShape, suggestIndex, tableAliases } from '../../../collector/recommend/sql-shape.js';
import type { FindingCandidate } from '../../../model/index.js';

function candidate(kind: FindingCandidate['kind'], evidence: Record<string, unknown>): FindingCandidate {
  return { kind, service: 'shop', key: 'k', title: 't', severity: 'high', impact: 1, evidence };
}

describe('predicateShape', () => {
  it('splits equality, range and sort columns, resolving aliases to tables', () => {
    expect(
      predicateShape(
        'select * from orders o where o.customer_id = ? and o.created_at > ? and status in (...) order by o.created_at desc limit ?',
      ),
    ).toEqual({
      equality: [{ table: 'orders', column: 'customer_id' }, { column: 'status' }],
      range: [{ table: 'orders', column: 'created_at' }],
      orderBy: [{ table: 'orders', column: 'created_at' }],
      hasOr: false,
    });
  });

  it('handles quoted identifiers and OR', () => {
    expect(predicateShape('select * from "Users" where "Email" = ? or name like ?')).toMatchObject({
      equality: [{ column: 'Email' }],
      range: [{ column: 'name' }],
      hasOr: true,
    });
  });

  it('maps aliases from FROM and JOIN, with or without AS, ignoring keywords', () => {
    const aliases = tableAliases(
      'select * from shop.orders as o join order_items oi on oi.order_id = o.id left join products where x = ?',
    );
    expect(Object.fromEntries(aliases)).toEqual({
      'shop.orders': 'shop.orders',
      orders: 'shop.orders',
      o: 'shop.orders',
      order_items: 'order_items',
      oi: 'order_items',
      products: 'products',
    });
  });
});

describe('suggestIndex', () => {
  it('puts equality columns first, then one range column, else the sort', () => {
    const on = (column: string) => ({ column });
    expect(
      suggestIndex({ equality: [on('a')], range: [on('b'), on('c')], orderBy: [on('d')], hasOr: false }, [
        't',
      ]),
    ).toEqual({ table: 't', columns: ['a', 'b'] });
    expect(suggestIndex({ equality: [on('a')], range: [], orderBy: [on('d')], hasOr: false }, ['t'])).toEqual(
      {
        table: 't',
        columns: ['a', 'd'],
      },
    );
  });

  it('targets the table a joined query filters on', () => {
    const fingerprint =
      'select p.id, p.name, sum(oi.quantity) as units from orders o join order_items oi on oi.order_id = o.id ' +
      'join products p on p.id = oi.product_id where o.customer_email = ? group by p.id order by units desc limit ?';
    expect(suggestIndex(predicateShape(fingerprint), ['orders', 'order_items', 'products'])).toEqual({
      table: 'orders',
      columns: ['customer_email'],
    });
  });

  it('never indexes a computed output the statement sorts by', () => {
    const fingerprint =
      'select title, count(*) as editions from books where author_id = ? group by title order by editions desc';
    expect(suggestIndex(predicateShape(fingerprint), ['books'])).toEqual({
      table: 'books',
      columns: ['author_id'],
    });
  });

  it('gives up when a joined query filters on unqualified columns', () => {
    expect(
      suggestIndex(predicateShape('select * from a join b on a.id = b.a_id where name = ?'), ['a', 'b']),
    ).toBe(undefined);
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
    expect(rec.detail).toContain('This SELECT filters orders on customer_email, created_at.');
    expect(rec.code).toContain(
      'CREATE INDEX CONCURRENTLY idx_orders_customer_email_created_at ON orders (customer_email, created_at);',
    );
    expect(rec.code).toContain('EXPLAIN select * from orders');
  });

  it('names the sort column as a sort, not a filter', () => {
    const rec = recommend(
      candidate('slow_query', {
        system: 'postgresql',
        fingerprint: 'select * from orders where customer_id = ? order by created_at desc',
        tables: ['orders'],
        statementType: 'select',
      }),
    );
    expect(rec.detail).toContain('This SELECT filters orders on customer_id and sorts by created_at.');
  });

  it('does not suggest indexing a primary-key lookup', () => {
    const rec = recommend(
      candidate('slow_query', {
        system: 'postgresql',
        fingerprint: 'select id, sku from shop_products where id = ?',
        tables: ['shop_products'],
        statementType: 'select',
      }),
    );
    expect(rec.summary).toBe('The lookup is by primary key: look for the time outside the query plan');
    expect(rec.code).not.toContain('CREATE INDEX');
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
    expect(sqlite.code).toContain('const rowsByOrderId = new Map(ids.map((id) => [id, []]));');
    expect(sqlite.code).toContain('for (const row of rows) rowsByOrderId.get(row.order_id)?.push(row);');
    expect(sqlite.code).not.toContain('Map.groupBy');
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

  it('advises again when any input changes, and the same when only evidence it does not read changes', () => {
    const base = {
      system: 'postgresql',
      fingerprint: 'select * from order_lines where order_id = ?',
      statementType: 'select',
      tables: ['order_lines'],
      avgRepeats: 6,
    };
    const advise = (evidence: Record<string, unknown>) => recommend(candidate('n_plus_one', evidence));
    const first = advise(base);
    expect(advise({ ...base, avgRepeats: 6.2, routes: [{ route: 'GET /orders', requests: 3 }] })).toEqual(
      first,
    );
    expect(advise({ ...base, avgRepeats: 9 }).summary).toContain('instead of 9 queries');
    expect(advise({ ...base, system: 'mysql' }).code).toContain('(await connection.query(sql, ids))[0]');
    expect(
      advise({ ...base, tables: ['lines'], fingerprint: 'select * from lines where id = ?' }).code,
    ).toContain('parent.line_id');
    expect(advise({ ...base, tables: [], fingerprint: 'select * from lines where id = ?' }).code).toContain(
      'parent.row_id',
    );
    expect(
      advise({ ...base, fingerprint: 'select * from order_lines where order_id = ? limit ?' }).code,
    ).toContain('where order_id = any($1) limit ?');
    expect(advise({ ...base, statementType: 'insert' }).language).toBe('sql');
    expect(advise(base)).toEqual(first);
  });
});

describe('recommend: slow_query with a captured plan', () => {
  const plan = (fields: Record<string, unknown>) => ({
    system: 'postgresql',
    fullScanTables: [],
    filterColumns: [],
    sortWithoutIndex: false,
    sortColumns: [],
    indexesUsed: [],
    ...fields,
  });

  it('advises no index when the plan already reads through one', () => {
    const rec = recommend(
      candidate('slow_query', {
        system: 'postgresql',
        fingerprint: 'select * from orders where customer_email = ?',
        tables: ['orders'],
        statementType: 'select',
        plan: plan({ indexesUsed: ['orders_customer_email_idx'] }),
      }),
    );
    expect(rec.summary).toBe('The plan already uses an index: cut the rows it reads or the number of calls');
    expect(rec.detail).toContain('orders_customer_email_idx');
    expect(rec.code).not.toContain('CREATE INDEX');
  });

  it('puts a stalled event loop first for an indexed query it stretches, and keeps index advice otherwise', () => {
    const stalls = [
      {
        id: 'e1',
        kind: 'event_loop_blocked',
        title: 'Event loop blocked in shop: delays up to 2.2 s',
        impact: 9,
      },
    ];
    const query = {
      system: 'postgresql',
      tables: ['shop_products'],
      statementType: 'select',
      p50Ms: 24,
      p95Ms: 963,
      related: stalls,
    };
    const byIndex = recommend(
      candidate('slow_query', {
        ...query,
        fingerprint: 'select * from shop_products where sku = ?',
        plan: plan({ indexesUsed: ['shop_products_sku'] }),
      }),
    );
    const byKey = recommend(
      candidate('slow_query', { ...query, fingerprint: 'select id, sku from shop_products where id = ?' }),
    );
    for (const rec of [byIndex, byKey]) {
      expect(rec.summary).toBe('Unblock the event loop first: its stalls are counted in this query’s time');
      expect(rec.detail).toContain('p95 is 963 ms against a p50 of 24 ms');
      expect(rec.detail).toContain('“Event loop blocked in shop: delays up to 2.2 s”');
    }
    const scanning = recommend(
      candidate('slow_query', {
        ...query,
        fingerprint: 'select * from shop_products where sku = ?',
        plan: plan({
          fullScanTables: ['shop_products'],
          filterColumns: [{ table: 'shop_products', column: 'sku', comparison: 'equality' }],
        }),
      }),
    );
    expect(scanning.summary).toBe('Add an index on shop_products (sku)');
  });

  it('indexes the sort of a plan that filters through an index but sorts outside it', () => {
    const rec = recommend(
      candidate('slow_query', {
        system: 'mariadb',
        fingerprint: 'select * from orders o where o.customer_id = ? order by o.created_at desc',
        tables: ['orders'],
        statementType: 'select',
        plan: plan({
          system: 'mariadb',
          sortWithoutIndex: true,
          sortColumns: [{ table: 'o', column: 'created_at', comparison: 'sort' }],
          indexesUsed: ['idx_customer'],
        }),
      }),
    );
    expect(rec.summary).toBe('Add an index on orders (customer_id, created_at)');
    expect(rec.detail).toContain('sorts the rows outside any index');
  });
});
