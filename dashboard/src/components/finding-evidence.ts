/**
 * `<cp-finding-evidence>`: the measurements behind a finding, rendered per kind. A kind
 * without a dedicated renderer still shows its evidence, as a plain list of fields.
 * Every value is bound as text: statements and routes come from users' spans.
 */
import { css, html, LitElement, nothing, type TemplateResult } from 'lit';
import type { Evidence, Finding } from '../../../model/finding.js';
import {
  evidenceEntries,
  type QueryEvidence,
  type RouteCount,
  readNPlusOneEvidence,
  readSlowQueryEvidence,
} from '../evidence.js';
import { formatCount, formatDuration, formatRepeats, formatShare } from '../format.js';
import { sharedStyles } from '../styles.js';
import './copy-button.js';

type Measurement = [label: string, value: string];

export class FindingEvidence extends LitElement {
  static override properties = {
    finding: { attribute: false },
  };

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: grid;
        gap: 1rem;
      }
      h4 {
        margin: 0 0 0.35rem;
        font-size: 0.85rem;
        color: var(--cp-muted);
        text-transform: uppercase;
        letter-spacing: 0.04em;
      }
      h4 .muted {
        font-weight: normal;
        text-transform: none;
        letter-spacing: normal;
      }
      dl {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr));
        gap: 0.5rem;
        margin: 0;
      }
      dl > div {
        padding: 0.5rem 0.7rem;
        background: var(--cp-surface-sunken);
        border: 1px solid var(--cp-border);
        border-radius: var(--cp-radius);
      }
      dt {
        font-size: 0.8rem;
        color: var(--cp-muted);
      }
      dd {
        margin: 0;
        font-weight: 600;
        overflow-wrap: anywhere;
      }
      table {
        width: 100%;
        border-collapse: collapse;
      }
      th,
      td {
        text-align: left;
        padding: 0.3rem 0.5rem;
        border-bottom: 1px solid var(--cp-border);
        overflow-wrap: anywhere;
      }
      th:last-child,
      td:last-child {
        text-align: right;
        white-space: nowrap;
      }
      .trace {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        flex-wrap: wrap;
      }
    `,
  ];

  declare finding: Finding | undefined;

  constructor() {
    super();
    this.finding = undefined;
  }

  override render() {
    if (!this.finding) return nothing;
    const view = EVIDENCE_VIEWS[this.finding.kind] ?? genericView;
    return view(this.finding.evidence);
  }
}

/** One view per finding kind; a new kind gets its view by adding an entry here. */
const EVIDENCE_VIEWS: Record<string, (evidence: Evidence) => TemplateResult> = {
  slow_query: slowQueryView,
  n_plus_one: nPlusOneView,
};

function slowQueryView(raw: Evidence): TemplateResult {
  const evidence = readSlowQueryEvidence(raw);
  return html`${statement('Statement', evidence)}
    ${measurements([
      ['Executions', optional(evidence.count, formatCount)],
      ['Total time', optional(evidence.totalMs, formatDuration)],
      ['p50', optional(evidence.p50Ms, formatDuration)],
      ['p95', optional(evidence.p95Ms, formatDuration)],
      ['p99', optional(evidence.p99Ms, formatDuration)],
      ['Slowest', optional(evidence.maxMs, formatDuration)],
      ['Share of DB time', optional(evidence.shareOfDbTime, formatShare)],
    ])}
    ${routesTable(evidence.routes, 'Executions')} ${exampleTrace(evidence)}`;
}

function nPlusOneView(raw: Evidence): TemplateResult {
  const evidence = readNPlusOneEvidence(raw);
  return html`${statement('Repeated statement', evidence)}
    ${measurements([
      ['Requests affected', optional(evidence.requests, formatCount)],
      ['Runs per request (avg)', optional(evidence.avgRepeats, formatRepeats)],
      ['Runs per request (max)', optional(evidence.maxRepeats, formatRepeats)],
      ['Time in repeats per request', optional(evidence.repeatMsPerRequest, formatDuration)],
    ])}
    ${routesTable(evidence.routes, 'Requests')} ${exampleTrace(evidence)}`;
}

function genericView(evidence: Evidence): TemplateResult {
  return measurements(evidenceEntries(evidence));
}

function statement(heading: string, evidence: QueryEvidence): TemplateResult {
  const about = [evidence.system, evidence.statementType?.toUpperCase(), evidence.tables.join(', ')]
    .filter((part) => part)
    .join(' · ');
  return html`<section>
    <h4>${heading} <span class="muted">${about}</span></h4>
    <pre><code>${evidence.fingerprint ?? '—'}</code></pre>
  </section>`;
}

function measurements(entries: Measurement[]): TemplateResult {
  return html`<dl>
    ${entries.map(([label, value]) => html`<div><dt>${label}</dt><dd>${value}</dd></div>`)}
  </dl>`;
}

function routesTable(routes: RouteCount[], countHeading: string): TemplateResult | typeof nothing {
  if (routes.length === 0) return nothing;
  return html`<section>
    <h4>Routes affected</h4>
    <table>
      <thead>
        <tr><th scope="col">Route</th><th scope="col">${countHeading}</th></tr>
      </thead>
      <tbody>
        ${routes.map(({ route, count }) => html`<tr><td><code>${route}</code></td><td>${formatCount(count)}</td></tr>`)}
      </tbody>
    </table>
  </section>`;
}

function exampleTrace({ exampleTraceId }: QueryEvidence): TemplateResult | typeof nothing {
  if (!exampleTraceId) return nothing;
  return html`<section>
    <h4>Example trace</h4>
    <div class="trace">
      <code>${exampleTraceId}</code>
      <cp-copy-button .text=${exampleTraceId} label="Copy trace id"></cp-copy-button>
    </div>
  </section>`;
}

function optional(value: number | undefined, format: (value: number) => string): string {
  return value === undefined ? '—' : format(value);
}

customElements.define('cp-finding-evidence', FindingEvidence);

declare global {
  interface HTMLElementTagNameMap {
    'cp-finding-evidence': FindingEvidence;
  }
}
