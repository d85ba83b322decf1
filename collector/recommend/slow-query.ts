/** The fix for a slow_query: an index shaped from the statement, or how to cut the work. */
import type { FindingCandidate, Recommendation } from '../../model/index.js';
import { predicateShape, suggestIndex } from './sql-shape.js';

export function recommendSlowQuery(candidate: FindingCandidate): Recommendation {
  const { evidence } = candidate;
  const fingerprint = String(evidence.fingerprint ?? '');
  const system = String(evidence.system ?? '');
  const tables = Array.isArray(evidence.tables) ? (evidence.tables as string[]) : [];
  const statementType = String(evidence.statementType ?? '');
  const shape = predicateShape(fingerprint);
  const index = statementType === 'insert' ? undefined : suggestIndex(shape, tables);
  const table = index?.table ?? tables[0];
  const explain = explainCommand(system, fingerprint);

  if (index && isPrimaryKeyLookup(index.columns)) {
    return {
      summary: 'The lookup is by primary key: look for the time outside the query plan',
      detail:
        'An index already serves this statement, yet it is slow. Such latency usually comes from waiting: ' +
        'row locks held by other transactions, a saturated connection pool, or an event loop too busy to read ' +
        'the reply (check event_loop_blocked findings). Compare the database-side time in ' +
        `${explain.label} ANALYZE on a copy with what the app measures.`,
      code: explain.sql,
      language: 'sql',
    };
  }
  if (index) {
    const { columns } = index;
    const name = `idx_${index.table.replace(/\W+/g, '_')}_${columns.join('_').replace(/\W+/g, '_')}`.slice(
      0,
      63,
    );
    const concurrently = system === 'postgresql' ? 'CONCURRENTLY ' : '';
    const create = `CREATE INDEX ${concurrently}${name} ON ${index.table} (${columns.join(', ')});`;
    return {
      summary: `Add an index on ${index.table} (${columns.join(', ')})`,
      detail:
        `This ${statementType.toUpperCase()} ${describeAccess(shape, columns, index.table)}. ` +
        'Without an index on those columns the database reads the whole table on every call. ' +
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

/** "filters orders on a, b and sorts by c", from the role each index column plays. */
function describeAccess(shape: ReturnType<typeof predicateShape>, columns: string[], table: string): string {
  const filtered = columns.filter((c) => [...shape.equality, ...shape.range].some((r) => r.column === c));
  const sorted = columns.filter((c) => !filtered.includes(c));
  if (filtered.length === 0) return `sorts ${table} by ${sorted.join(', ')}`;
  const filters = `filters ${table} on ${filtered.join(', ')}`;
  return sorted.length > 0 ? `${filters} and sorts by ${sorted.join(', ')}` : filters;
}

/** `WHERE id = ?` alone: almost always the primary key, which is indexed already. */
function isPrimaryKeyLookup(columns: string[]): boolean {
  return columns.length === 1 && columns[0] === 'id';
}
