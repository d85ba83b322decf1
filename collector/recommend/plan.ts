/**
 * Reads a captured query plan — SQLite `EXPLAIN QUERY PLAN` rows, Postgres
 * `EXPLAIN (FORMAT JSON)`, MySQL/MariaDB `EXPLAIN FORMAT=JSON` — into the few facts
 * index advice needs: which tables are read in full, which columns those scans filter
 * on, whether rows are sorted outside an index, and which indexes are used.
 *
 * Plans print literals (`Filter: (email = 'ann@example.com'::text)`): only names leave
 * this module. Literals are blanked before any condition is read, and nothing of the
 * plan text is kept but table, column and index names.
 */
import type { PlanColumn, QueryPlanSummary } from '../../model/index.js';

/** Plan texts longer than this are not read (a plan of a query joining hundreds of tables). */
const MAX_PLAN_LENGTH = 1_000_000;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * The summary of a plan, or `undefined` when `text` is not a plan `system` writes.
 *
 * @example
 * readPlan('[{"id":3,"parent":0,"notused":0,"detail":"SCAN orders"}]', 'sqlite');
 * // { system: 'sqlite', fullScanTables: ['orders'], filterColumns: [], sortWithoutIndex: false, … }
 */
export function readPlan(text: string, system: string): QueryPlanSummary | undefined {
  if (text.length > MAX_PLAN_LENGTH) return undefined;
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
  const summary: QueryPlanSummary = {
    system,
    fullScanTables: [],
    filterColumns: [],
    sortWithoutIndex: false,
    sortColumns: [],
    indexesUsed: [],
  };
  const read =
    system === 'sqlite'
      ? readSqlitePlan
      : system === 'postgresql'
        ? readPostgresPlan
        : system === 'mysql' || system === 'mariadb'
          ? readMysqlPlan
          : undefined;
  return read?.(json, summary) ? summary : undefined;
}

// SQLite ----------------------------------------------------------------------------------

/** `SCAN orders`, `SEARCH TABLE orders AS o USING INDEX idx (a=? AND b>?)`, `SCAN o USING COVERING INDEX idx`. */
const SQLITE_ACCESS =
  /^(SCAN|SEARCH) (?:TABLE )?(\S+)(?: AS (\S+))?(?: USING (AUTOMATIC (?:PARTIAL )?(?:COVERING )?INDEX|COVERING INDEX|INDEX|INTEGER PRIMARY KEY|PRIMARY KEY)(?: ([^\s(]\S*))?)?(?: \((.*)\))?/;
const SQLITE_NOT_TABLES = new Set(['CONSTANT', 'SUBQUERY']);

function readSqlitePlan(json: Json, summary: QueryPlanSummary): boolean {
  if (!Array.isArray(json)) return false;
  for (const row of json) {
    const detail = isObject(row) ? row.detail : undefined;
    if (typeof detail !== 'string') return false;
    if (/^USE TEMP B-TREE FOR (?:RIGHT PART OF |LAST \d+ TERMS OF )?ORDER BY/.test(detail)) {
      summary.sortWithoutIndex = true;
      continue;
    }
    const access = SQLITE_ACCESS.exec(detail);
    if (!access) continue;
    const [, verb, name = '', alias, using, index, constraints] = access;
    if (SQLITE_NOT_TABLES.has(name) || name.startsWith('(')) continue;
    const table = alias ?? name;
    // An automatic index is built from a full scan on every run: SQLite asking for the index it lacks.
    if (using?.startsWith('AUTOMATIC')) {
      addUnique(summary.fullScanTables, table);
      for (const constraint of (constraints ?? '').split(' AND ')) {
        const column = /^(\w+)([=<>])/.exec(constraint);
        if (column?.[1])
          addColumn(summary.filterColumns, {
            table,
            column: column[1],
            comparison: column[2] === '=' ? 'equality' : 'range',
          });
      }
    } else if (using) addUnique(summary.indexesUsed, index ?? using.toLowerCase());
    else if (verb === 'SCAN') addUnique(summary.fullScanTables, table);
  }
  return true;
}

// Postgres --------------------------------------------------------------------------------

const POSTGRES_INDEX_NODES = new Set(['Index Scan', 'Index Only Scan', 'Bitmap Index Scan']);

function readPostgresPlan(json: Json, summary: QueryPlanSummary): boolean {
  const root = postgresRoot(json);
  if (!root) return false;
  const relationsByAlias = new Map<string, string>();
  const visit = (node: { [key: string]: Json }) => {
    const type = node['Node Type'];
    const relation = typeof node['Relation Name'] === 'string' ? node['Relation Name'] : '';
    if (relation) relationsByAlias.set(typeof node.Alias === 'string' ? node.Alias : relation, relation);
    if (type === 'Seq Scan' && relation) {
      addUnique(summary.fullScanTables, relation);
      if (typeof node.Filter === 'string') {
        for (const column of conditionColumns(node.Filter))
          addColumn(summary.filterColumns, { ...column, table: relation });
      }
    } else if (
      typeof type === 'string' &&
      POSTGRES_INDEX_NODES.has(type) &&
      typeof node['Index Name'] === 'string'
    ) {
      addUnique(summary.indexesUsed, node['Index Name']);
    } else if (type === 'Sort' || type === 'Incremental Sort') {
      summary.sortWithoutIndex = true;
      for (const key of stringList(node['Sort Key'])) {
        const column = sortKeyColumn(key);
        if (column) addColumn(summary.sortColumns, column);
      }
    }
    for (const child of Array.isArray(node.Plans) ? node.Plans : []) if (isObject(child)) visit(child);
  };
  visit(root);
  // Sort keys name the alias (`o.total`); the scan below the sort names the table it stands for.
  for (const column of summary.sortColumns) column.table = relationsByAlias.get(column.table) ?? column.table;
  return true;
}

/** The top plan node of `[{"Plan": …}]`, `{"Plan": …}` or a `{"QUERY PLAN": […]}` result row. */
function postgresRoot(json: Json): { [key: string]: Json } | undefined {
  let value = json;
  if (isObject(value) && 'QUERY PLAN' in value) value = value['QUERY PLAN'] ?? null;
  if (Array.isArray(value)) value = value[0] ?? null;
  const plan = isObject(value) ? value.Plan : undefined;
  return isObject(plan) && typeof plan['Node Type'] === 'string' ? plan : undefined;
}

// MySQL and MariaDB -----------------------------------------------------------------------

function readMysqlPlan(json: Json, summary: QueryPlanSummary): boolean {
  const root = mysqlRoot(json);
  if (!root) return false;
  const visit = (value: Json) => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (!isObject(value)) return;
    const table = value.table;
    if (isObject(table) && typeof table.table_name === 'string') readMysqlTable(table, summary);
    const filesort = value.filesort;
    // MariaDB: `filesort: {sort_key: "orders.created_at desc", …}`; MySQL 8: `ordering_operation: {using_filesort: true}`.
    if (isObject(filesort)) {
      summary.sortWithoutIndex = true;
      if (typeof filesort.sort_key === 'string') {
        for (const key of filesort.sort_key.split(',')) {
          const column = sortKeyColumn(key);
          if (column) addColumn(summary.sortColumns, column);
        }
      }
    }
    const ordering = value.ordering_operation;
    if (isObject(ordering) && ordering.using_filesort === true) summary.sortWithoutIndex = true;
    for (const [key, child] of Object.entries(value)) if (key !== 'table') visit(child);
    if (isObject(table)) visit(table);
  };
  visit(root);
  return true;
}

function readMysqlTable(table: { [key: string]: Json }, summary: QueryPlanSummary): void {
  const name = table.table_name as string;
  if (table.access_type === 'ALL') {
    addUnique(summary.fullScanTables, name);
    if (typeof table.attached_condition === 'string') {
      for (const column of conditionColumns(table.attached_condition)) {
        // A joined table's condition may test the other tables' columns too.
        if (column.table === '' || column.table === name)
          addColumn(summary.filterColumns, { ...column, table: name });
      }
    }
  } else if (typeof table.key === 'string') addUnique(summary.indexesUsed, table.key);
}

/** `{"query_block": …}`, or the `[{"EXPLAIN": "<json>"}]` rows a driver returns for it. */
function mysqlRoot(json: Json): Json | undefined {
  let value = json;
  if (Array.isArray(value) && isObject(value[0]) && typeof value[0].EXPLAIN === 'string') {
    try {
      value = JSON.parse(value[0].EXPLAIN) as Json;
    } catch {
      return undefined;
    }
  }
  return isObject(value) && isObject(value.query_block) ? value.query_block : undefined;
}

// Conditions ------------------------------------------------------------------------------

const NAME = String.raw`(?:[a-z_][\w$]*|"[^"]+"|\x60[^\x60]+\x60)`;
/** `col`, `t.col`, `db.t.col`, optionally in parentheses and cast (`(status)::text`), then an operator. */
const COMPARISON = new RegExp(
  String.raw`(?<![\w$."\x60])\(?(${NAME}(?:\.${NAME}){0,2})\)?(?:::[a-z_][a-z_ ]*?(?:\[\])?)?\s*` +
    String.raw`(=\s*any\b|=|<=|>=|<>|!=|<|>|!?~~\*?|\bnot\s+like\b|\blike\b|\bnot\s+in\b|\bin\b|\bis\s+not\s+null\b|\bis\s+null\b|\bbetween\b)`,
  'gi',
);
const NOT_COLUMNS = new Set([
  'and',
  'or',
  'not',
  'any',
  'all',
  'null',
  'true',
  'false',
  'array',
  'case',
  'when',
  'then',
  'else',
  'end',
]);

/**
 * Columns compared in a plan's condition text, with literals blanked first so none is
 * ever read as a name. `<>`, `NOT IN` and `IS NOT NULL` select almost everything: not index material.
 *
 * @example
 * conditionColumns("((created_at > 5) AND (customer_email = 'a@b.c'::text))");
 * // [{ table: '', column: 'created_at', comparison: 'range' }, { table: '', column: 'customer_email', comparison: 'equality' }]
 */
export function conditionColumns(condition: string): PlanColumn[] {
  const text = condition.replace(/'(?:[^'\\]|''|\\.)*'/g, "''");
  const columns: PlanColumn[] = [];
  for (const match of text.matchAll(COMPARISON)) {
    const parts = (match[1] ?? '').split('.').map(unquote);
    const column = parts[parts.length - 1] ?? '';
    const operator = (match[2] ?? '').toLowerCase().replace(/\s+/g, ' ');
    if (NOT_COLUMNS.has(column.toLowerCase()) || /^\d/.test(column)) continue;
    if (operator === '<>' || operator === '!=' || operator.startsWith('not') || operator === 'is not null')
      continue;
    if (operator.startsWith('!~~')) continue;
    const equality = operator.startsWith('=') || operator === 'in' || operator === 'is null';
    addColumn(columns, {
      table: parts.length > 1 ? (parts[parts.length - 2] ?? '') : '',
      column,
      comparison: equality ? 'equality' : 'range',
    });
  }
  return columns;
}

/** `created_at DESC`, `o.total`, `orders.created_at desc` → the column; expressions → undefined. */
function sortKeyColumn(key: string): PlanColumn | undefined {
  const match = new RegExp(
    String.raw`^\s*(${NAME}(?:\.${NAME}){0,2})(?:\s+(?:asc|desc))?(?:\s+nulls\s+(?:first|last))?\s*$`,
    'i',
  ).exec(key);
  if (!match?.[1]) return undefined;
  const parts = match[1].split('.').map(unquote);
  return {
    table: parts.length > 1 ? (parts[parts.length - 2] ?? '') : '',
    column: parts[parts.length - 1] ?? '',
    comparison: 'sort',
  };
}

function unquote(name: string): string {
  return name.replace(/^["`]|["`]$/g, '');
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: Json | undefined): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function addUnique(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}

function addColumn(list: PlanColumn[], column: PlanColumn): void {
  if (!list.some((c) => c.table === column.table && c.column === column.column)) list.push(column);
}
