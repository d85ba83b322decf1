/**
 * What every Chart.js component shares: a canvas in a frame of the component's height,
 * described in words for screen readers; the chart created once that canvas is in the page,
 * sized by its frame, redrawn when the colour scheme changes, updated in place when its data
 * does, and destroyed with the element. A subclass says what to draw (`chartConfig`), how
 * to say it (`describe`) and when its data changed (`shouldRedraw`).
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  type ChartType,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import { type CSSResult, type CSSResultGroup, css, html, LitElement, type PropertyValues } from 'lit';
import { sharedStyles } from '../styles.js';

// Only what the dashboard draws (bars and lines), not chart.js/auto's every chart type.
Chart.register(
  BarController,
  BarElement,
  LineController,
  LineElement,
  PointElement,
  CategoryScale,
  LinearScale,
  Legend,
  Tooltip,
);
// Every chart here is sized by its frame and drawn at once: a redraw is new data, not something to watch move.
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.animation = false;

/** Canvas cannot read CSS variables: the chart colours, read from the element's computed style. */
export interface ChartColours {
  grid: string;
  bar: string;
  selected: string;
  threshold: string;
  series: [string, string, string];
  parts: { sql: string; cache: string; http: string; queue: string; ownCode: string };
  /** Text on the canvas: ticks, legends, axis titles. */
  ticks: { color: string; font: { family: string } };
}

/**
 * A chart component's styles: its frame `height` tall.
 *
 * @example
 * static override styles = chartStyles(css`calc(var(--bars, 1) * 26px + 56px)`);
 */
export function chartStyles(height: CSSResult): CSSResultGroup {
  return [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      .frame {
        position: relative;
        height: ${height};
      }
    `,
  ];
}

export abstract class ChartElement<T extends ChartType> extends LitElement {
  private drawn: Chart<T> | undefined;
  private readonly darkScheme = matchMedia('(prefers-color-scheme: dark)');
  private readonly onSchemeChange = () => this.draw();

  override connectedCallback(): void {
    super.connectedCallback();
    this.darkScheme.addEventListener('change', this.onSchemeChange);
    // Reattached after a disconnect: the chart was destroyed, so draw it again.
    if (this.hasUpdated) this.requestUpdate();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.darkScheme.removeEventListener('change', this.onSchemeChange);
    this.drawn?.destroy();
    this.drawn = undefined;
  }

  override render() {
    return html`<div class="frame">
      <canvas role="img" aria-label=${this.describe()}></canvas>
    </div>`;
  }

  /** The chart to draw with the current properties and colours. */
  protected abstract chartConfig(colours: ChartColours): ChartConfiguration<T>;

  /** The chart in words, for screen readers: what it shows and its values. */
  protected abstract describe(): string;

  /** True when the properties that feed the chart changed. */
  protected abstract shouldRedraw(changed: PropertyValues<this>): boolean;

  /** Sizes a chart that grows with its rows (`--bars` in its height). */
  protected setBars(count: number): void {
    // Through CSSOM: the page's Content-Security-Policy refuses style attributes, not style properties.
    this.style.setProperty('--bars', String(count));
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (!this.drawn || this.shouldRedraw(changed)) this.draw();
  }

  /**
   * Created only once the canvas is in the page: Chart.js watches `document` for a canvas
   * being attached, and that observer never sees nodes added inside a shadow root.
   */
  private draw(): void {
    const canvas = this.renderRoot.querySelector('canvas');
    if (!canvas || !this.isConnected) return;
    const config = this.chartConfig(this.colours());
    if (!this.drawn) {
      this.drawn = new Chart(canvas, config);
      return;
    }
    this.drawn.data = config.data;
    if (config.options) this.drawn.options = config.options;
    this.drawn.update();
  }

  private colours(): ChartColours {
    const style = getComputedStyle(this);
    const read = (name: string) => style.getPropertyValue(name).trim();
    return {
      grid: read('--cp-chart-grid'),
      bar: read('--cp-chart-bar'),
      selected: read('--cp-chart-selected'),
      threshold: read('--cp-chart-threshold'),
      series: [read('--cp-series-1'), read('--cp-series-2'), read('--cp-series-3')],
      parts: {
        sql: read('--cp-part-sql'),
        cache: read('--cp-part-cache'),
        http: read('--cp-part-http'),
        queue: read('--cp-part-queue'),
        ownCode: read('--cp-part-own'),
      },
      ticks: { color: read('--cp-muted'), font: { family: read('--cp-font') } },
    };
  }
}
