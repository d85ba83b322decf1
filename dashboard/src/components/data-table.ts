/**
 * `<cp-data-table>`: rows under sortable headers (buttons, with `aria-sort` on the sorted
 * one) and a filter box. It keeps no state of its own: sort and filter come in from the
 * route and go out as a `cp-table-change` event, so the URL always says what is shown.
 */
import { css, html, LitElement, nothing } from 'lit';
import { live } from 'lit/directives/live.js';
import { repeat } from 'lit/directives/repeat.js';
import type { FindingSummary } from '../api-types.js';
import { formatImpact, kindLabel } from '../format.js';
import type { Column } from '../list-columns.js';
import type { SortDirection } from '../router.js';
import { sharedStyles } from '../styles.js';
import { nextSort, shownRows } from '../tables.js';
import './sparkline.js';

/** What a `cp-table-change` event asks for. */
export type TableChange = { filter: string } | { sort: string; dir: SortDirection };

export class DataTable extends LitElement {
  static override properties = {
    rows: { attribute: false },
    columns: { attribute: false },
    rowKey: { attribute: false },
    findingHref: { attribute: false },
    sparklineFrom: { attribute: false },
    sort: {},
    sortDir: { attribute: 'sort-dir' },
    filter: {},
    caption: {},
  };

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      .toolbar {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem 1rem;
        align-items: center;
        margin-bottom: 0.6rem;
        font-size: 0.9rem;
      }
      input {
        font: inherit;
        color: var(--cp-text);
        background: var(--cp-surface);
        border: 1px solid var(--cp-border);
        border-radius: var(--cp-radius);
        padding: 0.25rem 0.5rem;
        margin-left: 0.35rem;
        width: 18rem;
        max-width: 60vw;
      }
      .scroll {
        overflow-x: auto;
        background: var(--cp-surface);
        border: 1px solid var(--cp-border);
        border-radius: var(--cp-radius);
      }
      table {
        width: 100%;
        border-collapse: collapse;
        font-size: 0.88rem;
      }
      th,
      td {
        padding: 0.4rem 0.6rem;
        text-align: left;
        vertical-align: middle;
        border-bottom: 1px solid var(--cp-border);
      }
      tbody tr:last-child td {
        border-bottom: none;
      }
      th {
        font-weight: 600;
        white-space: nowrap;
        background: var(--cp-surface-sunken);
      }
      th button {
        font-weight: 600;
        padding: 0.1rem 0.3rem;
        margin: -0.1rem -0.3rem;
        border: 1px solid transparent;
        background: transparent;
      }
      th button:hover {
        border-color: var(--cp-border);
      }
      th[aria-sort='ascending'] button,
      th[aria-sort='descending'] button {
        color: var(--cp-accent);
      }
      .num {
        text-align: right;
        white-space: nowrap;
        font-variant-numeric: tabular-nums;
      }
      th.num button {
        margin-left: auto;
      }
      .mono {
        font-family: var(--cp-mono);
        font-size: 0.82rem;
        overflow-wrap: anywhere;
        min-width: 14rem;
        max-width: 36rem;
      }
      /* Long statements (a schema, a seed) stop at three lines; the cell's title has them whole. */
      .clamp {
        display: -webkit-box;
        -webkit-box-orient: vertical;
        -webkit-line-clamp: 3;
        line-clamp: 3;
        overflow: hidden;
      }
      .links {
        display: flex;
        flex-wrap: wrap;
        gap: 0.3rem;
      }
      .links a {
        text-decoration: none;
      }
      .empty {
        padding: 1.25rem;
        text-align: center;
      }
    `,
  ];

  declare rows: unknown[];
  declare columns: Array<Column<unknown>>;
  declare rowKey: (row: unknown) => string;
  /** The link that opens a finding, keeping the page's service and range. */
  declare findingHref: (finding: FindingSummary) => string;
  /** Sparkline slots before this one are left out: nothing in the table was measured there. */
  declare sparklineFrom: number;
  declare sort: string | undefined;
  /** `dir` would shadow HTMLElement's text direction. */
  declare sortDir: SortDirection | undefined;
  declare filter: string;
  /** Names the table for screen readers. */
  declare caption: string;

  constructor() {
    super();
    this.rows = [];
    this.columns = [];
    this.rowKey = (row) => JSON.stringify(row);
    this.findingHref = () => '#';
    this.sparklineFrom = 0;
    this.sort = undefined;
    this.sortDir = undefined;
    this.filter = '';
    this.caption = '';
  }

  override render() {
    const shown = shownRows(this.rows, this.columns, {
      filter: this.filter,
      sort: this.sort,
      dir: this.sortDir,
    });
    return html`<div class="toolbar">
        <label>
          Filter
          <input
            type="search"
            placeholder="words to match"
            .value=${live(this.filter)}
            @input=${(event: Event) => this.change({ filter: (event.target as HTMLInputElement).value })}
          />
        </label>
        <span class="muted" role="status">${shown.length} of ${this.rows.length} ${this.rows.length === 1 ? 'row' : 'rows'}</span>
      </div>
      <div class="scroll">
        <table>
          <caption class="visually-hidden">${this.caption}</caption>
          <thead>
            <tr>${this.columns.map((column) => this.renderHeader(column))}</tr>
          </thead>
          <tbody>
            ${
              shown.length === 0
                ? html`<tr><td class="empty muted" colspan=${this.columns.length}>${this.rows.length === 0 ? 'Nothing seen in this time range.' : 'No rows match the filter.'}</td></tr>`
                : repeat(
                    shown,
                    this.rowKey,
                    (row) => html`<tr>${this.columns.map((column) => this.renderCell(column, row))}</tr>`,
                  )
            }
          </tbody>
        </table>
      </div>`;
  }

  private renderHeader(column: Column<unknown>) {
    const classes = column.numeric ? 'num' : '';
    if (!column.value)
      return html`<th scope="col" class=${classes} title=${column.description ?? nothing}>${column.label}</th>`;
    const sorted = column.key === this.sort;
    const dir = this.sortDir ?? (column.numeric ? 'desc' : 'asc');
    const ariaSort = sorted ? (dir === 'asc' ? 'ascending' : 'descending') : 'none';
    return html`<th scope="col" class=${classes} aria-sort=${ariaSort}>
      <button
        type="button"
        title=${column.description ?? nothing}
        @click=${() => this.change(nextSort({ sort: this.sort, dir: this.sortDir }, column))}
      >${column.label}<span aria-hidden="true">${sorted ? (dir === 'asc' ? ' ▲' : ' ▼') : ''}</span></button>
    </th>`;
  }

  private renderCell(column: Column<unknown>, row: unknown) {
    if (column.sparkline) {
      return html`<td>
        <cp-sparkline
          .values=${column.sparkline.values(row).slice(this.sparklineFrom)}
          .format=${column.sparkline.format}
          label=${column.sparkline.label}
        ></cp-sparkline>
      </td>`;
    }
    if (column.findings) {
      const findings = column.findings(row);
      return html`<td>
        <span class="links">
          ${findings.length === 0 ? html`<span class="muted">—</span>` : nothing}
          ${findings.map(
            (finding) =>
              html`<a class="badge severity-${finding.severity}" href=${this.findingHref(finding)} title=${`${finding.title} · ${formatImpact(finding.impact)}`}>${kindLabel(finding.kind)}</a>`,
          )}
        </span>
      </td>`;
    }
    const text = column.text?.(row) ?? '';
    if (column.mono) return html`<td class="mono"><span class="clamp" title=${text}>${text}</span></td>`;
    return html`<td class=${column.numeric ? 'num' : ''}>${text}</td>`;
  }

  private change(detail: TableChange): void {
    this.dispatchEvent(
      new CustomEvent<TableChange>('cp-table-change', { detail, bubbles: true, composed: true }),
    );
  }
}

customElements.define('cp-data-table', DataTable);

declare global {
  interface HTMLElementTagNameMap {
    'cp-data-table': DataTable;
  }
}
