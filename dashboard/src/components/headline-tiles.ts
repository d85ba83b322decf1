/**
 * `<cp-headline-tiles>`: the overview's five numbers at a glance — traffic, latency, time
 * in SQL, cache hit ratio, queue lag — each with its unit and what it is about.
 */
import { css, html, LitElement } from 'lit';
import { sharedStyles } from '../styles.js';
import type { Tile } from '../tiles.js';

export class HeadlineTiles extends LitElement {
  static override properties = {
    tiles: { attribute: false },
    heading: {},
  };

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      dl {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr));
        gap: 0.75rem;
        margin: 0;
      }
      div {
        padding: 0.7rem 0.9rem;
        background: var(--cp-surface);
        border: 1px solid var(--cp-border);
        border-radius: var(--cp-radius);
        min-width: 0;
      }
      dt {
        font-size: 0.8rem;
        color: var(--cp-muted);
      }
      dd {
        margin: 0;
      }
      .value {
        display: block;
        font-size: 1.45rem;
        font-weight: 700;
        font-variant-numeric: tabular-nums;
        line-height: 1.3;
      }
      .detail {
        display: block;
        font-size: 0.8rem;
        color: var(--cp-muted);
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
    `,
  ];

  declare tiles: Tile[];
  /** What the numbers cover (`shop · last 1 h`), for screen readers. */
  declare heading: string;

  constructor() {
    super();
    this.tiles = [];
    this.heading = '';
  }

  override render() {
    return html`<dl aria-label=${this.heading}>
      ${this.tiles.map(
        (tile) => html`<div data-tile=${tile.id}>
          <dt>${tile.label}</dt>
          <dd>
            <span class="value">${tile.value}</span>
            <span class="detail" title=${tile.detail}>${tile.detail}</span>
          </dd>
        </div>`,
      )}
    </dl>`;
  }
}

customElements.define('cp-headline-tiles', HeadlineTiles);

declare global {
  interface HTMLElementTagNameMap {
    'cp-headline-tiles': HeadlineTiles;
  }
}
