/**
 * Reads the shape of a normalised statement: which columns its WHERE clause tests
 * by equality and by range, what it orders by, and which table each column belongs
 * to (through aliases). Enough to suggest an index or a batched form without a plan;
 * a captured plan refines the advice when present.
 */

export interface ColumnRef {
  /** The table the column belongs to, when the statement says (`o.email` with `FROM orders o`). */
  table?: string;
  column: string;
}

export interface PredicateShape {
  /** Columns compared with `=` or `IN`, in statement order. */
  equality: ColumnRef[];
  /** Columns compared with `<`, `>`, `BETWEEN`, `LIKE`. */
  range: ColumnRef[];
  orderBy: ColumnRef[];
  /** True when the WHERE clause mixes in OR (an index may not serve it). */
  hasOr: boolean;
}

const CLAUSE_END = /\b(group by|order by|limit|having|offset|returning|for update|union|window)\b/i;
const NAME = String.raw`("[^"]+"|\x60[^\x60]+\x60|[a-z_][a-z0-9_$]*)`;
const QUALIFIED = String.raw`(?:${NAME}\.)?${NAME}`;
const EQUALITY = new RegExp(String.raw`^\(?\s*${QUALIFIED}\s*(?:=|\bin\b|\bis\b)`, 'i');
const RANGE = new RegExp(
  String.raw`^\(?\s*${QUALIFIED}\s*(?:<=|>=|<>|!=|<|>|\bbetween\b|\blike\b|\bilike\b)`,
  'i',
);
const SORT_KEY = new RegExp(String.raw`^\s*${QUALIFIED}`, 'i');
const TABLE_REF = /\b(?:from|join|update|into)\s+([a-z_][\w$.]*|"[^"]+")(?:\s+(?:as\s+)?([a-z_][\w$]*))?/gi;
const NOT_ALIASES = new Set([
  'where',
  'join',
  'inner',
  'left',
  'right',
  'full',
  'cross',
  'outer',
  'on',
  'using',
  'group',
  'order',
  'limit',
  'set',
  'values',
  'natural',
  'union',
  'having',
  'returning',
  'select',
  'offset',
  'window',
  'for',
]);

/**
 * @example
 * predicateShape('select * from orders o where o.customer_id = ? and o.created_at > ? order by o.created_at desc')
 * // { equality: [{ table: 'orders', column: 'customer_id' }], range: [{ table: 'orders', column: 'created_at' }], … }
 */
export function predicateShape(fingerprint: string): PredicateShape {
  const aliases = tableAliases(fingerprint);
  const shape: PredicateShape = { equality: [], range: [], orderBy: [], hasOr: false };
  const seen = new Set<string>();
  const ref = (match: RegExpExecArray | null): ColumnRef | undefined => {
    const column = unquote(match?.[2]);
    if (!column || column === '?') return undefined;
    const qualifier = unquote(match?.[1]);
    return qualifier ? { table: aliases.get(qualifier) ?? qualifier, column } : { column };
  };
  const whereAt = fingerprint.search(/\bwhere\b/i);
  if (whereAt >= 0) {
    let clause = fingerprint.slice(whereAt + 5);
    const end = clause.search(CLAUSE_END);
    if (end >= 0) clause = clause.slice(0, end);
    shape.hasOr = /\bor\b/i.test(clause);
    for (const predicate of clause.split(/\b(?:and|or)\b/i)) {
      const trimmed = predicate.trim();
      const equality = ref(EQUALITY.exec(trimmed));
      const column = equality ?? ref(RANGE.exec(trimmed));
      if (!column) continue;
      const id = `${column.table ?? ''}.${column.column}`;
      if (seen.has(id)) continue;
      seen.add(id);
      (equality ? shape.equality : shape.range).push(column);
    }
  }
  const orderAt = fingerprint.search(/\border by\b/i);
  if (orderAt >= 0) {
    const rest = fingerprint.slice(orderAt + 8).split(/\b(limit|offset|for update)\b/i)[0] ?? '';
    const outputs = outputAliases(fingerprint);
    for (const part of rest.split(',')) {
      const column = ref(SORT_KEY.exec(part));
      // Sorting by a computed output (`count(*) as editions`) or a position cannot use a column index.
      if (!column || /^\d+$/.test(column.column) || (!column.table && outputs.has(column.column))) continue;
      shape.orderBy.push(column);
    }
  }
  return shape;
}

/** Names given to select-list outputs (`… as units`) before the first FROM. */
function outputAliases(fingerprint: string): Set<string> {
  const fromAt = fingerprint.search(/\bfrom\b/i);
  const selectList = fromAt >= 0 ? fingerprint.slice(0, fromAt) : '';
  return new Set([...selectList.matchAll(/\bas\s+([a-z_][\w$]*)/gi)].map((match) => match[1] as string));
}

/** `alias → table` (and `table → table`) for every table the statement reads or writes. */
export function tableAliases(fingerprint: string): Map<string, string> {
  const aliases = new Map<string, string>();
  for (const match of fingerprint.matchAll(TABLE_REF)) {
    const table = unquote(match[1]);
    if (!table || table === '(') continue;
    aliases.set(table, table);
    const bare = table.split('.').pop();
    if (bare) aliases.set(bare, table);
    const alias = match[2];
    if (alias && !NOT_ALIASES.has(alias.toLowerCase())) aliases.set(alias, table);
  }
  return aliases;
}

/**
 * The index that would serve the statement: on the table its filters point at, with
 * equality columns first, then at most one range column (an index stops being ordered
 * after the first range), else the sort columns. Undefined when nothing is selective
 * or a column's table cannot be told.
 */
export function suggestIndex(
  shape: PredicateShape,
  tables: readonly string[],
): { table: string; columns: string[] } | undefined {
  const first = shape.equality[0] ?? shape.range[0];
  const table = tables.length === 1 ? tables[0] : first?.table;
  if (!table) return undefined;
  const onTable = (refs: ColumnRef[]) =>
    refs
      .filter((r) => (r.table === undefined ? tables.length === 1 : sameTable(r.table, table)))
      .map((r) => r.column);
  const columns = onTable(shape.equality);
  const range = onTable(shape.range)[0];
  if (range) columns.push(range);
  else for (const column of onTable(shape.orderBy)) if (!columns.includes(column)) columns.push(column);
  return columns.length > 0 ? { table, columns } : undefined;
}

function sameTable(a: string, b: string): boolean {
  return a === b || a.split('.').pop() === b.split('.').pop();
}

function unquote(identifier: string | undefined): string | undefined {
  if (!identifier) return undefined;
  return identifier.replace(/^["`]|["`]$/g, '');
}
