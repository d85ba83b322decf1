/**
 * `<cp-time-chart>`: a finding's measure over time (latency percentiles, hit ratio, queue
 * wait, repeats per request), the line its rule watches drawn boldest, its threshold dashed.
 * The time axis is linear epoch milliseconds labelled by the dashboard's own clock format,
 * so no date adapter is bundled.
 */
import type { ChartConfiguration } from 'chart.js';
import { css, type PropertyValues } from 'lit';
import { type ChartUnit, type TimeChart, timeTicks } from '../finding-charts.js';
import {
  formatClock,
  formatDuration,
  formatImpact,
  formatRate,
  formatRepeats,
  formatShare,
} from '../format.js';
import { type ChartColours, ChartElement, chartStyles } from './chart-element.js';

const FORMAT: Record<ChartUnit, (value: number) => string> = {
  ms: formatDuration,
  ratio: formatShare,
  times: formatRepeats,
  msPerSecond: (value) => `${formatDuration(value)}/s`,
  msPerMinute: formatImpact,
  perMinute: formatRate,
};

export class TimeChartElement extends ChartElement<'line'> {
  static override properties = {
    chart: { attribute: false },
    fromMs: { attribute: false },
    toMs: { attribute: false },
  };

  static override styles = chartStyles(css`220px`);

  declare chart: TimeChart | undefined;
  /** The time axis spans the range shown, even where there is no data. */
  declare fromMs: number;
  declare toMs: number;

  constructor() {
    super();
    this.chart = undefined;
    this.fromMs = Date.now() - 3_600_000;
    this.toMs = Date.now();
  }

  protected override shouldRedraw(changed: PropertyValues<this>): boolean {
    return changed.has('chart') || changed.has('fromMs') || changed.has('toMs');
  }

  /** The chart in words: each line's latest value and its highest, for screen readers. */
  protected override describe(): string {
    const chart = this.chart;
    if (!chart) return 'No data to chart';
    const format = FORMAT[chart.unit];
    const lines = chart.lines.map((line) => {
      const values = line.points.flatMap((point) => (point.y === null ? [] : [point.y]));
      if (values.length === 0) return `${line.label}: no data`;
      return `${line.label}: latest ${format(values[values.length - 1] ?? 0)}, highest ${format(Math.max(...values))}`;
    });
    return `${chart.title}. ${lines.join('; ')}`;
  }

  protected override chartConfig(colours: ChartColours): ChartConfiguration<'line'> {
    const chart = this.chart ?? { title: '', unit: 'ms' as const, lines: [] };
    const format = FORMAT[chart.unit];
    const { ticks } = colours;
    const datasets: ChartConfiguration<'line'>['data']['datasets'] = chart.lines.map((line, index) => {
      const colour = line.main ? colours.series[0] : colours.series[index === 0 ? 1 : 2];
      return {
        label: line.label,
        data: line.points,
        borderColor: colour,
        backgroundColor: colour,
        borderWidth: line.main ? 2.5 : 1.5,
        pointRadius: line.points.length < 30 ? 2.5 : 0,
        spanGaps: false,
      };
    });
    if (chart.threshold) {
      datasets.push({
        label: `${chart.threshold.label} ${format(chart.threshold.value)}`,
        data: [
          { x: this.fromMs, y: chart.threshold.value },
          { x: this.toMs, y: chart.threshold.value },
        ],
        borderColor: colours.threshold,
        backgroundColor: colours.threshold,
        borderDash: [6, 4],
        borderWidth: 1.5,
        pointRadius: 0,
      });
    }
    const rangeMs = this.toMs - this.fromMs;
    return {
      type: 'line',
      data: { datasets },
      options: {
        parsing: false,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        plugins: {
          legend: { labels: { ...ticks, boxWidth: 14, boxHeight: 2 } },
          tooltip: {
            callbacks: {
              title: (items) => formatClock(items[0]?.parsed.x ?? 0, rangeMs),
              label: (item) => `${item.dataset.label}: ${format(item.parsed.y ?? 0)}`,
            },
          },
        },
        scales: {
          x: {
            type: 'linear',
            min: this.fromMs,
            max: this.toMs,
            grid: { color: colours.grid },
            ticks: { ...ticks, callback: (value) => formatClock(Number(value), rangeMs) },
            // Ticks on whole minutes and hours, not wherever the range happens to start.
            afterBuildTicks: (axis) => {
              axis.ticks = timeTicks(this.fromMs, this.toMs).map((value) => ({ value }));
            },
          },
          y: {
            beginAtZero: true,
            ...(chart.unit === 'ratio' ? { max: 1 } : {}),
            grid: { color: colours.grid },
            ticks: { ...ticks, maxTicksLimit: 6, callback: (value) => format(Number(value)) },
          },
        },
      },
    };
  }
}

customElements.define('cp-time-chart', TimeChartElement);

declare global {
  interface HTMLElementTagNameMap {
    'cp-time-chart': TimeChartElement;
  }
}
