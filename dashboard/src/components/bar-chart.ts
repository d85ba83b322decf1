/**
 * `<cp-bar-chart>`: one small horizontal bar chart of a finding's evidence
 * (evidence-charts.ts): either one bar split into the parts of a whole (a request's time)
 * or one bar per value (connections, calls by outcome), what the finding is about in the
 * accent colour.
 */
import type { ChartConfiguration } from 'chart.js';
import { css, type PropertyValues } from 'lit';
import type { BarChart, BarUnit } from '../evidence-charts.js';
import { formatCount, formatDuration, formatShare, truncate } from '../format.js';
import { type ChartColours, ChartElement, chartStyles } from './chart-element.js';

const FORMAT: Record<BarUnit, (value: number) => string> = {
  count: formatCount,
  ms: formatDuration,
  ratio: formatShare,
};

const BAR_HEIGHT_PX = 26;
const LABEL_CHARACTERS = 32;

export class BarChartElement extends ChartElement<'bar'> {
  static override properties = {
    chart: { attribute: false },
  };

  static override styles = chartStyles(css`calc(var(--bars, 1) * ${BAR_HEIGHT_PX}px + 56px)`);

  declare chart: BarChart | undefined;

  constructor() {
    super();
    this.chart = undefined;
  }

  protected override willUpdate(): void {
    const chart = this.chart;
    // One split bar, with room for its legend above it.
    const rows = !chart || chart.layout === 'parts' ? 2 : chart.bars.length;
    this.setBars(Math.max(rows, 1));
  }

  protected override shouldRedraw(changed: PropertyValues<this>): boolean {
    return changed.has('chart');
  }

  /** The chart in words, every bar with its value and unit. */
  protected override describe(): string {
    const chart = this.chart;
    if (!chart) return 'No data to chart';
    const format = FORMAT[chart.unit];
    return `${chart.title}: ${chart.bars.map((bar) => `${bar.label} ${format(bar.value)}`).join(', ')}`;
  }

  protected override chartConfig(colours: ChartColours): ChartConfiguration<'bar'> {
    const chart = this.chart ?? { title: '', unit: 'count' as const, layout: 'bars' as const, bars: [] };
    const format = FORMAT[chart.unit];
    const { ticks } = colours;
    const parts = chart.layout === 'parts';
    const fill = (emphasis: boolean | undefined, index: number) =>
      emphasis ? colours.selected : parts && index % 2 === 1 ? colours.parts.ownCode : colours.bar;
    const datasets: ChartConfiguration<'bar'>['data']['datasets'] = parts
      ? chart.bars.map((bar, index) => ({
          label: bar.label,
          data: [bar.value],
          backgroundColor: fill(bar.emphasis, index),
          maxBarThickness: 26,
        }))
      : [
          {
            label: chart.title,
            data: chart.bars.map((bar) => bar.value),
            backgroundColor: chart.bars.map((bar, index) => fill(bar.emphasis, index)),
            borderRadius: 3,
            maxBarThickness: 20,
          },
        ];
    return {
      type: 'bar',
      data: {
        labels: parts ? [''] : chart.bars.map((bar) => truncate(bar.label, LABEL_CHARACTERS)),
        datasets,
      },
      options: {
        indexAxis: 'y',
        plugins: {
          legend: { display: parts, position: 'top', labels: { ...ticks, boxWidth: 12 } },
          tooltip: {
            callbacks: {
              title: (items) => (parts ? '' : (chart.bars[items[0]?.dataIndex ?? 0]?.label ?? '')),
              label: (item) => `${parts ? `${item.dataset.label}: ` : ''}${format(item.parsed.x ?? 0)}`,
            },
          },
        },
        scales: {
          x: {
            stacked: parts,
            beginAtZero: true,
            ...(chart.unit === 'ratio' ? { max: 1 } : {}),
            grid: { color: colours.grid },
            ticks: {
              ...ticks,
              maxTicksLimit: 6,
              // Counts are whole: no tick at 1.5 connections.
              ...(chart.unit === 'count' ? { precision: 0 } : {}),
              callback: (value) => format(Number(value)),
            },
          },
          y: { stacked: parts, grid: { display: false }, ticks },
        },
      },
    };
  }
}

customElements.define('cp-bar-chart', BarChartElement);

declare global {
  interface HTMLElementTagNameMap {
    'cp-bar-chart': BarChartElement;
  }
}
