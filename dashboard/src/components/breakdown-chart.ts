/**
 * `<cp-breakdown-chart>`: where a route's requests spend their time, one stacked bar per
 * route: SQL, cache, outbound HTTP, queue publishing, and the route's own code. Per request
 * on average, in ms, so a slow route and its cause read in one line.
 */
import type { ChartConfiguration } from 'chart.js';
import { css, type PropertyValues } from 'lit';
import type { EndpointRow, TimePart } from '../api-types.js';
import { formatDuration, truncate } from '../format.js';
import { type ChartColours, ChartElement, chartStyles } from './chart-element.js';

/** The parts of a request's time, in stacking order, with their legend names. */
export const TIME_PARTS: ReadonlyArray<{ part: TimePart; label: string }> = [
  { part: 'sql', label: 'SQL' },
  { part: 'cache', label: 'Cache' },
  { part: 'http', label: 'HTTP out' },
  { part: 'queue', label: 'Queue publish' },
  { part: 'ownCode', label: 'Own code' },
];

const MAX_BARS = 12;
const BAR_HEIGHT_PX = 30;
const LABEL_CHARACTERS = 40;

export class BreakdownChart extends ChartElement<'bar'> {
  static override properties = {
    rows: { attribute: false },
  };

  static override styles = chartStyles(css`calc(var(--bars, 1) * ${BAR_HEIGHT_PX}px + 80px)`);

  /** Routes in the order to draw them; the first twelve are drawn. */
  declare rows: EndpointRow[];
  private shown: EndpointRow[] = [];

  constructor() {
    super();
    this.rows = [];
  }

  protected override willUpdate(): void {
    this.shown = this.rows.slice(0, MAX_BARS);
    this.setBars(Math.max(this.shown.length, 1));
  }

  protected override describe(): string {
    const summary = this.shown
      .map(
        (row) =>
          `${row.route}: ${TIME_PARTS.map(({ part, label }) => `${label} ${formatDuration(row.breakdownMs?.[part] ?? 0)}`).join(', ')}`,
      )
      .join('; ');
    return `Time per request by kind of work, in ms. ${summary}`;
  }

  protected override shouldRedraw(changed: PropertyValues<this>): boolean {
    return changed.has('rows');
  }

  protected override chartConfig(colours: ChartColours): ChartConfiguration<'bar'> {
    const { ticks } = colours;
    return {
      type: 'bar',
      data: {
        labels: this.shown.map((row) => truncate(row.route, LABEL_CHARACTERS)),
        datasets: TIME_PARTS.map(({ part, label }) => ({
          label,
          data: this.shown.map((row) => row.breakdownMs?.[part] ?? 0),
          backgroundColor: colours.parts[part],
          maxBarThickness: 22,
        })),
      },
      options: {
        indexAxis: 'y',
        plugins: {
          legend: { position: 'top', labels: { ...ticks, boxWidth: 12 } },
          tooltip: {
            callbacks: {
              title: (items) => this.shown[items[0]?.dataIndex ?? 0]?.route ?? '',
              label: (item) => `${item.dataset.label}: ${formatDuration(item.parsed.x ?? 0)} per request`,
            },
          },
        },
        scales: {
          x: {
            stacked: true,
            beginAtZero: true,
            grid: { color: colours.grid },
            ticks: { ...ticks, callback: (value) => formatDuration(Number(value)) },
            title: { display: true, text: 'time per request (mean)', ...ticks },
          },
          y: { stacked: true, grid: { display: false }, ticks },
        },
      },
    };
  }
}

customElements.define('cp-breakdown-chart', BreakdownChart);

declare global {
  interface HTMLElementTagNameMap {
    'cp-breakdown-chart': BreakdownChart;
  }
}
