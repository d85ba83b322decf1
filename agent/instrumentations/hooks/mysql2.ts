/**
 * Configuration for `@opentelemetry/instrumentation-mysql2`. Upstream formats the bound
 * values into `db.query.text` whenever it holds mysql2's `format` when it patches (it
 * depends on module load order): the statement would then carry the very literals the
 * collector fingerprints away, and a different text per call. Its masking hook is the one
 * place to decide the text, so it keeps the statement as written; `CHOKEPOINT_SCRUB`
 * scrubs it further like any SQL. Successful queries also get `db.response.returned_rows`.
 */
import type { Span } from '@opentelemetry/api';
import { ATTR_DB_RESPONSE_RETURNED_ROWS } from '../semconv.js';
import type { UpstreamConfig } from './types.js';

/**
 * Rows in a mysql2 result: the rows of a `SELECT`; none for the `ResultSetHeader` a
 * statement without a row set answers with.
 *
 * @example
 * returnedRows([{ id: 1 }, { id: 2 }]); // 2
 * returnedRows({ affectedRows: 3, insertId: 0 }); // 0
 */
export function returnedRows(results: unknown): number | undefined {
  if (Array.isArray(results)) return results.length;
  return typeof results === 'object' && results !== null && 'affectedRows' in results ? 0 : undefined;
}

export const mysql2Config: UpstreamConfig<'mysql2'> = {
  maskStatement: true,
  maskStatementHook: (query) => query,
  responseHook(span: Span, { queryResults }) {
    const rows = returnedRows(queryResults);
    if (rows !== undefined) span.setAttribute(ATTR_DB_RESPONSE_RETURNED_ROWS, rows);
  },
};
