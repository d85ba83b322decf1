/**
 * What every SQL instrumentation needs to know about a statement without parsing it.
 */

/**
 * Leading blanks, comments (each running to its very end) and parentheses, then the first
 * keyword. One `\s` per step: no backtracking blow-up on long blank runs.
 */
const FIRST_KEYWORD = /^(?:\s|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/|\()*([A-Za-z]+)/;

/**
 * The statement's first keyword, upper-cased: `SELECT`, `INSERT`, `WITH`, `PRAGMA` …
 *
 * @example
 * operationName('-- newest first\n(select * from orders)'); // 'SELECT'
 */
export function operationName(query: string): string | undefined {
  return FIRST_KEYWORD.exec(query)?.[1]?.toUpperCase();
}
