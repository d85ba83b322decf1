/**
 * Plain-text and Markdown tables for bench output: the console gets aligned columns, the
 * README gets the same rows as a Markdown table.
 */

/**
 * @example
 * renderTable(['variant', 'req/s'], [['bare', '46,557']]);
 */
export function renderTable(headers, rows) {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => String(row[column]).length)),
  );
  const line = (cells) =>
    cells
      .map((cell, column) =>
        column === 0 ? String(cell).padEnd(widths[column]) : String(cell).padStart(widths[column]),
      )
      .join('  ');
  return [line(headers), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

export function renderMarkdownTable(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  const rule = `|${headers.map((_, column) => (column === 0 ? ' --- ' : ' ---: ')).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/** `1234.5` → `1,235`; `NaN` → `–`. */
export function formatNumber(value, digits = 0) {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `0.4567` → `0.46×`. */
export function formatRatio(value) {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '–';
}
