/**
 * What the agent must know about a statement before it asks the database for its plan:
 * a key that groups its runs (the text with literals and comments gone), and whether
 * planning it is safe. Planning is safe when the statement is one `SELECT`, `UPDATE` or
 * `DELETE` (or a `WITH` that only reads): `EXPLAIN` without `ANALYZE` plans those without
 * running them. Anything the scan cannot read with certainty is refused: backslashes
 * (whether they escape a quote depends on server settings), unterminated quotes or
 * comments, several statements, `INTO` (`SELECT … INTO` creates tables and files).
 *
 * MySQL and MariaDB may evaluate constant expressions while planning, stored functions
 * included: there, only calls to a list of built-in functions are planned.
 */
import { operationName } from '../instrumentations/sql.js';
import type { PlanSystem } from './types.js';

export interface StatementShape {
  /** The statement with literals as `?`, comments gone, blanks folded and lower-cased. */
  key: string;
  /** Whether `EXPLAIN` of it can neither write nor run it. */
  explainable: boolean;
}

/**
 * Strings, quoted names, dollar-quoted bodies, comments and numbers, in the order they
 * start; an opener matched alone (`open`) is unterminated. `#` opens a comment on MySQL
 * only (on Postgres it is an operator); backticks quote names on MySQL and SQLite.
 */
const STRING = "'(?:[^']|'')*'";
const DOUBLE_QUOTED = '"(?:[^"]|"")*"';
const BACKTICKED = String.raw`\x60(?:[^\x60]|\x60\x60)*\x60`;
const COMMENT = String.raw`--[^\n]*|\/\*[\s\S]*?\*\/`;
const NUMBER = String.raw`(?<![\w$])\d+(?:\.\d+)?(?:e[+-]?\d+)?`;
const DOLLAR_QUOTED = String.raw`\$(?<tag>[A-Za-z_]\w*)?\$[\s\S]*?\$\k<tag>\$`;

function tokens(parts: string[], openers: string): RegExp {
  return new RegExp(`${parts.join('|')}|(?<open>${openers})`, 'gi');
}

const TOKEN_PATTERNS: Readonly<Record<PlanSystem, RegExp>> = {
  postgresql: tokens(
    [STRING, DOUBLE_QUOTED, DOLLAR_QUOTED, COMMENT, NUMBER],
    String.raw`['"]|\/\*|\$(?:[A-Za-z_]\w*)?\$`,
  ),
  sqlite: tokens([STRING, DOUBLE_QUOTED, BACKTICKED, COMMENT, NUMBER], String.raw`['"\x60]|\/\*`),
  mysql: tokens([STRING, DOUBLE_QUOTED, BACKTICKED, COMMENT, '#[^\\n]*', NUMBER], String.raw`['"\x60]|\/\*`),
  mariadb: tokens(
    [STRING, DOUBLE_QUOTED, BACKTICKED, COMMENT, '#[^\\n]*', NUMBER],
    String.raw`['"\x60]|\/\*`,
  ),
};

const PLANNABLE = new Set(['SELECT', 'WITH', 'UPDATE', 'DELETE']);
/** Words that make a read-only `WITH`, or a `SELECT`, write or leave the statement. */
const WRITING_WORDS = /\b(?:insert|update|delete|merge|replace|truncate|into|call|copy|lock|do)\b/;
const INTO = /\binto\b/;

/**
 * MySQL/MariaDB functions that only compute, and the keywords that may stand before `(`.
 * A call to anything else (a stored function may write) keeps the statement unplanned.
 */
const MYSQL_SAFE_CALLS = new Set(
  (
    'abs all and any as avg between bit_and bit_or case cast ceil ceiling char_length coalesce concat ' +
    'concat_ws convert count cross curdate current_date current_time current_timestamp date date_add ' +
    'date_format date_sub datediff day dayofweek distinct else exists field find_in_set floor from ' +
    'from_unixtime greatest group_concat having hour if ifnull in inner instr interval is join json_contains ' +
    'json_extract json_unquote lag lead least left length like limit locate lower lpad ltrim max md5 min ' +
    'minute mod month not now nullif on or outer over partition rank right round row_number rpad rtrim ' +
    'second select sign some substr substring substring_index sum then time timestamp timestampdiff trim ' +
    'truncate union unix_timestamp upper using utc_timestamp values week when where year'
  ).split(' '),
);
const CALL = /([a-z_][\w$]*)\s*\(/g;

/**
 * The statement's key and whether it may be planned.
 *
 * @example
 * shapeStatement("SELECT * FROM orders WHERE email = 'a@b.c' -- by mail", 'postgresql');
 * // { key: 'select * from orders where email = ?', explainable: true }
 * shapeStatement('DELETE FROM carts; DROP TABLE carts', 'postgresql').explainable; // false
 */
export function shapeStatement(text: string, system: PlanSystem): StatementShape {
  let terminated = true;
  const doubleQuotedIsString = system === 'mysql' || system === 'mariadb';
  const bare = text.replace(TOKEN_PATTERNS[system], (token: string, ...rest: unknown[]) => {
    const groups = rest[rest.length - 1] as { open?: string };
    if (groups.open !== undefined) {
      terminated = false;
      return token;
    }
    const first = token[0];
    if (first === '-' || first === '/' || first === '#') return ' ';
    if (first === '`' || (first === '"' && !doubleQuotedIsString)) return token;
    return '?';
  });
  const key = bare.replace(/\s+/g, ' ').trim().replace(/\s*;$/, '').toLowerCase();
  return { key, explainable: terminated && !text.includes('\\') && isPlannable(key, system) };
}

function isPlannable(key: string, system: PlanSystem): boolean {
  // Quoted names go: a column called "into" is no reason to refuse, nor to plan.
  const words = key.replace(/"(?:[^"]|"")*"|`(?:[^`]|``)*`/g, 'name');
  if (words.includes(';')) return false;
  const operation = operationName(words);
  if (operation === undefined || !PLANNABLE.has(operation)) return false;
  if (operation === 'WITH' || operation === 'SELECT') {
    if (operation === 'WITH' ? WRITING_WORDS.test(words) : INTO.test(words)) return false;
  }
  if (system === 'mysql' || system === 'mariadb') {
    if (words.includes(':=')) return false;
    for (const [, name] of words.matchAll(CALL)) if (!MYSQL_SAFE_CALLS.has(name ?? '')) return false;
  }
  return true;
}
