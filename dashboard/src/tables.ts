/**
 * Sorting and filtering for the table views. Pure, so the rules are tested without a
 * browser; the table component only wires them to its headers and filter box.
 */
import type { SortDirection } from './router.js';

export type SortValue = number | string | null | undefined;

/**
 * Rows sorted by `value`, stable; rows without a value (`null`, `undefined`, NaN) always go last.
 *
 * @example
 * sortRows([{ p95: 3 }, { p95: null }, { p95: 9 }], (row) => row.p95, 'desc') // p95 9, 3, null
 */
export function sortRows<T>(rows: readonly T[], value: (row: T) => SortValue, dir: SortDirection): T[] {
  const sign = dir === 'asc' ? 1 : -1;
  return rows
    .map((row, index) => ({ row, index, key: value(row) }))
    .sort((a, b) => {
      const aMissing = isMissing(a.key);
      const bMissing = isMissing(b.key);
      if (aMissing || bMissing) return aMissing === bMissing ? a.index - b.index : aMissing ? 1 : -1;
      const order =
        typeof a.key === 'number' && typeof b.key === 'number'
          ? a.key - b.key
          : String(a.key).localeCompare(String(b.key), 'en', { numeric: true, sensitivity: 'base' });
      return order === 0 ? a.index - b.index : sign * order;
    })
    .map(({ row }) => row);
}

/**
 * Rows whose texts contain every word of `query`, ignoring case.
 *
 * @example
 * filterRows(rows, 'orders select', (row) => [row.fingerprint, row.route])
 */
export function filterRows<T>(rows: readonly T[], query: string, texts: (row: T) => string[]): T[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...rows];
  return rows.filter((row) => {
    const haystack = texts(row).join('\n').toLowerCase();
    return words.every((word) => haystack.includes(word));
  });
}

/**
 * What clicking a column's header does: the sorted column flips direction, another one
 * sorts in its natural direction (numbers largest first, text A to Z).
 */
export function nextSort(
  current: { sort?: string; dir?: SortDirection },
  column: { key: string; numeric?: boolean },
): { sort: string; dir: SortDirection } {
  const natural: SortDirection = column.numeric ? 'desc' : 'asc';
  if (current.sort !== column.key) return { sort: column.key, dir: natural };
  return { sort: column.key, dir: (current.dir ?? natural) === 'asc' ? 'desc' : 'asc' };
}

function isMissing(value: SortValue): boolean {
  return value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value));
}

/** The parts of a column that showing rows needs: what the filter searches and how it sorts. */
interface ShownColumn<T> {
  key: string;
  numeric?: boolean;
  searchable?: boolean;
  text?: (row: T) => string;
  value?: (row: T) => SortValue;
}

/**
 * The rows a table shows: those the filter keeps, in the requested order, or in the
 * collector's own ranking when no sortable column is named.
 *
 * @example
 * shownRows(rows, columns, { filter: 'orders', sort: 'p95Ms', dir: 'desc' })
 */
export function shownRows<T>(
  rows: readonly T[],
  columns: ReadonlyArray<ShownColumn<T>>,
  view: { filter?: string; sort?: string; dir?: SortDirection },
): T[] {
  const searchable = columns.filter((column) => column.searchable && column.text);
  const filtered = filterRows(rows, view.filter ?? '', (row) =>
    searchable.map((column) => column.text?.(row) ?? ''),
  );
  const column = columns.find((candidate) => candidate.key === view.sort && candidate.value);
  if (!column?.value) return filtered;
  return sortRows(filtered, column.value, view.dir ?? (column.numeric ? 'desc' : 'asc'));
}
