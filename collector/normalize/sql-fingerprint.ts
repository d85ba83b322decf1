/**
 * SQL fingerprints: one canonical text per statement shape, with every literal gone.
 *
 * A single-pass tokenizer drops comments, turns literals and placeholders into `?`
 * and lowercases keywords and unquoted identifiers; a second pass over the tokens
 * collapses `IN` lists and multi-row `VALUES`, reads the statement type and the
 * tables, and prints the tokens with canonical spacing. Both passes are linear and
 * use no regular expressions, so hostile statements cannot make them slow, and
 * they never throw: an unterminated string or comment swallows the rest of the text.
 *
 * Canonical forms:
 * - literals (strings, numbers, booleans) and placeholders (`$1`, `?`, `:name`, `$name`, `@p1`) → `?`;
 *   `null` is kept: `is null` and `= ?` are different shapes;
 * - `IN (?, ?, …)` of any length → `in (...)`;
 * - `VALUES (?, ?), (?, ?), …` → `values (?, ?), ...` (a single row stays as it is);
 * - one space between tokens, none inside `(…)`, before `,` or around `.` and `::`;
 *   a non-keyword word touching `(` is a call or a column list: `count(*)`, `users(a, b)`.
 */
import { createHash } from 'node:crypto';
import type { StatementType } from '../../model/index.js';
import { LruCache } from './lru-cache.js';

/** `postgresql`, `mysql`, `mariadb`, `sqlite`, or any other `db.system.name`. */
export type SqlDialect = 'postgresql' | 'mysql' | 'mariadb' | 'sqlite' | (string & {});

export interface SqlFingerprint {
  /** The statement with literals replaced, lists collapsed, case and whitespace folded. */
  fingerprint: string;
  statementType: StatementType;
  /** Tables read or written, schema-qualified when the statement qualifies them, without quotes. Frozen. */
  tables: string[];
}

/** How many distinct statements the fingerprint cache remembers. */
const CACHE_ENTRIES = 10_000;
/** Longer statements usually inline their values, so they would never repeat: not worth caching. */
const MAX_CACHED_SQL_LENGTH = 4096;

/** Lexical rules that differ between databases. */
interface Lexicon {
  /** Backslash escapes inside '…' (MySQL's default; Postgres only in E'…'). */
  backslashEscapes: boolean;
  /** "…" is a string (MySQL), not a quoted identifier. */
  doubleQuotedStrings: boolean;
  /** `#` starts a comment (MySQL). */
  hashComments: boolean;
  /** Block comments nest (Postgres). */
  nestedComments: boolean;
  /** `[name]` is a quoted identifier (SQLite, SQL Server), not a subscript. */
  bracketIdentifiers: boolean;
  /** `@name` is a variable (MySQL) rather than a bind parameter (SQL Server, SQLite). */
  atVariables: boolean;
  /** "…" holds a string value unless it is an object key followed by `:` (MongoDB, Elasticsearch). */
  documentStrings: boolean;
}

const POSTGRES: Lexicon = {
  backslashEscapes: false,
  doubleQuotedStrings: false,
  hashComments: false,
  nestedComments: true,
  bracketIdentifiers: false,
  atVariables: false,
  documentStrings: false,
};
const MYSQL: Lexicon = {
  ...POSTGRES,
  backslashEscapes: true,
  doubleQuotedStrings: true,
  hashComments: true,
  nestedComments: false,
  atVariables: true,
};
const SQLITE: Lexicon = { ...POSTGRES, nestedComments: false, bracketIdentifiers: true };
const GENERIC: Lexicon = { ...POSTGRES, nestedComments: false, bracketIdentifiers: true };
const DOCUMENT: Lexicon = { ...GENERIC, documentStrings: true };

const LEXICONS: Record<string, Lexicon> = {
  postgresql: POSTGRES,
  postgres: POSTGRES,
  cockroachdb: POSTGRES,
  redshift: POSTGRES,
  mysql: MYSQL,
  mariadb: MYSQL,
  tidb: MYSQL,
  sqlite: SQLITE,
  mongodb: DOCUMENT,
  elasticsearch: DOCUMENT,
  opensearch: DOCUMENT,
  couchdb: DOCUMENT,
  dynamodb: DOCUMENT,
  'aws.dynamodb': DOCUMENT,
  cosmosdb: DOCUMENT,
  'azure.cosmosdb': DOCUMENT,
};

/** Token kinds. Literals and placeholders share one kind: both print as `?`. */
const WORD = 0;
const QUOTED_IDENTIFIER = 1;
const LITERAL = 2;
const PUNCTUATION = 3;
const OPERATOR = 4;

interface Tokens {
  kinds: number[];
  texts: string[];
}

/**
 * Words that are syntax, not names: they print with a space before `(`, are never
 * aliases or table names, and a `-` after them is a sign, not a subtraction.
 */
const KEYWORDS = new Set(
  (
    'all and any array as asc begin between by call case check collate commit conflict constraint create cross ' +
    'default delayed delete desc distinct do drop duplicate else end escape except exists explain fetch filter ' +
    'first for force from full group having high_priority if ignore ilike in index inner insert intersect ' +
    'interval into is join key last lateral left like limit locked low_priority natural not nothing nowait ' +
    'null nulls of offset on only or order outer over partition quick recursive references replace returning ' +
    'right rollback row savepoint select set share similar skip some straight_join table then to truncate ' +
    'union unique update use using value values when where window with within'
  ).split(' '),
);

const TRANSACTION_WORDS = new Set([
  'begin',
  'start',
  'commit',
  'rollback',
  'savepoint',
  'release',
  'end',
  'abort',
]);
const DDL_WORDS = new Set(['create', 'alter', 'drop', 'truncate', 'rename', 'comment']);
/** Words between a table clause keyword and the table itself. */
const TABLE_MODIFIERS = new Set([
  'only',
  'lateral',
  'low_priority',
  'high_priority',
  'ignore',
  'delayed',
  'quick',
  'outfile',
  'dumpfile',
]);

/** A cached fingerprint, and its id for the system last asked (`identifySql`): `''` until asked. */
interface CachedFingerprint {
  readonly lexicon: Lexicon;
  readonly result: SqlFingerprint;
  system: string;
  id: string;
}

/** An identified statement: its fingerprint and `fingerprintId(system, fingerprint)`. Shared: read only. */
export interface IdentifiedSql {
  readonly result: SqlFingerprint;
  readonly id: string;
}

const cache = new LruCache<string, CachedFingerprint>(CACHE_ENTRIES);
/**
 * Entries by fingerprint: statements with inline literals miss the cache above every time, but
 * their fingerprint repeats, and its type, tables and id are the fingerprint's. One frozen result
 * per fingerprint, rather than a new one (and tables array) per statement text held.
 */
const byFingerprint = new LruCache<string, CachedFingerprint>(CACHE_ENTRIES);
/**
 * The same entries by a hash of their fingerprint taken as it is rendered (one per slot, the newest
 * winning; a power of two), checked first: `byFingerprint` hashes a fingerprint only once it is
 * flattened, a copy of the few dozen pieces `render` joins, which was most of its lookup's cost.
 */
const FINGERPRINT_SLOTS = 1 << 14;
const fingerprintSlots: (CachedFingerprint | undefined)[] = new Array<CachedFingerprint | undefined>(
  FINGERPRINT_SLOTS,
).fill(undefined);
/** The hash of the fingerprint `render` returned last (FNV-1a over its code units). */
let renderedHash = 0;

/**
 * Fingerprints a statement: the same query with other literals, IN-list lengths,
 * spacing or keyword case yields the same fingerprint. Results are cached and
 * shared, so they are frozen.
 *
 * @example
 * fingerprintSql("SELECT * FROM users WHERE id IN (1, 2, 3) AND name = 'Ann'", 'postgresql');
 * // { fingerprint: 'select * from users where id in (...) and name = ?', statementType: 'select', tables: ['users'] }
 */
export function fingerprintSql(sql: string, dialect?: SqlDialect): SqlFingerprint {
  return cachedFingerprint(sql, dialect).result;
}

/**
 * `fingerprintSql` and `fingerprintId` in one cache lookup: the id is kept with the cached
 * fingerprint, since normalising a statement asks for both every time.
 *
 * @example
 * identifySql('SELECT * FROM users WHERE id = 7', 'postgresql');
 * // { result: { fingerprint: 'select * from users where id = ?', … }, id: '3f1c…' }
 */
export function identifySql(sql: string, system: string): IdentifiedSql {
  const entry = cachedFingerprint(sql, system);
  if (entry.system !== system || entry.id === '') {
    entry.id = fingerprintId(system, entry.result.fingerprint);
    entry.system = system;
  }
  return entry;
}

function cachedFingerprint(sql: string, dialect: SqlDialect | undefined): CachedFingerprint {
  const lexicon = (dialect && LEXICONS[dialect.toLowerCase()]) || GENERIC;
  const cacheable = sql.length <= MAX_CACHED_SQL_LENGTH;
  if (cacheable) {
    const cached = cache.get(sql);
    if (cached?.lexicon === lexicon) return cached;
  }
  const tokens = tokenize(sql, lexicon);
  trimTrailingSemicolons(tokens);
  const matches = matchParentheses(tokens);
  const fingerprint = render(tokens, matches);
  const slot = renderedHash & (FINGERPRINT_SLOTS - 1);
  let entry = fingerprintSlots[slot];
  // Compared as rendered: a string of a few dozen pieces, which a Map lookup would first flatten.
  if (entry?.lexicon !== lexicon || entry.result.fingerprint !== fingerprint) {
    entry = byFingerprint.get(fingerprint);
    if (entry?.lexicon !== lexicon) {
      const result: SqlFingerprint = Object.freeze({
        fingerprint,
        statementType: statementTypeOf(tokens, matches),
        // Copied to its exact length: an array grown by push keeps 17 slots, and one is held per fingerprint.
        tables: Object.freeze(tablesOf(tokens, matches).slice()) as string[],
      });
      entry = { lexicon, result, system: '', id: '' };
      byFingerprint.set(fingerprint, entry);
    }
    fingerprintSlots[slot] = entry;
  }
  if (cacheable && missedBefore(sql)) cache.set(sql, entry);
  return entry;
}

/**
 * Texts missed once, by hash (one slot per hash value, the newest text wins it): a text enters the
 * cache on its second miss. Statements with inline literals rarely repeat; cached on first sight,
 * they pushed the repeating ones out (a tenth of the ingest workload's parameterised statements were
 * fingerprinted again) and were held long enough for the garbage collector to promote each one.
 */
const missedOnce = new Int32Array(1 << 14);

function missedBefore(sql: string): boolean {
  // FNV-1a over the UTF-16 code units: a collision only lets a text into the cache early.
  let hash = 0x811c9dc5;
  for (let i = 0; i < sql.length; i++) hash = Math.imul(hash ^ sql.charCodeAt(i), 0x01000193);
  const slot = hash & (missedOnce.length - 1);
  if (missedOnce[slot] === hash) return true;
  missedOnce[slot] = hash;
  return false;
}

const idCache = new LruCache<string, { system: string; id: string }>(CACHE_ENTRIES);

/**
 * A short stable id for a fingerprint within a database system: 16 hex characters
 * of SHA-256, so that ids survive restarts and match across collectors.
 *
 * @example
 * fingerprintId('postgresql', 'select * from users where id = ?'); // '3f1c…' (16 characters)
 */
export function fingerprintId(system: string, fingerprint: string): string {
  const cached = idCache.get(fingerprint);
  if (cached?.system === system) return cached.id;
  // The first 8 bytes as hex: a string of its own, where slicing the whole digest's hex kept all
  // 64 characters behind each id (every map keyed by fingerprint id reads through it).
  const id = createHash('sha256')
    .update(system)
    .update('\0')
    .update(fingerprint)
    .digest()
    .toString('hex', 0, 8);
  idCache.set(fingerprint, { system, id });
  return id;
}

// ---------------------------------------------------------------------------
// Pass 1: characters → tokens

function isIdentifierStart(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95 || code >= 128;
}

function isIdentifierPart(code: number): boolean {
  return isIdentifierStart(code) || isDigit(code) || code === 36;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

/** Characters that make up operators (`<>`, `->>`, `@>`, `||`, `::`). */
function isOperatorChar(code: number): boolean {
  // ! # % & * + - / : < = > ? @ ^ | ~
  return (
    code === 33 ||
    code === 35 ||
    code === 37 ||
    code === 38 ||
    code === 42 ||
    code === 43 ||
    code === 45 ||
    code === 47 ||
    code === 58 ||
    (code >= 60 && code <= 64) ||
    code === 94 ||
    code === 124 ||
    code === 126
  );
}

function tokenize(sql: string, lexicon: Lexicon): Tokens {
  const kinds: number[] = [];
  const texts: string[] = [];
  const length = sql.length;
  let i = 0;
  while (i < length) {
    const code = sql.charCodeAt(i);
    const next = i + 1 < length ? sql.charCodeAt(i + 1) : 0;
    if (isSpace(code)) {
      i++;
    } else if ((code === 45 && next === 45) || (code === 35 && lexicon.hashComments)) {
      const newline = sql.indexOf('\n', i);
      i = newline === -1 ? length : newline + 1;
    } else if (code === 47 && next === 42) {
      i = skipBlockComment(sql, i, lexicon.nestedComments);
    } else if (code === 39) {
      i = skipQuoted(sql, i, 39, lexicon.backslashEscapes);
      pushLiteral(kinds, texts);
    } else if (code === 34) {
      const end = skipQuoted(sql, i, 34, lexicon.doubleQuotedStrings || lexicon.documentStrings);
      if (lexicon.doubleQuotedStrings || (lexicon.documentStrings && !isObjectKey(sql, end)))
        pushLiteral(kinds, texts);
      else
        push(
          kinds,
          texts,
          end > length ? LITERAL : QUOTED_IDENTIFIER,
          end > length ? '?' : sql.slice(i, end),
        );
      i = end;
    } else if (code === 96 || (code === 91 && lexicon.bracketIdentifiers)) {
      const end = skipQuoted(sql, i, code === 91 ? 93 : 96, false);
      push(kinds, texts, end > length ? LITERAL : QUOTED_IDENTIFIER, end > length ? '?' : sql.slice(i, end));
      i = end;
    } else if (
      isDigit(code) ||
      (code === 46 && isDigit(next) && !endsOperand(kinds, texts, texts.length - 1))
    ) {
      i = skipNumber(sql, i);
      pushLiteral(kinds, texts);
    } else if (isIdentifierStart(code)) {
      let end = i + 1;
      while (end < length && isIdentifierPart(sql.charCodeAt(end))) end++;
      const word = sql.slice(i, end).toLowerCase();
      const after = end < length ? sql.charCodeAt(end) : 0;
      if (after === 39 && isStringPrefix(word, lexicon)) {
        // E'…', X'…', B'…', N'…', MySQL charset introducers (_utf8mb4'…'): the prefix belongs to the literal.
        i = skipQuoted(sql, end, 39, lexicon.backslashEscapes || word === 'e');
        pushLiteral(kinds, texts);
      } else if (word === 'u' && after === 38 && sql.charCodeAt(end + 1) === 39) {
        i = skipQuoted(sql, end + 1, 39, false);
        pushLiteral(kinds, texts);
      } else if (word === 'true' || word === 'false') {
        i = end;
        pushLiteral(kinds, texts);
      } else {
        i = end;
        push(kinds, texts, WORD, word);
      }
    } else if (code === 36 && isDigit(next)) {
      i += 2;
      while (i < length && isDigit(sql.charCodeAt(i))) i++;
      pushLiteral(kinds, texts);
    } else if (code === 36 && (next === 36 || isIdentifierStart(next))) {
      // Postgres `$tag$…$tag$` quoting, recognised everywhere: read as names elsewhere, its text would leak.
      // Without a closing `$` it is SQLite's `$name` parameter.
      const tagEnd = dollarTagEnd(sql, i);
      if (tagEnd === -1) {
        i += 2;
        while (i < length && isIdentifierPart(sql.charCodeAt(i))) i++;
      } else {
        const close = sql.indexOf(sql.slice(i, tagEnd), tagEnd);
        i = close === -1 ? length : close + (tagEnd - i);
      }
      pushLiteral(kinds, texts);
    } else if (code === 63) {
      // `?` and SQLite's `?NNN`.
      i++;
      while (i < length && isDigit(sql.charCodeAt(i))) i++;
      pushLiteral(kinds, texts);
    } else if (code === 58 && next === 58) {
      i += 2;
      push(kinds, texts, OPERATOR, '::');
    } else if ((code === 58 || (code === 64 && !lexicon.atVariables)) && isIdentifierStart(next)) {
      // :name and @name bind parameters.
      i += 2;
      while (i < length && isIdentifierPart(sql.charCodeAt(i))) i++;
      pushLiteral(kinds, texts);
    } else if (code === 64 && lexicon.atVariables && (next === 64 || isIdentifierStart(next))) {
      // MySQL @variable and @@system.variable: names, not values.
      let end = i + (next === 64 ? 2 : 1);
      while (end < length && (isIdentifierPart(sql.charCodeAt(end)) || sql.charCodeAt(end) === 46)) end++;
      push(kinds, texts, WORD, sql.slice(i, end).toLowerCase());
      i = end;
    } else if (isOperatorChar(code)) {
      const end = operatorEnd(sql, i, lexicon);
      push(kinds, texts, OPERATOR, sql.slice(i, end));
      i = end;
    } else {
      // ( ) , ; . [ ] { } and anything unexpected.
      push(kinds, texts, PUNCTUATION, sql[i] ?? '');
      i++;
    }
  }
  return { kinds, texts };
}

function push(kinds: number[], texts: string[], kind: number, text: string): void {
  kinds.push(kind);
  texts.push(text);
}

/** A literal; a sign just before it is folded in when it cannot be a subtraction. */
function pushLiteral(kinds: number[], texts: string[]): void {
  const last = texts.length - 1;
  if (
    kinds[last] === OPERATOR &&
    (texts[last] === '-' || texts[last] === '+') &&
    !endsOperand(kinds, texts, last - 1)
  ) {
    kinds.pop();
    texts.pop();
  }
  push(kinds, texts, LITERAL, '?');
}

/** True when the token at `index` ends an operand, so that a following `-` subtracts. */
function endsOperand(kinds: number[], texts: string[], index: number): boolean {
  const kind = kinds[index];
  const text = texts[index] ?? '';
  if (kind === LITERAL || kind === QUOTED_IDENTIFIER) return true;
  if (kind === WORD) return !KEYWORDS.has(text);
  return kind === PUNCTUATION && (text === ')' || text === ']');
}

function isStringPrefix(word: string, lexicon: Lexicon): boolean {
  if (word.length === 1) return word === 'e' || word === 'x' || word === 'b' || word === 'n';
  return lexicon === MYSQL && word.charCodeAt(0) === 95;
}

/** Index after a closing quote; `length + 1` when the quote never closes, so callers can tell. */
function skipQuoted(sql: string, start: number, quote: number, backslashEscapes: boolean): number {
  const length = sql.length;
  let i = start + 1;
  while (i < length) {
    const code = sql.charCodeAt(i);
    if (backslashEscapes && code === 92) {
      i += 2;
    } else if (code === quote) {
      // A doubled quote is an escaped quote: 'it''s', "a""b", [a]]b].
      if (sql.charCodeAt(i + 1) === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return length + 1;
}

/** After a "…" string: is the next non-space character a `:`, making the string an object key? */
function isObjectKey(sql: string, end: number): boolean {
  let i = end;
  while (i < sql.length && isSpace(sql.charCodeAt(i))) i++;
  return sql.charCodeAt(i) === 58;
}

function skipBlockComment(sql: string, start: number, nested: boolean): number {
  if (!nested) {
    const close = sql.indexOf('*/', start + 2);
    return close === -1 ? sql.length : close + 2;
  }
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql.charCodeAt(i) === 47 && sql.charCodeAt(i + 1) === 42) {
      depth++;
      i += 2;
    } else if (sql.charCodeAt(i) === 42 && sql.charCodeAt(i + 1) === 47) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return sql.length;
}

/** Decimals, exponents, hex `0x1F` and binary `0b101`; trailing letters belong to the literal too. */
function skipNumber(sql: string, start: number): number {
  const length = sql.length;
  let i = start;
  const second = sql.charCodeAt(i + 1) | 32;
  if (sql.charCodeAt(i) === 48 && (second === 120 || second === 98)) {
    i += 2;
  } else {
    while (i < length && isDigit(sql.charCodeAt(i))) i++;
    if (sql.charCodeAt(i) === 46) {
      i++;
      while (i < length && isDigit(sql.charCodeAt(i))) i++;
    }
    if ((sql.charCodeAt(i) | 32) === 101) {
      const sign = sql.charCodeAt(i + 1);
      const digitAt = sign === 43 || sign === 45 ? i + 2 : i + 1;
      if (isDigit(sql.charCodeAt(digitAt))) {
        i = digitAt;
        while (i < length && isDigit(sql.charCodeAt(i))) i++;
      }
    }
  }
  while (i < length && isIdentifierPart(sql.charCodeAt(i))) i++;
  return i;
}

/** End of a `$tag$` opener at `start` (`$$` or `$name$`), or -1. */
function dollarTagEnd(sql: string, start: number): number {
  let i = start + 1;
  if (sql.charCodeAt(i) === 36) return i + 1;
  if (!isIdentifierStart(sql.charCodeAt(i))) return -1;
  while (i < sql.length) {
    const code = sql.charCodeAt(i);
    if (code === 36) return i + 1;
    if (!isIdentifierPart(code)) return -1;
    i++;
  }
  return -1;
}

/**
 * End of an operator run. A run stops where a comment starts, and like Postgres's
 * lexer drops a trailing `+`/`-` so that `a=-1` reads as `a = -1`.
 */
function operatorEnd(sql: string, start: number, lexicon: Lexicon): number {
  let end = start;
  let special = false;
  while (end < sql.length) {
    const code = sql.charCodeAt(end);
    if (!isOperatorChar(code)) break;
    const next = sql.charCodeAt(end + 1);
    if (end > start && ((code === 45 && next === 45) || (code === 47 && next === 42))) break;
    if (end > start && code === 35 && lexicon.hashComments) break;
    // `?` and `:` start bind parameters, `@name` too outside MySQL: they cannot continue an operator.
    if (end > start && (code === 63 || (code === 58 && next !== 58 && next !== 61))) break;
    if (end > start && code === 64 && !lexicon.atVariables && isIdentifierStart(next)) break;
    if (
      code === 126 ||
      code === 33 ||
      code === 64 ||
      code === 35 ||
      code === 37 ||
      code === 94 ||
      code === 38 ||
      code === 124
    ) {
      special = true;
    }
    end++;
  }
  if (!special) {
    while (end - start > 1 && (sql.charCodeAt(end - 1) === 45 || sql.charCodeAt(end - 1) === 43)) end--;
  }
  return end;
}

// ---------------------------------------------------------------------------
// Pass 2: tokens → fingerprint, statement type, tables

function trimTrailingSemicolons(tokens: Tokens): void {
  while (tokens.kinds.length > 0 && tokens.texts[tokens.texts.length - 1] === ';') {
    tokens.kinds.pop();
    tokens.texts.pop();
  }
}

/**
 * For each `(`, the index of its `)`; empty for an unbalanced one, and for every other token.
 * A plain array left empty rather than an `Int32Array` filled with -1: constructing a typed array
 * cost more than the rest of the pass (readers take empty as -1).
 */
function matchParentheses(tokens: Tokens): number[] {
  const { kinds, texts } = tokens;
  const matches = new Array<number>(kinds.length);
  const open: number[] = [];
  for (let i = 0; i < kinds.length; i++) {
    if (kinds[i] !== PUNCTUATION) continue;
    if (texts[i] === '(') open.push(i);
    else if (texts[i] === ')') {
      const start = open.pop();
      if (start !== undefined) matches[start] = i;
    }
  }
  return matches;
}

/** True when a parenthesised group holds only placeholders, commas, nulls and nested groups. */
function isValueList(tokens: Tokens, open: number, close: number): boolean {
  if (close <= open + 1) return false;
  for (let i = open + 1; i < close; i++) {
    const kind = tokens.kinds[i];
    const text = tokens.texts[i];
    if (kind === LITERAL || text === ',' || text === '(' || text === ')' || text === 'null') continue;
    return false;
  }
  return true;
}

function render(tokens: Tokens, matches: number[]): string {
  const { kinds, texts } = tokens;
  let out = '';
  let previousKind = -1;
  let previousText = '';
  let hash = 0x811c9dc5;
  const emit = (kind: number, text: string): void => {
    if (previousKind !== -1 && needsSpace(previousKind, previousText, kind, text)) {
      out += ' ';
      hash = Math.imul(hash ^ 32, 0x01000193);
    }
    out += text;
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
    previousKind = kind;
    previousText = text;
  };
  /** After the first row of a multi-row VALUES: where the first row ends, and where the rows end. */
  let firstRowEnd = -1;
  let rowsEnd = -1;
  for (let i = 0; i < kinds.length; i++) {
    const kind = kinds[i] ?? PUNCTUATION;
    const text = texts[i] ?? '';
    const close = texts[i + 1] === '(' ? (matches[i + 1] ?? -1) : -1;
    if (kind === WORD && text === 'in' && close !== -1 && isValueList(tokens, i + 1, close)) {
      emit(WORD, 'in');
      emit(PUNCTUATION, '(');
      emit(PUNCTUATION, '...');
      emit(PUNCTUATION, ')');
      i = close;
      continue;
    }
    if (kind === WORD && (text === 'values' || text === 'value') && close !== -1 && firstRowEnd === -1) {
      let end = close + 1;
      while (texts[end] === ',' && texts[end + 1] === '(' && (matches[end + 1] ?? -1) !== -1) {
        end = (matches[end + 1] ?? end) + 1;
      }
      if (end > close + 1) {
        firstRowEnd = close;
        rowsEnd = end;
      }
    }
    emit(kind, text);
    if (i === firstRowEnd) {
      emit(PUNCTUATION, ',');
      emit(PUNCTUATION, '...');
      i = rowsEnd - 1;
      firstRowEnd = -1;
    }
  }
  renderedHash = hash ^ (hash >>> 15);
  return out;
}

function needsSpace(previousKind: number, previousText: string, kind: number, text: string): boolean {
  if (previousText === '(' || previousText === '[' || previousText === '.' || previousText === '::')
    return false;
  if (
    kind === PUNCTUATION &&
    (text === ',' || text === ')' || text === ']' || text === '.' || text === ';')
  ) {
    return false;
  }
  if (text === '::' || text === '[') return false;
  if (text === '(') {
    if (previousKind === QUOTED_IDENTIFIER) return false;
    if (previousKind === WORD) return KEYWORDS.has(previousText);
  }
  return true;
}

/** Index of the first word at the outermost level, skipping opening parentheses. */
function firstWordIndex(tokens: Tokens): number {
  let i = 0;
  while (i < tokens.kinds.length && tokens.texts[i] === '(') i++;
  return tokens.kinds[i] === WORD ? i : -1;
}

function statementTypeOf(tokens: Tokens, matches: number[]): StatementType {
  const first = firstWordIndex(tokens);
  if (first === -1) return 'other';
  let word = tokens.texts[first] ?? '';
  if (word === 'with') word = mainStatementWord(tokens, matches, first + 1);
  switch (word) {
    case 'select':
    case 'values':
    case 'table':
      return 'select';
    case 'insert':
    case 'replace':
      return 'insert';
    case 'update':
      return 'update';
    case 'delete':
      return 'delete';
  }
  if (TRANSACTION_WORDS.has(word)) return 'transaction';
  if (DDL_WORDS.has(word)) return 'ddl';
  return 'other';
}

/** The statement a `WITH` introduces: the first word after the CTEs, skipping their bodies. */
function mainStatementWord(tokens: Tokens, matches: number[], from: number): string {
  for (let i = from; i < tokens.kinds.length; i++) {
    const text = tokens.texts[i];
    if (text === '(') {
      const close = matches[i] ?? -1;
      if (close === -1) return '';
      i = close;
    } else if (
      tokens.kinds[i] === WORD &&
      (text === 'select' || text === 'insert' || text === 'update' || text === 'delete' || text === 'values')
    ) {
      return text;
    }
  }
  return '';
}

/** Names the `WITH` clause defines: `from recent` then reads a CTE, not a table. */
function cteNames(tokens: Tokens, matches: number[]): Set<string> {
  const names = new Set<string>();
  const first = firstWordIndex(tokens);
  if (first === -1 || tokens.texts[first] !== 'with') return names;
  let i = first + 1;
  if (tokens.texts[i] === 'recursive') i++;
  while (tokens.kinds[i] === WORD || tokens.kinds[i] === QUOTED_IDENTIFIER) {
    names.add(unquote(tokens.texts[i] ?? ''));
    i++;
    // name [(columns)] as [not] [materialized] (body)
    if (tokens.texts[i] === '(') i = (matches[i] ?? -1) + 1;
    while (i > 0 && i < tokens.kinds.length && tokens.texts[i] !== '(') i++;
    const bodyEnd = matches[i] ?? -1;
    if (i <= 0 || bodyEnd === -1 || tokens.texts[bodyEnd + 1] !== ',') break;
    i = bodyEnd + 2;
  }
  return names;
}

/**
 * Tables after FROM, JOIN, UPDATE and INTO (so DELETE FROM and INSERT INTO too),
 * in order of appearance, deduplicated. Skips subqueries, functions (`generate_series(…)`),
 * aliases, CTE names, and the FROM inside calls such as `extract(year from …)`.
 */
function tablesOf(tokens: Tokens, matches: number[]): string[] {
  const { kinds, texts } = tokens;
  const tables: string[] = [];
  const ctes = cteNames(tokens, matches);
  /** For each open parenthesis: does it belong to a function call? */
  const callStack: boolean[] = [];
  for (let i = 0; i < kinds.length; i++) {
    const text = texts[i] ?? '';
    if (kinds[i] === PUNCTUATION) {
      if (text === '(') {
        const before = i - 1;
        callStack.push(kinds[before] === WORD && !KEYWORDS.has(texts[before] ?? ''));
      } else if (text === ')') {
        callStack.pop();
      }
      continue;
    }
    if (kinds[i] !== WORD || callStack[callStack.length - 1] === true) continue;
    const previous = texts[i - 1];
    let clause: 'from' | 'into' | undefined;
    if (text === 'from') clause = previous === 'distinct' ? undefined : 'from';
    else if (text === 'join') clause = 'from';
    else if (text === 'update') {
      // Not the UPDATE of FOR UPDATE, ON DUPLICATE KEY UPDATE, DO UPDATE or ON UPDATE CASCADE.
      clause =
        previous === 'for' || previous === 'key' || previous === 'do' || previous === 'on'
          ? undefined
          : 'from';
    } else if (text === 'into') clause = 'into';
    if (clause) i = readTableList(tokens, i + 1, clause, tables, ctes);
  }
  return tables;
}

/** Reads `name [as alias] [, name [as alias]]…` from `start`; returns the index of the last token read. */
function readTableList(
  tokens: Tokens,
  start: number,
  clause: 'from' | 'into',
  tables: string[],
  ctes: Set<string>,
): number {
  const { kinds, texts } = tokens;
  let i = start;
  while (texts[i] !== undefined && TABLE_MODIFIERS.has(texts[i] ?? '')) i++;
  for (;;) {
    if (!isName(tokens, i)) return i - 1;
    let name = unquote(texts[i] ?? '');
    while (texts[i + 1] === '.' && isName(tokens, i + 2)) {
      name += `.${unquote(texts[i + 2] ?? '')}`;
      i += 2;
    }
    i++;
    // A name touching `(` after FROM or JOIN is a table function; after INTO it is a column list.
    const isFunction = clause === 'from' && texts[i] === '(';
    if (!isFunction && !ctes.has(name) && !tables.includes(name)) tables.push(name);
    if (clause === 'into') return i - 1;
    if (texts[i] === 'as') i++;
    if (isName(tokens, i)) i++;
    if (texts[i] !== ',' || kinds[i] !== PUNCTUATION) return i - 1;
    i++;
  }
}

function isName(tokens: Tokens, index: number): boolean {
  const kind = tokens.kinds[index];
  if (kind === QUOTED_IDENTIFIER) return true;
  const text = tokens.texts[index] ?? '';
  return kind === WORD && !KEYWORDS.has(text) && text.charCodeAt(0) !== 64;
}

/** `"Users"` → `Users`, `` `orders` `` → `orders`, `[Line Items]` → `Line Items`. */
function unquote(identifier: string): string {
  const open = identifier.charCodeAt(0);
  if (open !== 34 && open !== 96 && open !== 91) return identifier;
  const inner = identifier.slice(1, -1);
  if (open === 91) return inner;
  const quote = open === 34 ? '"' : '`';
  return inner.includes(quote) ? inner.split(quote + quote).join(quote) : inner;
}
