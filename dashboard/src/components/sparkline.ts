/**
 * `<cp-sparkline>`: a row's trend in a table cell, as inline SVG (a hundred rows of
 * Chart.js canvases would cost more than the table). Gaps (`null`: nothing measured) break
 * the line instead of dropping it to zero; the scale starts at zero so a flat line means
 * "steady", not "noise magnified".
 */
import { css, html, LitElement, svg } from 'lit';
import { SPARKLINE_HEIGHT, SPARKLINE_WIDTH, sparklinePaths } from '../sparkline-paths.js';
import { sharedStyles } from '../styles.js';

export class Sparkline extends LitElement {
  static override properties = {
    values: { attribute: false },
    label: {},
    format: { attribute: false },
  };

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: inline-block;
        vertical-align: middle;
      }
      svg {
        display: block;
        width: 7rem;
        height: 1.5rem;
        overflow: visible;
      }
      polyline {
        fill: none;
        stroke: var(--cp-series-1);
        stroke-width: 1.75;
        stroke-linejoin: round;
        stroke-linecap: round;
      }
      .none {
        font-size: 0.8rem;
      }
    `,
  ];

  declare values: Array<number | null>;
  /** What the line measures, for its accessible description (`p95`). */
  declare label: string;
  declare format: (value: number) => string;

  constructor() {
    super();
    this.values = [];
    this.label = '';
    this.format = String;
  }

  override render() {
    const measured = this.values.filter((value): value is number => value !== null && Number.isFinite(value));
    if (measured.length === 0) return html`<span class="none muted">no data</span>`;
    const max = Math.max(...measured);
    const latest = measured[measured.length - 1] ?? 0;
    const description = `${this.label} over time: latest ${this.format(latest)}, highest ${this.format(max)}`;
    return html`<svg
      viewBox="0 0 ${SPARKLINE_WIDTH} ${SPARKLINE_HEIGHT}"
      preserveAspectRatio="none"
      role="img"
      aria-label=${description}
    >
      ${sparklinePaths(this.values, max).map(
        (points) => svg`<polyline points=${points} vector-effect="non-scaling-stroke"></polyline>`,
      )}
    </svg>`;
  }
}

customElements.define('cp-sparkline', Sparkline);

declare global {
  interface HTMLElementTagNameMap {
    'cp-sparkline': Sparkline;
  }
}
