/**
 * The fix for a slow_query: an index, or how to cut the work. A captured plan
 * (evidence `plan`, see ./plan.ts) says which table is scanned and on what; without
 * one, the index is shaped from the statement alone.
 */
import type { FindingCandidate, QueryPlanSummary, Recommendation } from '../../model/index.js';
import { type RelatedFinding, relatedFindings } from './related.js';
import { type PredicateShape, predicateShape, suggestIndex, tableAliases } from './sql-shape.js';

export function recommendSlowQuery(candidate: FindingCandidate): Recommendation {
  const { evidence } = candidate;
  const fingerprint = String(evidence.fingerprint ?? '');
  const system = String(evidence.system ?? '');
  const tables = Array.isArray(evidence.tables) ? (evidence.tables as string[]) : [];
  const statementType = String(evidence.statementType ?? '');
  const shape = predicateShape(fingerprint);
  const plan = planOf(evidence.plan);
  const explain = explainCommand(system, fingerprint);
  const stalls = relatedFindings(evidence).find((finding) => finding.kind === 'event_loop_blocked');
  const indexed = plan !== undefined && plan.fullScanTables.length === 0 && !plan.sortWithoutIndex;
  if (stalls && indexed) return stalledLoopFirst(evidence, stalls, explain.sql);
  if (indexed) {
    return {
      summary: 'The plan already uses an index: cut the rows it reads or the number of calls',
      detail:
        `The captured plan reads through ${plan.indexesUsed.join(', ') || 'an index'} and scans no table in full, ` +
        'so another index will not help. Look at how many rows each call reads and returns (a LIMIT, a more ' +
        'selective filter, fewer columns), and at how often it runs (cache the result, or batch the calls).',
      code: explain.sql,
      language: 'sql',
    };
  }
  const index =
    statementType === 'insert'
      ? undefined
      : ((plan && indexFromPlan(plan, fingerprint, shape)) ?? suggestIndex(shape, tables));
  const table = index?.table ?? tables[0];

  if (index && isPrimaryKeyLookup(index.columns)) {
    if (stalls) return stalledLoopFirst(evidence, stalls, explain.sql);
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
    const scanned = plan?.fullScanTables.some((name) =>
      sameTable(resolveAlias(fingerprint, name), index.table),
    );
    return {
      summary: `Add an index on ${index.table} (${columns.join(', ')})`,
      detail:
        `This ${statementType.toUpperCase()} ${describeAccess(shape, columns, index.table)}. ` +
        (scanned
          ? `The captured plan reads ${index.table} in full on every call. `
          : plan?.sortWithoutIndex
            ? 'The captured plan sorts the rows outside any index on every call. '
            : 'Without an index on those columns the database reads the whole table on every call. ') +
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

/**
 * An indexed query in a service whose event loop stalled: the driver's span ends when the
 * loop reads the reply, so the stalls are counted as query time (detect/related.ts links them).
 */
function stalledLoopFirst(
  evidence: Record<string, unknown>,
  stalls: RelatedFinding,
  explainSql: string,
): Recommendation {
  return {
    summary: 'Unblock the event loop first: its stalls are counted in this query’s time',
    detail:
      `An index already serves this statement, yet its p95 is ${evidence.p95Ms} ms against a p50 of ${evidence.p50Ms} ms, ` +
      `and the service's event loop stalled meanwhile (“${stalls.title}”). The driver's reply waits for the loop, so ` +
      'a stall shows up as query time. Fix the blocking code first, then see whether this query is still slow.',
    code: explainSql,
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

function planOf(value: unknown): QueryPlanSummary | undefined {
  const plan = value as QueryPlanSummary | undefined;
  return plan && Array.isArray(plan.fullScanTables) && Array.isArray(plan.filterColumns) ? plan : undefined;
}

/**
 * The index the plan asks for: on the first fully scanned table it filters, equality
 * columns first, then one range column, else the sort's columns on that table. The
 * statement's own predicates fill in when the plan names no columns (SQLite's plans do not).
 */
function indexFromPlan(
  plan: QueryPlanSummary,
  fingerprint: string,
  shape: PredicateShape,
): { table: string; columns: string[] } | undefined {
  const resolve = (name: string) => resolveAlias(fingerprint, name);
  const onTable = (table: string, columns: QueryPlanSummary['filterColumns']) =>
    columns.filter((c) => c.table === '' || sameTable(resolve(c.table), table));
  const candidates = [...plan.fullScanTables.map(resolve)];
  const sortTable = plan.sortColumns[0]?.table;
  if (plan.sortWithoutIndex && sortTable) candidates.push(resolve(sortTable));
  for (const table of candidates) {
    const filters = onTable(table, plan.filterColumns);
    const columns = filters.filter((c) => c.comparison === 'equality').map((c) => c.column);
    const range = filters.find((c) => c.comparison === 'range');
    if (range) columns.push(range.column);
    else if (plan.sortWithoutIndex) {
      for (const sort of onTable(table, plan.sortColumns))
        if (!columns.includes(sort.column)) columns.push(sort.column);
    }
    if (filters.length === 0) {
      const fromStatement = suggestIndex(shape, [table]);
      if (fromStatement) return fromStatement;
    }
    if (columns.length > 0) return { table, columns };
  }
  return undefined;
}

function resolveAlias(fingerprint: string, name: string): string {
  return tableAliases(fingerprint).get(name) ?? name;
}

function sameTable(a: string, b: string): boolean {
  return a === b || a.split('.').pop() === b.split('.').pop();
}
