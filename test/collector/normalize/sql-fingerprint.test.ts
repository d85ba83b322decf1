import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprintId, fingerprintSql, identifySql } from '../../../collector/normalize/sql-fingerprint.js';

const fp = (sql: string, dialect?: string): string => fingerprintSql(sql, dialect).fingerprint;

describe('fingerprintSql: equivalence classes', () => {
  it.each([
    ['integer', 'SELECT * FROM users WHERE id = 42'],
    ['negative', 'SELECT * FROM users WHERE id = -42'],
    ['decimal', 'SELECT * FROM users WHERE id = 3.25'],
    ['leading-dot decimal', 'SELECT * FROM users WHERE id = .5'],
    ['exponent', 'SELECT * FROM users WHERE id = 1.5E-10'],
    ['hex number', 'SELECT * FROM users WHERE id = 0xDEADBEEF'],
    ['string', "SELECT * FROM users WHERE id = 'abc'"],
    ['string with doubled quote', "SELECT * FROM users WHERE id = 'it''s'"],
    ['escape string', "SELECT * FROM users WHERE id = E'it\\'s'"],
    ['dollar quoted', "SELECT * FROM users WHERE id = $$it's$$"],
    ['tagged dollar quoted', 'SELECT * FROM users WHERE id = $body$ $$ nested $$ $body$'],
    ['bit string', "SELECT * FROM users WHERE id = B'0101'"],
    ['hex string', "SELECT * FROM users WHERE id = X'1F'"],
    ['national string', "SELECT * FROM users WHERE id = N'abc'"],
    ['unicode string', "SELECT * FROM users WHERE id = U&'d\\0061t'"],
    ['boolean', 'SELECT * FROM users WHERE id = TRUE'],
    ['numbered placeholder', 'SELECT * FROM users WHERE id = $1'],
    ['question mark', 'SELECT * FROM users WHERE id = ?'],
    ['named placeholder', 'SELECT * FROM users WHERE id = :userId'],
    ['at placeholder', 'SELECT * FROM users WHERE id = @p1'],
    ['lower case and odd spacing', 'select\n\t*   from USERS\r\n where ID=$1'],
    ['block comment', 'SELECT /* sqlcommenter traceparent=00-abc */ * FROM users WHERE id = 1'],
    ['line comment', 'SELECT * FROM users -- by id\nWHERE id = 1'],
    ['trailing semicolon', 'SELECT * FROM users WHERE id = 1;'],
  ])('%s folds to the same fingerprint', (_label, sql) => {
    expect(fp(sql, 'postgresql')).toBe('select * from users where id = ?');
  });

  it.each([
    ['one value', 'SELECT * FROM orders WHERE id IN (1)'],
    ['three values', 'SELECT * FROM orders WHERE id IN (1, 2, 3)'],
    ['placeholders', 'SELECT * FROM orders WHERE id IN ($1,$2,$3,$4,$5,$6)'],
    ['strings and null', "SELECT * FROM orders WHERE id IN ('a', 'b', NULL)"],
    ['tuples', 'SELECT * FROM orders WHERE id IN ((1, 2), (3, 4))'],
  ])('IN list with %s → in (...)', (_label, sql) => {
    expect(fp(sql)).toBe('select * from orders where id in (...)');
  });

  it('keeps an IN subquery', () => {
    expect(fp('SELECT * FROM orders WHERE user_id IN (SELECT id FROM users WHERE banned = false)')).toBe(
      'select * from orders where user_id in (select id from users where banned = ?)',
    );
  });

  it('collapses multi-row VALUES to the first row and ...', () => {
    const two = fp("INSERT INTO items (a, b) VALUES (1, 'x'), (2, 'y')", 'mysql');
    const many = fp(
      `INSERT INTO items (a, b) VALUES ${Array.from({ length: 50 }, (_, i) => `(${i}, 'v${i}')`).join(', ')}`,
    );
    expect(two).toBe('insert into items(a, b) values (?, ?), ...');
    expect(many).toBe(two);
  });

  it('keeps a single-row VALUES as it is, and what follows the rows', () => {
    expect(fp('INSERT INTO items (a) VALUES ($1)')).toBe('insert into items(a) values (?)');
    expect(fp('INSERT INTO t (a) VALUES (1), (2) ON CONFLICT (a) DO NOTHING', 'postgresql')).toBe(
      'insert into t(a) values (?), ... on conflict (a) do nothing',
    );
  });

  it('prints calls, casts, qualified names and operators canonically', () => {
    expect(
      fp("SELECT COUNT( * ), u.Name::TEXT, data->>'k' FROM public.users u WHERE tags @> $1", 'postgresql'),
    ).toBe('select count(*), u.name::text, data ->> ? from public.users u where tags @> ?');
    expect(fp('SELECT a-1, a - -1, a=-1, a<-1 FROM t')).toBe('select a - ?, a - ?, a = ?, a < ? from t');
  });

  it('keeps NULL, and quoted identifiers with their case and quotes', () => {
    expect(fp('SELECT "firstName" FROM "Users" WHERE "deletedAt" IS NULL', 'postgresql')).toBe(
      'select "firstName" from "Users" where "deletedAt" is null',
    );
  });
});

describe('fingerprintSql: dialect quirks', () => {
  it('MySQL: backslash escapes, double-quoted strings, # comments, backticks', () => {
    const sql =
      "SELECT `Name` FROM `Users` WHERE a = 'it\\'s' AND b = \"quoted\" # trailing comment\nAND c = 1";
    expect(fp(sql, 'mysql')).toBe('select `Name` from `Users` where a = ? and b = ? and c = ?');
    expect(fp(sql, 'mariadb')).toBe(fp(sql, 'mysql'));
  });

  it('MySQL: charset introducers and binary hex strings are literals; @variables are names', () => {
    expect(fp("SELECT _utf8mb4'abc', X'0A0B', @rownum, @@session.sql_mode", 'mysql')).toBe(
      'select ?, ?, @rownum, @@session.sql_mode',
    );
  });

  it('Postgres: a backslash does not escape in a standard string, only in E-strings', () => {
    expect(fp("SELECT 'C:\\', 'b'", 'postgresql')).toBe('select ?, ?');
    expect(fp("SELECT E'\\'', 'b'", 'postgresql')).toBe('select ?, ?');
  });

  it('Postgres: nested block comments, # as an operator, :: casts, $n placeholders', () => {
    expect(
      fp("SELECT /* a /* nested */ still comment */ doc #>> '{a,b}', $1::int FROM t", 'postgresql'),
    ).toBe('select doc #>> ?, ?::int from t');
  });

  it('SQLite: [bracketed] identifiers and ?NNN, :name, $name placeholders', () => {
    expect(
      fp('SELECT [Order Details].qty FROM [Order Details] WHERE id = ?1 AND sku = :sku AND n = $n', 'sqlite'),
    ).toBe('select [Order Details].qty from [Order Details] where id = ? and sku = ? and n = ?');
  });

  it('reads $tag$ quoting in every dialect, so a misnamed system cannot leak its text', () => {
    for (const dialect of ['postgresql', 'mysql', 'sqlite', undefined]) {
      expect(fp('SELECT $fn$ secret body $fn$, $$ more $$ FROM t', dialect)).toBe('select ?, ? from t');
    }
  });

  it('document stores: string values are literals, object keys are kept', () => {
    expect(fp('{"filter":{"email":"ann@example.com","age":{"$gt":30}}}', 'mongodb')).toBe(
      '{ "filter" : { "email" : ?, "age" : { "$gt" : ? } } }',
    );
  });

  it('caches per statement but not across dialects that read it differently', () => {
    const sql = 'SELECT "code" FROM t';
    const postgres = fingerprintSql(sql, 'postgresql');
    expect(fingerprintSql(sql, 'postgresql')).toBe(postgres);
    expect(fingerprintSql(sql, 'mysql').fingerprint).toBe('select ? from t');
    expect(fingerprintSql(sql, 'postgresql').fingerprint).toBe('select "code" from t');
  });

  it('gives the same fingerprint whether a text is new, missed once or cached, in each dialect', () => {
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 50; i++) {
        const parameterised = `SELECT "c${i}" FROM t WHERE id = $1`;
        expect(fp(parameterised, 'postgresql')).toBe(`select "c${i}" from t where id = ?`);
        expect(fp(parameterised, 'mysql')).toBe('select ? from t where id = ?');
        expect(fp(`SELECT * FROM t WHERE id = ${round * 50 + i}`, 'postgresql')).toBe(
          'select * from t where id = ?',
        );
      }
    }
  });

  it('finds a known fingerprint only as its own, whatever shares its slot', () => {
    // Statements with inline literals miss the statement cache every time and are found by their
    // fingerprint: 40,000 shapes over 16,384 slots, so many share one, each twice.
    const wrong: string[] = [];
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 40_000; i++) {
        const { fingerprint, tables } = fingerprintSql(`SELECT * FROM t${i} WHERE id = ${round * 7 + i}`);
        if (fingerprint !== `select * from t${i} where id = ?` || tables[0] !== `t${i}`)
          wrong.push(fingerprint);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('returns frozen results, since they are shared', () => {
    const result = fingerprintSql('SELECT * FROM frozen_check');
    expect(Object.isFrozen(result)).toBe(true);
    expect(() => result.tables.push('x')).toThrow(TypeError);
  });
});

describe('fingerprintSql: never throws on broken input', () => {
  it.each([
    ['unterminated string', "SELECT * FROM t WHERE a = 'secret and more", 'select * from t where a = ?'],
    ['unterminated E-string', "SELECT E'secret\\", 'select ?'],
    ['unterminated dollar quote', 'SELECT $$secret', 'select ?'],
    ['unterminated quoted identifier', 'SELECT "secret', 'select ?'],
    ['unterminated backtick', 'SELECT `secret', 'select ?'],
    ['unterminated block comment', 'SELECT 1 /* secret', 'select ?'],
    ['unbalanced parentheses', 'SELECT ((1', 'select ((?'],
    ['an IN list left open', 'SELECT * FROM t WHERE id IN (1, 2', 'select * from t where id in (?, ?'],
    [
      'a VALUES row left open',
      'INSERT INTO t (a, b) VALUES (1, 2), (3, 4',
      'insert into t(a, b) values (?, ?), (?, ?',
    ],
    [
      'a closed IN list before an open one',
      'SELECT a FROM t WHERE b IN ((1, 2), (3, 4)) AND c IN (5',
      'select a from t where b in (...) and c in (?',
    ],
    ['a CTE body left open', 'WITH x AS (SELECT 1 SELECT * FROM x', 'with x as (select ? select * from x'],
    ['empty', '', ''],
    ['only a comment', '-- nothing', ''],
  ])('%s', (_label, sql, expected) => {
    expect(fp(sql, 'postgresql')).toBe(expected);
  });

  it('mysql double-quoted string left open swallows the rest', () => {
    expect(fp('SELECT * FROM t WHERE a = "secret', 'mysql')).toBe('select * from t where a = ?');
  });

  it('survives arbitrary byte soup without throwing or leaking quoted secrets', () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = [
      '(',
      ')',
      "'",
      '"',
      '`',
      '$',
      '$$',
      '--',
      '/*',
      '*/',
      '\\',
      ',',
      ' ',
      'in',
      'values',
      '?',
      ':',
      '@',
      '1',
      'x',
      '\n',
      '#',
      '[',
    ];
    for (let round = 0; round < 2000; round++) {
      let sql = 'SELECT ';
      const length = Math.floor(random() * 30);
      for (let i = 0; i < length; i++) sql += alphabet[Math.floor(random() * alphabet.length)];
      for (const dialect of ['postgresql', 'mysql', 'sqlite', undefined]) {
        expect(() => fingerprintSql(sql, dialect)).not.toThrow();
        expect(fingerprintSql(`${sql} 'PLANTEDSECRET'`, dialect).fingerprint).not.toContain('PLANTEDSECRET');
      }
    }
  });
});

describe('fingerprintSql: privacy', () => {
  const email = 'ann.smith@example.com';
  const card = '4111111111111111';
  const token = 'sk_live_51HqLyjWDarjtT1zdp7dc';
  const planted = [
    ['string', (value: string) => `SELECT * FROM t WHERE a = '${value}'`],
    ['escape string', (value: string) => `SELECT * FROM t WHERE a = E'${value}'`],
    ['dollar quoted', (value: string) => `SELECT * FROM t WHERE a = $q$${value}$q$`],
    ['IN list', (value: string) => `SELECT * FROM t WHERE a IN ('${value}', '${value}')`],
    ['VALUES rows', (value: string) => `INSERT INTO t (a, b) VALUES ('x', '${value}'), ('${value}', 'y')`],
    ['unterminated', (value: string) => `SELECT * FROM t WHERE a = 'x' OR b = '${value}`],
    ['comment', (value: string) => `SELECT 1 /* user=${value} */ FROM t -- ${value}`],
  ] as const;

  it.each(planted)(
    '%s: planted email, card number and token never survive (all dialects)',
    (_label, build) => {
      for (const dialect of ['postgresql', 'mysql', 'sqlite', 'mssql']) {
        for (const value of [email, card, token]) {
          const { fingerprint, tables } = fingerprintSql(build(value), dialect);
          for (const fragment of [value, 'ann.smith', 'example.com', '4111', 'sk_live']) {
            expect(fingerprint).not.toContain(fragment);
            expect(tables.join(' ')).not.toContain(fragment);
          }
        }
      }
    },
  );

  it('a bare card number and MySQL double-quoted email are folded too', () => {
    expect(fp(`UPDATE cards SET number = ${card} WHERE owner = "${email}"`, 'mysql')).toBe(
      'update cards set number = ? where owner = ?',
    );
  });
});

describe('fingerprintSql: statement type', () => {
  it.each([
    ['SELECT 1', 'select'],
    ['(SELECT 1) UNION (SELECT 2)', 'select'],
    ['VALUES (1), (2)', 'select'],
    ['WITH x AS (SELECT 1) SELECT * FROM x', 'select'],
    ['WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT * FROM t', 'select'],
    ['WITH moved AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM moved', 'insert'],
    ['WITH x AS (SELECT 1) UPDATE t SET a = 1', 'update'],
    ['INSERT INTO t VALUES (1)', 'insert'],
    ['REPLACE INTO t VALUES (1)', 'insert'],
    ['UPDATE t SET a = 1', 'update'],
    ['DELETE FROM t', 'delete'],
    ['BEGIN', 'transaction'],
    ['START TRANSACTION', 'transaction'],
    ['COMMIT', 'transaction'],
    ['ROLLBACK TO SAVEPOINT s1', 'transaction'],
    ['SAVEPOINT s1', 'transaction'],
    ['RELEASE SAVEPOINT s1', 'transaction'],
    ['CREATE TABLE t (id int)', 'ddl'],
    ['ALTER TABLE t ADD COLUMN b int', 'ddl'],
    ['DROP INDEX i', 'ddl'],
    ['TRUNCATE t', 'ddl'],
    ['SET search_path TO public', 'other'],
    ['SHOW TABLES', 'other'],
    ['EXPLAIN SELECT 1', 'other'],
    ['/* leading comment */ select 1', 'select'],
    ['', 'other'],
  ])('%s → %s', (sql, type) => {
    expect(fingerprintSql(sql).statementType).toBe(type);
  });
});

describe('fingerprintSql: tables', () => {
  it.each([
    ['SELECT * FROM users', ['users']],
    [
      'SELECT * FROM public.users u JOIN public.orders AS o ON o.user_id = u.id',
      ['public.users', 'public.orders'],
    ],
    ['SELECT * FROM "Users" JOIN `order_items` ON 1 = 1', ['Users', 'order_items']],
    ['SELECT * FROM "My Schema"."Big ""Table"""', ['My Schema.Big "Table"']],
    ['SELECT * FROM a, b AS bb, c cc WHERE a.id = b.id', ['a', 'b', 'c']],
    ['SELECT * FROM a LEFT OUTER JOIN b ON true NATURAL JOIN c CROSS JOIN d', ['a', 'b', 'c', 'd']],
    ['SELECT * FROM (SELECT * FROM inner_t) sub JOIN other ON true', ['inner_t', 'other']],
    ['SELECT * FROM orders WHERE user_id IN (SELECT id FROM users)', ['orders', 'users']],
    ['SELECT * FROM t1 UNION SELECT * FROM t1', ['t1']],
    ['SELECT * FROM ONLY parent', ['parent']],
    ['SELECT * FROM generate_series(1, 3) g JOIN LATERAL (SELECT 1) x ON true', []],
    ['SELECT extract(year FROM created_at), substring(name FROM 2) FROM events', ['events']],
    ['SELECT * FROM a WHERE x IS DISTINCT FROM y', ['a']],
    ['SELECT * FROM jobs FOR UPDATE SKIP LOCKED', ['jobs']],
    ['INSERT INTO audit.log (a, b) SELECT a, b FROM staging', ['audit.log', 'staging']],
    ['INSERT INTO t(a) VALUES (1) ON DUPLICATE KEY UPDATE a = VALUES(a)', ['t']],
    ['INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = excluded.a', ['t']],
    ['INSERT IGNORE INTO t VALUES (1)', ['t']],
    ['UPDATE LOW_PRIORITY accounts SET balance = 0 WHERE id = 1', ['accounts']],
    ['UPDATE a, b SET a.x = b.x WHERE a.id = b.id', ['a', 'b']],
    ['DELETE FROM sessions USING users WHERE sessions.user_id = users.id', ['sessions']],
    ['WITH recent AS (SELECT * FROM orders) SELECT * FROM recent JOIN users ON true', ['orders', 'users']],
    ['CREATE TABLE t (id int REFERENCES u (id) ON UPDATE CASCADE)', []],
    ['SELECT 1', []],
  ])('%s → %j', (sql, tables) => {
    expect(fingerprintSql(sql).tables).toEqual(tables);
  });

  it('reads [bracketed] SQLite tables without brackets', () => {
    expect(fingerprintSql('SELECT * FROM [Order Details]', 'sqlite').tables).toEqual(['Order Details']);
  });
});

describe('fingerprintId', () => {
  it('is the first 16 hex characters of sha256(system NUL fingerprint)', () => {
    const expected = createHash('sha256').update('postgresql\0select ?').digest('hex').slice(0, 16);
    expect(fingerprintId('postgresql', 'select ?')).toBe(expected);
    expect(fingerprintId('postgresql', 'select ?')).toMatch(/^[0-9a-f]{16}$/);
  });

  it('differs between systems and between fingerprints', () => {
    const ids = new Set([
      fingerprintId('postgresql', 'select ?'),
      fingerprintId('mysql', 'select ?'),
      fingerprintId('postgresql', 'select ? from t'),
    ]);
    expect(ids.size).toBe(3);
    // Served from its cache after a different system asked: still the right id.
    expect(fingerprintId('postgresql', 'select ?')).toBe(
      createHash('sha256').update('postgresql\0select ?').digest('hex').slice(0, 16),
    );
  });
});

describe('identifySql', () => {
  it('answers what fingerprintSql and fingerprintId answer, for each system that asks', () => {
    // Both systems read SQL with the generic lexicon, so they share one cached entry.
    const sql = 'SELECT name FROM accounts WHERE id = 41';
    for (const system of ['cockroachdb', 'h2', 'cockroachdb']) {
      const { result, id } = identifySql(sql, system);
      expect(result).toEqual(fingerprintSql(sql, system));
      expect(id).toBe(fingerprintId(system, 'select name from accounts where id = ?'));
    }
  });

  it('gives statements that differ only in literals the same result, tables included', () => {
    const first = identifySql("INSERT INTO ledger (amount, note) VALUES (12.50, 'a')", 'postgresql');
    const second = identifySql("INSERT INTO ledger (amount, note) VALUES (99, 'b')", 'postgresql');
    expect(second.result).toBe(first.result);
    expect(second.id).toBe(first.id);
    expect(first.result).toEqual({
      fingerprint: 'insert into ledger(amount, note) values (?, ?)',
      statementType: 'insert',
      tables: ['ledger'],
    });
  });
});
