/**
 * `<cp-impact-chart>`: a horizontal bar of impact (ms/min) per finding, the selected one
 * highlighted, answering "how big is this one next to the rest?".
 */
import type { ChartConfiguration } from 'chart.js';
import { css, type PropertyValues } from 'lit';
import type { FindingSummary } from '../api-types.js';
import { formatImpact, truncate } from '../format.js';
import { type ChartColours, ChartElement, chartStyles } from './chart-element.js';

/** More bars than this stop being readable; the selected finding is always drawn. */
const MAX_BARS = 10;
const BAR_HEIGHT_PX = 30;
const LABEL_CHARACTERS = 48;

interface Bar {
  label: string;
  impact: number;
  selected: boolean;
}

/** The bars to draw: the top findings by impact, plus the selected one when it ranks lower. */
function impactBars(findings: FindingSummary[], selectedId: string | undefined): Bar[] {
  const ranked = [...findings].sort((a, b) => b.impact - a.impact);
  const shown = ranked.slice(0, MAX_BARS);
  const selected = ranked.find((finding) => finding.id === selectedId);
  if (selected && !shown.includes(selected)) shown.push(selected);
  return shown.map((finding) => ({
    label: truncate(finding.title, LABEL_CHARACTERS),
    impact: finding.impact,
    selected: finding.id === selectedId,
  }));
}

export class ImpactChart extends ChartElement<'bar'> {
  static override properties = {
    findings: { attribute: false },
    selectedId: { attribute: false },
  };

  static override styles = chartStyles(css`calc(var(--bars, 1) * ${BAR_HEIGHT_PX}px + 48px)`);

  declare findings: FindingSummary[];
  declare selectedId: string | undefined;
  private bars: Bar[] = [];

  constructor() {
    super();
    this.findings = [];
    this.selectedId = undefined;
  }

  protected override willUpdate(): void {
    this.bars = impactBars(this.findings, this.selectedId);
    this.setBars(this.bars.length);
  }

  protected override describe(): string {
    const summary = this.bars
      .map((bar) => `${bar.label}${bar.selected ? ' (this finding)' : ''}: ${formatImpact(bar.impact)}`)
      .join('; ');
    return `Impact per finding, in ms per minute. ${summary}`;
  }

  protected override shouldRedraw(changed: PropertyValues<this>): boolean {
    return changed.has('findings') || changed.has('selectedId');
  }

  protected override chartConfig(colours: ChartColours): ChartConfiguration<'bar'> {
    const bars = this.bars;
    const { ticks } = colours;
    return {
      type: 'bar',
      data: {
        labels: bars.map((bar) => bar.label),
        datasets: [
          {
            data: bars.map((bar) => bar.impact),
            backgroundColor: bars.map((bar) => (bar.selected ? colours.selected : colours.bar)),
            borderRadius: 3,
            maxBarThickness: 22,
          },
        ],
      },
      options: {
        indexAxis: 'y',
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (item) => formatImpact(item.parsed.x ?? 0) } },
        },
        scales: {
          x: {
            beginAtZero: true,
            grid: { color: colours.grid },
            ticks,
            title: { display: true, text: 'ms of wall time per minute', ...ticks },
          },
          y: { grid: { display: false }, ticks },
        },
      },
    };
  }
}

customElements.define('cp-impact-chart', ImpactChart);

declare global {
  interface HTMLElementTagNameMap {
    'cp-impact-chart': ImpactChart;
  }
}
