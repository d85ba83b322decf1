/**
 * Hooks for `@opentelemetry/instrumentation-pg`: what the collector needs and upstream
 * leaves out. Query spans get `db.response.returned_rows`; `pg.connect` and
 * `pg-pool.connect` spans are marked as connection acquisition, so that no reader has to
 * know upstream's span names.
 */
import type { Span } from '@opentelemetry/api';
import { ChokepointAttributes } from '../../../model/attributes.js';
import { ATTR_DB_RESPONSE_RETURNED_ROWS } from '../semconv.js';
import type { HookInfo, UpstreamConfig } from './types.js';

type PgConfig = UpstreamConfig<'pg'>;
type PgResult = HookInfo<PgConfig['responseHook']>['data'];

/**
 * The rows a result carries: a statement without a row set (`INSERT` without `RETURNING`)
 * returns none. A multi-statement text answers with one result per statement.
 *
 * @example
 * returnedRows({ rows: [{ id: 1 }, { id: 2 }], rowCount: 2 }); // 2
 */
export function returnedRows(data: PgResult | PgResult[]): number | undefined {
  const results = Array.isArray(data) ? data : [data];
  let rows = 0;
  for (const result of results) {
    if (!Array.isArray(result?.rows)) return undefined;
    rows += result.rows.length;
  }
  return rows;
}

export const pgConfig: PgConfig = {
  responseHook(span: Span, { data }) {
    const rows = returnedRows(data);
    if (rows !== undefined) span.setAttribute(ATTR_DB_RESPONSE_RETURNED_ROWS, rows);
  },
  connectionHook(span: Span) {
    span.setAttribute(ChokepointAttributes.DB_CONNECT, true);
  },
};
