/**
 * `<cp-findings-list>`: findings ranked by impact, each a link to its detail, so the list is
 * keyboard navigable and every row is a shareable URL. Each row says how much, how bad,
 * what kind, what exactly, and whether it is new, ongoing, regressed or resolved.
 */
import { css, html, LitElement, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { FindingSummary } from '../api-types.js';
import { formatAgo, formatImpact, kindLabel } from '../format.js';
import { type FindingsRoute, formatHash } from '../router.js';
import { sharedStyles } from '../styles.js';

export class FindingsList extends LitElement {
  static override properties = {
    findings: { attribute: false },
    route: { attribute: false },
    now: { attribute: false },
  };

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      ol {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        gap: 0.5rem;
      }
      a {
        display: grid;
        grid-template-columns: 2rem 1fr auto;
        gap: 0.15rem 0.75rem;
        padding: 0.7rem 0.9rem;
        color: inherit;
        text-decoration: none;
        background: var(--cp-surface);
        border: 1px solid var(--cp-border);
        border-radius: var(--cp-radius);
      }
      a:hover {
        border-color: var(--cp-accent);
      }
      li.resolved a {
        opacity: 0.75;
      }
      a[aria-current='true'] {
        background: var(--cp-selected);
        border-color: var(--cp-accent);
        box-shadow: inset 3px 0 0 var(--cp-accent);
      }
      .rank {
        grid-row: span 3;
        font-size: 1.1rem;
        font-weight: 700;
        color: var(--cp-muted);
      }
      .tags {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        align-items: center;
        font-size: 0.85rem;
      }
      .impact {
        grid-row: span 2;
        text-align: right;
        white-space: nowrap;
      }
      .impact strong {
        display: block;
        font-size: 1.05rem;
      }
      .title {
        font-weight: 600;
        overflow-wrap: anywhere;
      }
      .meta {
        grid-column: 2 / -1;
        font-size: 0.8rem;
      }
    `,
  ];

  declare findings: FindingSummary[];
  declare route: FindingsRoute;
  /** Epoch ms the relative times are computed against; the shell advances it on each refresh. */
  declare now: number;

  constructor() {
    super();
    this.findings = [];
    this.route = { view: 'findings' };
    this.now = Date.now();
  }

  override render() {
    // Keyed by id: a live refresh updates rows in place, so focus and scroll position survive it.
    return html`<ol>
      ${repeat(
        this.findings,
        (finding) => finding.id,
        (finding, index) => this.renderRow(finding, index + 1),
      )}
    </ol>`;
  }

  private renderRow(finding: FindingSummary, rank: number) {
    const selected = finding.id === this.route.findingId;
    return html`<li class=${finding.status === 'resolved' ? 'resolved' : ''}>
      <a href=${formatHash({ ...this.route, findingId: finding.id })} aria-current=${selected ? 'true' : nothing}>
        <span class="rank"><span class="visually-hidden">Rank </span>${rank}</span>
        <span class="tags">
          <span class="badge severity-${finding.severity}">${finding.severity}</span>
          <span>${kindLabel(finding.kind)}</span>
          <span class="muted">· ${finding.service}</span>
          <span class="badge status status-${finding.status}">${finding.status}</span>
        </span>
        <span class="impact"><strong>${formatImpact(finding.impact)}</strong><span class="muted">impact</span></span>
        <span class="title">${finding.title}</span>
        <span class="meta muted">
          First seen
          <time datetime=${finding.firstSeen} title=${finding.firstSeen}>${formatAgo(finding.firstSeen, this.now)}</time>
          · last seen
          <time datetime=${finding.lastSeen} title=${finding.lastSeen}>${formatAgo(finding.lastSeen, this.now)}</time>
        </span>
      </a>
    </li>`;
  }
}

customElements.define('cp-findings-list', FindingsList);

declare global {
  interface HTMLElementTagNameMap {
    'cp-findings-list': FindingsList;
  }
}
