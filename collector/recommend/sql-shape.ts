/**
 * Reads the shape of a normalised statement: which columns its WHERE clause tests
 * by equality and by range, and what it orders by. Enough to suggest an index or a
 * batched form without a plan; a captured plan refines the advice when present.
 */

export interface PredicateShape {
  /** Columns compared with `=` or `IN`, in statement order. */
  equality: string[];
  /** Columns compared with `<`, `>`, `BETWEEN`, `LIKE`. */
  range: string[];
  orderBy: string[];
  /** True when the WHERE clause mixes in OR (an index may not serve it). */
  hasOr: boolean;
}

const CLAUSE_END = /\b(group by|order by|limit|having|offset|returning|for update|union|window)\b/i;
const IDENTIFIER = String.raw`(?:[a-z_][a-z0-9_$]*\.)?("[^"]+"|\x60[^\x60]+\x60|[a-z_][a-z0-9_$]*)`;
const EQUALITY = new RegExp(String.raw`^\(?\s*${IDENTIFIER}\s*(?:=|\bin\b|\bis\b)`, 'i');
const RANGE = new RegExp(
  String.raw`^\(?\s*${IDENTIFIER}\s*(?:<=|>=|<>|!=|<|>|\bbetween\b|\blike\b|\bilike\b)`,
  'i',
);

/**
 * @example
 * predicateShape('select * from orders where customer_id = ? and created_at > ? order by created_at desc')
 * // { equality: ['customer_id'], range: ['created_at'], orderBy: ['created_at'], hasOr: false }
 */
export function predicateShape(fingerprint: string): PredicateShape {
  const text = fingerprint;
  const shape: PredicateShape = { equality: [], range: [], orderBy: [], hasOr: false };
  const whereAt = text.search(/\bwhere\b/i);
  if (whereAt >= 0) {
    let clause = text.slice(whereAt + 5);
    const end = clause.search(CLAUSE_END);
    if (end >= 0) clause = clause.slice(0, end);
    shape.hasOr = /\bor\b/i.test(clause);
    for (const predicate of clause.split(/\b(?:and|or)\b/i)) {
      const trimmed = predicate.trim();
      const equality = EQUALITY.exec(trimmed);
      const range = equality ? null : RANGE.exec(trimmed);
      const column = unquote((equality ?? range)?.[1]);
      if (!column || column === '?') continue;
      const list = equality ? shape.equality : shape.range;
      if (!shape.equality.includes(column) && !shape.range.includes(column)) list.push(column);
    }
  }
  const orderAt = text.search(/\border by\b/i);
  if (orderAt >= 0) {
    const rest = text.slice(orderAt + 8).split(/\b(limit|offset|for update)\b/i)[0] ?? '';
    for (const part of rest.split(',')) {
      const column = unquote(new RegExp(String.raw`^\s*${IDENTIFIER}`, 'i').exec(part)?.[1]);
      if (column && !/^\d+$/.test(column)) shape.orderBy.push(column);
    }
  }
  return shape;
}

function unquote(identifier: string | undefined): string | undefined {
  if (!identifier) return undefined;
  return identifier.replace(/^["`]|["`]$/g, '');
}

/**
 * Columns for a composite index: equality columns first, then at most one range
 * column (an index stops being ordered after the first range), else the sort columns.
 */
export function indexColumns(shape: PredicateShape): string[] {
  const columns = [...shape.equality];
  if (shape.range[0]) columns.push(shape.range[0]);
  else for (const column of shape.orderBy) if (!columns.includes(column)) columns.push(column);
  return columns;
}
