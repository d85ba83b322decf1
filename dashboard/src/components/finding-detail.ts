/**
 * `<cp-finding-detail>`: one finding, in the order a reader needs it — how much it costs,
 * what to change (with the code to paste), then the evidence and how it compares.
 */
import { css, html, LitElement, nothing } from 'lit';
import type { Finding } from '../../../model/finding.js';
import { formatAgo, formatImpact, kindLabel } from '../format.js';
import { sharedStyles } from '../styles.js';
import './copy-button.js';
import './finding-evidence.js';
import './impact-chart.js';

export class FindingDetail extends LitElement {
  static override properties = {
    finding: { attribute: false },
    findings: { attribute: false },
    now: { attribute: false },
  };

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      article {
        display: grid;
        gap: 1.5rem;
        padding: 1.25rem 1.4rem;
        background: var(--cp-surface);
        border: 1px solid var(--cp-border);
        border-radius: var(--cp-radius);
      }
      header {
        display: grid;
        gap: 0.5rem;
      }
      .tags {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
        font-size: 0.9rem;
      }
      h2 {
        font-size: 1.3rem;
        overflow-wrap: anywhere;
      }
      .cost strong {
        font-size: 1.15rem;
      }
      h3 {
        font-size: 1rem;
        margin-bottom: 0.6rem;
      }
      .summary {
        margin: 0 0 0.5rem;
        font-weight: 600;
      }
      .explanation {
        margin: 0 0 0.75rem;
        white-space: pre-line;
      }
      .code-head {
        display: flex;
        justify-content: space-between;
        align-items: center;
        margin-bottom: 0.35rem;
        font-size: 0.85rem;
      }
    `,
  ];

  declare finding: Finding | undefined;
  /** Every finding in view, for the comparison chart. */
  declare findings: Finding[];
  declare now: number;

  constructor() {
    super();
    this.finding = undefined;
    this.findings = [];
    this.now = Date.now();
  }

  override render() {
    const finding = this.finding;
    if (!finding) return nothing;
    const { recommendation } = finding;
    return html`<article aria-labelledby="title">
      <header>
        <div class="tags">
          <span class="badge severity-${finding.severity}">${finding.severity}</span>
          <span>${kindLabel(finding.kind)}</span>
          <span class="muted">· ${finding.service} · ${finding.status}</span>
        </div>
        <h2 id="title">${finding.title}</h2>
        <p class="cost">
          Costs <strong>${formatImpact(finding.impact)}</strong> of wall time.
          <span class="muted">
            First seen
            <time datetime=${finding.firstSeen} title=${finding.firstSeen}>${formatAgo(finding.firstSeen, this.now)}</time>,
            last seen
            <time datetime=${finding.lastSeen} title=${finding.lastSeen}>${formatAgo(finding.lastSeen, this.now)}</time>.
          </span>
        </p>
      </header>

      <section aria-labelledby="fix">
        <h3 id="fix">What to change</h3>
        <p class="summary">${recommendation.summary}</p>
        <p class="explanation">${recommendation.detail}</p>
        ${
          recommendation.code
            ? html`<div class="code-head">
                  <span class="muted">${recommendation.language ?? 'code'}</span>
                  <cp-copy-button .text=${recommendation.code} label="Copy fix"></cp-copy-button>
                </div>
                <pre><code>${recommendation.code}</code></pre>`
            : nothing
        }
      </section>

      <section aria-labelledby="evidence">
        <h3 id="evidence">Evidence</h3>
        <cp-finding-evidence .finding=${finding}></cp-finding-evidence>
      </section>

      <section aria-labelledby="comparison">
        <h3 id="comparison">Impact next to the other findings</h3>
        <cp-impact-chart .findings=${this.findings} .selectedId=${finding.id}></cp-impact-chart>
      </section>
    </article>`;
  }
}

customElements.define('cp-finding-detail', FindingDetail);

declare global {
  interface HTMLElementTagNameMap {
    'cp-finding-detail': FindingDetail;
  }
}
