import { describe, expect, it } from 'vitest';
import { shapeStatement } from '../../../agent/explain/statement.js';

describe('shapeStatement', () => {
  it('keys a statement by its text without literals, comments or case', () => {
    const a = shapeStatement(
      "SELECT * FROM orders WHERE email = 'a@b.c' AND id > 42 -- newest",
      'postgresql',
    );
    const b = shapeStatement("select *\n  from orders where email = 'x''y@z' and id > 7", 'postgresql');
    expect(a).toEqual({ key: 'select * from orders where email = ? and id > ?', explainable: true });
    expect(b.key).toBe(a.key);
    // Placeholders and digits inside names stay.
    expect(shapeStatement('SELECT c2 FROM t1 WHERE id = $1', 'postgresql').key).toBe(
      'select c2 from t1 where id = $1',
    );
  });

  it('plans reads, and UPDATE and DELETE (EXPLAIN without ANALYZE runs none of them)', () => {
    for (const text of [
      'SELECT id FROM orders WHERE status = $1 ORDER BY created_at',
      '(SELECT 1) UNION (SELECT 2)',
      'WITH recent AS (SELECT * FROM orders WHERE created_at > $1) SELECT count(*) FROM recent',
      'SELECT * FROM carts WHERE id = $1 FOR UPDATE',
      'UPDATE carts SET items = items + 1 WHERE id = $1',
      'DELETE FROM sessions WHERE expires_at < now();',
    ]) {
      expect(shapeStatement(text, 'postgresql').explainable, text).toBe(true);
    }
  });

  it('refuses what could write, several statements, and what it cannot read with certainty', () => {
    const refused: Array<[string, 'postgresql' | 'sqlite' | 'mysql']> = [
      ['INSERT INTO orders (id) VALUES (1)', 'postgresql'],
      ['SELECT * INTO archive FROM orders', 'postgresql'],
      ['WITH gone AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM gone', 'postgresql'],
      ['SELECT 1; DELETE FROM orders', 'postgresql'],
      ['TRUNCATE orders', 'postgresql'],
      ['CREATE INDEX ON orders (email)', 'postgresql'],
      ['EXPLAIN ANALYZE SELECT 1', 'postgresql'],
      // Whether `\'` ends the string depends on server settings: a DELETE could hide behind it.
      ["SELECT 'a\\'; DELETE FROM orders; --'", 'postgresql'],
      ["SELECT 'unterminated", 'postgresql'],
      ['SELECT 1 /* unterminated', 'postgresql'],
      ['SELECT $a$ body', 'postgresql'],
      ['SELECT * FROM t WHERE id = 1 # comment\n; DELETE FROM t', 'mysql'],
      // MySQL may evaluate a stored function while planning.
      ['SELECT * FROM orders WHERE id = refill_stock(3)', 'mysql'],
      ['SELECT @n := @n + 1 FROM orders', 'mysql'],
      ['SELECT 1 INTO OUTFILE "/tmp/x"', 'mysql'],
      ['PRAGMA table_info(orders)', 'sqlite'],
    ];
    for (const [text, system] of refused) expect(shapeStatement(text, system).explainable, text).toBe(false);
  });

  it('reads quotes as each system does', () => {
    // Postgres: "…" is a name, and a comment opener inside a string is text.
    expect(shapeStatement('SELECT "into" FROM t WHERE a = \'/*\'', 'postgresql')).toEqual({
      key: 'select "into" from t where a = ?',
      explainable: true,
    });
    // MySQL: "…" is a string, `#` a comment; built-in functions are fine.
    expect(shapeStatement('SELECT COUNT(*) FROM `orders` WHERE note = "x" # why', 'mysql')).toEqual({
      key: 'select count(*) from `orders` where note = ?',
      explainable: true,
    });
    // Postgres: `#` is an operator, and a `;` after it is a second statement.
    expect(shapeStatement('SELECT 1 # 2; DELETE FROM t', 'postgresql').explainable).toBe(false);
    expect(shapeStatement('SELECT $body$ it; is $body$ FROM t', 'postgresql')).toEqual({
      key: 'select ? from t',
      explainable: true,
    });
  });
});
