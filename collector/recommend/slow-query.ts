/** The fix for a slow_query: an index shaped from the statement, or how to cut the work. */
import type { FindingCandidate, Recommendation } from '../../model/index.js';
import { indexColumns, predicateShape } from './sql-shape.js';

export function recommendSlowQuery(candidate: FindingCandidate): Recommendation {
  const { evidence } = candidate;
  const fingerprint = String(evidence.fingerprint ?? '');
  const system = String(evidence.system ?? '');
  const tables = Array.isArray(evidence.tables) ? (evidence.tables as string[]) : [];
  const statementType = String(evidence.statementType ?? '');
  const shape = predicateShape(fingerprint);
  const columns = indexColumns(shape);
  const table = tables[0];
  const explain = explainCommand(system, fingerprint);

  if (tables.length === 1 && table && columns.length > 0 && statementType !== 'insert') {
    const name = `idx_${table.replace(/\W+/g, '_')}_${columns.join('_').replace(/\W+/g, '_')}`.slice(0, 63);
    const concurrently = system === 'postgresql' ? 'CONCURRENTLY ' : '';
    const create = `CREATE INDEX ${concurrently}${name} ON ${table} (${columns.join(', ')});`;
    const order =
      shape.equality.length > 0 && columns.length > shape.equality.length
        ? ' (equality columns first, then the range/sort column)'
        : '';
    return {
      summary: `Add an index on ${table} (${columns.join(', ')})`,
      detail:
        `This ${statementType.toUpperCase()} filters ${table} on ${columns.join(', ')}${order}. ` +
        `Without an index on those columns the database reads the whole table on every call. ` +
        `Confirm with ${explain.label} that it scans the table, create the index, then check the plan uses it.` +
        (shape.hasOr ? ' The WHERE clause uses OR: an index helps only if every branch can use one.' : ''),
      code: `${explain.sql}\n${create}`,
      language: 'sql',
    };
  }
  return {
    summary: table ? `Reduce the work this query does on ${table}` : 'Reduce the work this query does',
    detail:
      `No selective filter was found to index. Check its plan with ${explain.label}; ` +
      'if it aggregates or sorts a large table on every request, precompute the result (a summary table ' +
      'refreshed on write or on a schedule), cache it with a TTL, or paginate with a LIMIT and a keyset.',
    code: explain.sql,
    language: 'sql',
  };
}

function explainCommand(system: string, fingerprint: string): { label: string; sql: string } {
  if (system === 'sqlite') return { label: 'EXPLAIN QUERY PLAN', sql: `EXPLAIN QUERY PLAN ${fingerprint};` };
  if (system === 'postgresql') return { label: 'EXPLAIN', sql: `EXPLAIN ${fingerprint};` };
  return { label: 'EXPLAIN', sql: `EXPLAIN ${fingerprint};` };
}
