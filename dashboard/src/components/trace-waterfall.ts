/**
 * `<cp-trace-waterfall>`: a finding's example request on its timeline, one row per
 * operation in call order, the operations the finding is about highlighted and marked in
 * words (colour is never the only cue). Bars are SVG rectangles, placed by attributes: the
 * page's Content-Security-Policy allows no inline style.
 */
import { css, html, LitElement, nothing } from 'lit';
import { formatDuration } from '../format.js';
import { sharedStyles } from '../styles.js';
import type { Waterfall, WaterfallRow } from '../waterfall.js';

const TRACK = 1000;
/** Indentation stops here: deeper calls still read as nested. */
const MAX_DEPTH = 6;
/** The shortest bar drawn, in track units: sub-millisecond operations stay visible. */
const MIN_BAR = 3;

export class TraceWaterfall extends LitElement {
  static override properties = {
    waterfall: { attribute: false },
    mark: {},
  };

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      .summary {
        margin: 0 0 0.5rem;
      }
      ol {
        list-style: none;
        margin: 0;
        padding: 0;
        border: 1px solid var(--cp-border);
        border-radius: var(--cp-radius);
        max-height: 26rem;
        overflow-y: auto;
      }
      li {
        display: grid;
        grid-template-columns: minmax(10rem, 5fr) minmax(8rem, 4fr) 4.5rem;
        gap: 0.75rem;
        align-items: center;
        padding: 0.15rem 0.6rem;
        font-size: 0.8rem;
        border-bottom: 1px solid var(--cp-border);
      }
      li:last-child {
        border-bottom: none;
      }
      li.highlighted {
        background: var(--cp-highlight-bg);
      }
      .label {
        display: flex;
        gap: 0.4rem;
        align-items: baseline;
        min-width: 0;
      }
      .text {
        font-family: var(--cp-mono);
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .tag {
        flex: none;
        font-size: 0.7rem;
        color: var(--cp-muted);
        text-transform: uppercase;
        letter-spacing: 0.03em;
      }
      .highlighted .tag {
        color: var(--cp-highlight);
        font-weight: 700;
      }
      .depth-1 .label {
        padding-left: 0.9rem;
      }
      .depth-2 .label {
        padding-left: 1.8rem;
      }
      .depth-3 .label {
        padding-left: 2.7rem;
      }
      .depth-4 .label {
        padding-left: 3.6rem;
      }
      .depth-5 .label {
        padding-left: 4.5rem;
      }
      .depth-6 .label {
        padding-left: 5.4rem;
      }
      svg {
        display: block;
        width: 100%;
        height: 0.8rem;
      }
      rect {
        fill: var(--cp-trace-bar);
      }
      .highlighted rect {
        fill: var(--cp-highlight);
      }
      .error rect {
        stroke: var(--cp-critical);
        stroke-width: 2;
      }
      .duration {
        text-align: right;
        font-variant-numeric: tabular-nums;
        white-space: nowrap;
      }
    `,
  ];

  declare waterfall: Waterfall | undefined;
  /** How a highlighted row is named for readers who cannot see the colour: `repeated`, … */
  declare mark: string;

  constructor() {
    super();
    this.waterfall = undefined;
    this.mark = 'this finding';
  }

  override render() {
    const waterfall = this.waterfall;
    if (!waterfall || waterfall.rows.length === 0) return nothing;
    const total = waterfall.rows.length + waterfall.hidden;
    return html`<p class="summary">
        The request took <strong>${formatDuration(waterfall.totalMs)}</strong>;
        <strong>${waterfall.highlighted}</strong> of its ${total} operations are marked
        <span class="badge">${this.mark}</span>.
      </p>
      <ol aria-label="Operations of the example request, in call order">
        ${waterfall.rows.map((row) => this.renderRow(row))}
      </ol>
      ${waterfall.hidden > 0 ? html`<p class="muted">${waterfall.hidden} more operations not shown.</p>` : nothing}`;
  }

  private renderRow(row: WaterfallRow) {
    const classes = [
      `depth-${Math.min(row.depth, MAX_DEPTH)}`,
      row.highlighted ? 'highlighted' : '',
      row.error ? 'error' : '',
    ].join(' ');
    const x = Math.min(row.offset * TRACK, TRACK - MIN_BAR);
    const width = Math.max(row.width * TRACK, MIN_BAR);
    return html`<li class=${classes}>
      <span class="label">
        <span class="tag">${row.tag}</span>
        <span class="text" title=${row.label}>${row.label}</span>
        ${row.highlighted ? html`<span class="visually-hidden">(${this.mark})</span>` : nothing}
      </span>
      <svg viewBox="0 0 ${TRACK} 10" preserveAspectRatio="none" aria-hidden="true">
        <rect x=${x} y="0" width=${width} height="10" rx="1.5"></rect>
      </svg>
      <span class="duration">${formatDuration(row.durationMs)}</span>
    </li>`;
  }
}

customElements.define('cp-trace-waterfall', TraceWaterfall);

declare global {
  interface HTMLElementTagNameMap {
    'cp-trace-waterfall': TraceWaterfall;
  }
}
