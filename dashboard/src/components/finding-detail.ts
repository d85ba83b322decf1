/**
 * `<cp-finding-detail>`: one finding, in the order a reader needs it — how much it costs,
 * what to change (with the code to paste), the chart that proves it, the example request
 * with the operations it is about highlighted, then the evidence and how it compares.
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import type { Finding } from '../../../model/finding.js';
import type { ExampleTrace, FindingSummary, SeriesPoint } from '../api-types.js';
import { chartAxis, chartKind, findingChart, type TimeChart, thresholdFor } from '../finding-charts.js';
import { formatAgo, formatImpact, kindLabel } from '../format.js';
import type { FindingsRoute } from '../router.js';
import { sharedStyles } from '../styles.js';
import { highlighterFor, type Waterfall, waterfall } from '../waterfall.js';
import './copy-button.js';
import './finding-evidence.js';
import './impact-chart.js';
import './time-chart.js';
import './trace-waterfall.js';

/** The example request: loading, loaded, or no longer kept by the collector. */
export type TraceState = ExampleTrace | 'loading' | 'missing';

/** How the waterfall names the operations a finding is about. */
const MARKS: Record<string, string> = {
  n_plus_one: 'repeated',
  n_plus_one_http: 'repeated call',
  slow_query: 'this statement',
  cache_hit_ratio: 'this key pattern',
  queue_lag: 'this queue',
  connection_pool: 'connection wait',
  dependency_resilience: 'call to this dependency',
  offload_candidate: 'offloadable work',
  static_assets: 'static file',
};

const DOMINANT_MARKS: Record<string, string> = {
  sql: 'SQL',
  cache: 'cache call',
  http: 'outbound HTTP',
  queue: 'queue publish',
};

export class FindingDetail extends LitElement {
  static override properties = {
    finding: { attribute: false },
    findings: { attribute: false },
    route: { attribute: false },
    series: { attribute: false },
    trace: { attribute: false },
    detection: { attribute: false },
    now: { attribute: false },
    fromMs: { attribute: false },
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
      .cost {
        margin: 0;
      }
      .cost strong {
        font-size: 1.15rem;
      }
      .regression {
        margin: 0;
        color: var(--cp-critical);
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
      .note {
        margin: 0;
      }
    `,
  ];

  declare finding: Finding | undefined;
  /** Every finding of the same service, for the comparison chart. */
  declare findings: FindingSummary[];
  declare route: FindingsRoute;
  /** The finding's series (`api/findings/:id`), once fetched. */
  declare series: SeriesPoint[] | undefined;
  declare trace: TraceState | undefined;
  /** The detection settings in force (`api/meta`), for the chart's threshold line. */
  declare detection: Record<string, unknown> | undefined;
  declare now: number;
  /** Where the range shown starts: the chart's time axis begins there. */
  declare fromMs: number;
  /** The example request laid out, kept while neither it nor the finding changes. */
  private layout: Waterfall | undefined;

  constructor() {
    super();
    this.finding = undefined;
    this.findings = [];
    this.route = { view: 'findings' };
    this.series = undefined;
    this.trace = undefined;
    this.detection = undefined;
    this.now = Date.now();
    this.fromMs = this.now - 3_600_000;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('trace') && !changed.has('finding')) return;
    const finding = this.finding;
    this.layout =
      finding && typeof this.trace === 'object'
        ? waterfall(this.trace.operations, highlighterFor(finding) ?? (() => false))
        : undefined;
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
          <span class="muted">· ${finding.service}</span>
          <span class="badge status status-${finding.status}">${finding.status}</span>
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
        ${
          finding.status === 'regressed' && finding.baseline
            ? html`<p class="regression">
                Worse since version ${finding.serviceVersion ?? 'the latest'}: it cost
                ${formatImpact(finding.baseline.impact)} in version ${finding.baseline.serviceVersion}.
              </p>`
            : nothing
        }
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

      ${this.renderChart(finding)} ${this.renderExample(finding)}

      <section aria-labelledby="evidence">
        <h3 id="evidence">Evidence</h3>
        <cp-finding-evidence .finding=${finding} .route=${this.route}></cp-finding-evidence>
      </section>

      <section aria-labelledby="comparison">
        <h3 id="comparison">Impact next to the other findings</h3>
        <cp-impact-chart .findings=${this.findings} .selectedId=${finding.id}></cp-impact-chart>
      </section>
    </article>`;
  }

  private renderChart(finding: Finding) {
    const loaded = this.series !== undefined;
    let chart: TimeChart | undefined;
    if (this.series) {
      const threshold = thresholdFor(finding.kind, this.detection);
      chart = findingChart(chartKind(finding), this.series, this.fromMs, threshold);
    }
    if (loaded && !chart) return nothing;
    return html`<section aria-labelledby="proof">
      <h3 id="proof">${chart?.title ?? 'Over time'}</h3>
      ${
        chart
          ? chart.lines.some((line) => line.points.length > 0)
            ? this.renderTimeChart(chart)
            : html`<p class="note muted">No measurements in this time range: pick a longer one.</p>`
          : html`<p class="note muted">Loading…</p>`
      }
    </section>`;
  }

  private renderTimeChart(chart: TimeChart) {
    const axis = chartAxis(chart, this.fromMs, this.now);
    return html`<cp-time-chart .chart=${chart} .fromMs=${axis.fromMs} .toMs=${axis.toMs}></cp-time-chart>`;
  }

  private renderExample(finding: Finding) {
    const traceId = finding.evidence.exampleTraceId;
    if (typeof traceId !== 'string' || this.trace === undefined) return nothing;
    const mark =
      MARKS[finding.kind] ?? DOMINANT_MARKS[String(finding.evidence.dominant)] ?? 'about this finding';
    let body: unknown;
    if (this.trace === 'loading') body = html`<p class="note muted">Loading…</p>`;
    else if (this.trace === 'missing') {
      body = html`<p class="note muted">The collector no longer keeps this request (it keeps a few hundred recent ones).</p>`;
    } else body = html`<cp-trace-waterfall .waterfall=${this.layout} mark=${mark}></cp-trace-waterfall>`;
    return html`<section aria-labelledby="example">
      <h3 id="example">Example request <code class="muted">${traceId}</code></h3>
      ${body}
    </section>`;
  }
}

customElements.define('cp-finding-detail', FindingDetail);

declare global {
  interface HTMLElementTagNameMap {
    'cp-finding-detail': FindingDetail;
  }
}
