/**
 * What every Chart.js component shares: the chart is created once its canvas is in the
 * page, redrawn when the colour scheme changes, updated in place when its data does, and
 * destroyed with the element. A subclass says what to draw (`chartConfig`) and when its
 * data changed (`shouldRedraw`).
 */
import { Chart, type ChartConfiguration, type ChartType } from 'chart.js';
import { LitElement, type PropertyValues } from 'lit';

/** Canvas cannot read CSS variables: the chart colours, read from the element's computed style. */
export interface ChartColours {
  text: string;
  grid: string;
  font: string;
  bar: string;
  selected: string;
  threshold: string;
  series: [string, string, string];
  parts: { sql: string; cache: string; http: string; queue: string; ownCode: string };
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

  /** The chart to draw with the current properties and colours. */
  protected abstract chartConfig(colours: ChartColours): ChartConfiguration<T>;

  /** True when the properties that feed the chart changed. */
  protected abstract shouldRedraw(changed: PropertyValues<this>): boolean;

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
      text: read('--cp-muted'),
      grid: read('--cp-chart-grid'),
      font: read('--cp-font'),
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
    };
  }
}
