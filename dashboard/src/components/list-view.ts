/**
 * `<cp-list-view>`: one table view (endpoints, queries, caches, queues, runtime) over the
 * rows the shell fetched: a heading that says what is ranked, for endpoints the chart of
 * where their time goes, and the sortable, filterable table with its sparklines.
 */
import { css, html, LitElement, nothing } from 'lit';
import type { EndpointRow, FindingSummary, ListName, ListResponse } from '../api-types.js';
import { type Column, LIST_TITLES, listColumns, rowKey } from '../list-columns.js';
import { formatHash, type ListRoute } from '../router.js';
import { firstMeasuredSlot } from '../sparkline-paths.js';
import { sharedStyles } from '../styles.js';
import { shownRows } from '../tables.js';
import './breakdown-chart.js';
import './data-table.js';

export class ListView extends LitElement {
  static override properties = {
    name: {},
    list: { attribute: false },
    route: { attribute: false },
    findings: { attribute: false },
  };

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: grid;
        gap: 1rem;
      }
      h2 {
        font-size: 1.15rem;
      }
      header p {
        margin: 0.3rem 0 0;
      }
      .card {
        padding: 1rem 1.2rem;
        background: var(--cp-surface);
        border: 1px solid var(--cp-border);
        border-radius: var(--cp-radius);
      }
      .card h3 {
        font-size: 0.95rem;
        margin-bottom: 0.5rem;
      }
    `,
  ];

  declare name: ListName;
  /** The rows, once fetched. */
  declare list: ListResponse | undefined;
  declare route: ListRoute;
  declare findings: FindingSummary[];

  constructor() {
    super();
    this.name = 'endpoints';
    this.list = undefined;
    this.route = { view: 'endpoints' };
    this.findings = [];
  }

  override render() {
    const { title, about } = LIST_TITLES[this.name];
    const columns = listColumns(this.name, {
      findings: this.findings,
      allServices: !this.route.service,
    }) as Array<Column<unknown>>;
    return html`<header>
        <h2 id="list-heading">${title}</h2>
        <p class="muted">${about}</p>
      </header>
      ${this.list ? this.renderBody(columns, this.list) : html`<p class="muted">Loading…</p>`}`;
  }

  private renderBody(columns: Array<Column<unknown>>, list: ListResponse) {
    const rows = list.rows as unknown[];
    const chart =
      this.name === 'endpoints' && rows.length > 0
        ? html`<section class="card" aria-labelledby="breakdown-heading">
            <h3 id="breakdown-heading">Where a request’s time goes</h3>
            <cp-breakdown-chart .rows=${shownRows(rows, columns, this.route) as EndpointRow[]}></cp-breakdown-chart>
          </section>`
        : nothing;
    const sparklines = columns.flatMap((column) => (column.sparkline ? [column.sparkline] : []));
    const sparklineFrom = firstMeasuredSlot(
      rows.flatMap((row) => sparklines.map((sparkline) => sparkline.values(row))),
    );
    return html`${chart}
      <cp-data-table
        .rows=${rows}
        .columns=${columns}
        .rowKey=${(row: unknown) => rowKey(this.name, row as ListResponse['rows'][number])}
        .findingHref=${(finding: FindingSummary) =>
          formatHash({
            view: 'findings',
            findingId: finding.id,
            service: this.route.service,
            since: this.route.since,
          })}
        .sparklineFrom=${sparklineFrom}
        .sort=${this.route.sort}
        .sortDir=${this.route.dir}
        .filter=${this.route.filter ?? ''}
        caption=${LIST_TITLES[this.name].title}
      ></cp-data-table>`;
  }
}

customElements.define('cp-list-view', ListView);

declare global {
  interface HTMLElementTagNameMap {
    'cp-list-view': ListView;
  }
}
