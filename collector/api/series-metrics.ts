/**
 * Counters and histograms for the observer's per-operation series: the caller looks a series up
 * once by a key it already holds (the joined label values) and adds to it, where prom-client's
 * `inc(labels)` / `observe(labels, value)` validate and hash the label object on every call, which
 * was most of the observer's cost per span. A registry exposes, resets and merges them like its
 * own counters and histograms (the same values, so the same text); their series live here,
 * written through `series()` and removed by the same key.
 */
import type { Metric, Registry } from 'prom-client';

type Labels<L extends string> = Partial<Record<L, string | number>>;

/** One counter series: add to `value`. */
export interface CounterSeries {
  inc(amount?: number): void;
}

/** One histogram series: observe a value. */
export interface HistogramSeries {
  observe(value: number): void;
}

class CounterCell<L extends string> implements CounterSeries {
  value = 0;
  constructor(readonly labels: Labels<L>) {}

  inc(amount = 1): void {
    if (!(amount >= 0)) throw new Error(`It is not possible to decrease a counter (${amount})`);
    this.value += amount;
  }
}

class HistogramCell<L extends string> implements HistogramSeries {
  sum = 0;
  count = 0;
  /** Per bound, not cumulative; values past the last bound only count. */
  readonly counts: Float64Array;

  constructor(
    readonly labels: Labels<L>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    this.sum += value;
    this.count += 1;
    const { bounds } = this;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        (this.counts[i] as number) += 1;
        return;
      }
    }
  }
}

interface Configuration<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: Registry[];
}

/** What a registry reads of a metric: its name, help, type, aggregation (cluster) and values. */
abstract class SeriesMetric<L extends string, Cell> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly aggregator = 'sum';
  abstract readonly type: 'counter' | 'histogram';
  protected readonly cells = new Map<string, Cell>();

  constructor(configuration: Configuration<L>) {
    this.name = configuration.name;
    this.help = configuration.help;
    this.labelNames = configuration.labelNames;
    // A registry takes any object with the metric interface; its types name only its own classes.
    for (const registry of configuration.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** Drops the series `key` names (as prom-client's `remove(labels)` does). */
  remove(key: string): void {
    this.cells.delete(key);
  }

  reset(): void {
    this.cells.clear();
  }

  /** The series `key` names, made with `labels` (which `key` must identify) on first use. */
  series(key: string, labels: Labels<L>): Cell {
    let cell = this.cells.get(key);
    if (!cell) {
      cell = this.newCell(labels);
      this.cells.set(key, cell);
    }
    return cell;
  }

  /** A method, not a closure per lookup: `series` runs per operation. */
  protected abstract newCell(labels: Labels<L>): Cell;
}

/**
 * A counter whose series are looked up by key.
 *
 * @example
 * const calls = new SeriesCounter({ name: 'calls_total', help: '…', labelNames: ['service'], registers });
 * calls.series('checkout', { service: 'checkout' }).inc();
 */
export class SeriesCounter<L extends string> extends SeriesMetric<L, CounterCell<L>> {
  readonly type = 'counter';

  protected newCell(labels: Labels<L>): CounterCell<L> {
    return new CounterCell(labels);
  }

  async get() {
    const values = [...this.cells.values()].map(({ labels, value }) => ({ labels, value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

/**
 * A histogram whose series are looked up by key.
 *
 * @example
 * const duration = new SeriesHistogram({ name: 'call_seconds', help: '…', labelNames: ['service'], buckets: [0.1, 1], registers });
 * duration.series('checkout', { service: 'checkout' }).observe(0.25);
 */
export class SeriesHistogram<L extends string> extends SeriesMetric<L, HistogramCell<L>> {
  readonly type = 'histogram';
  private readonly bounds: number[];

  constructor(configuration: Configuration<L> & { buckets: readonly number[] }) {
    super(configuration);
    this.bounds = [...configuration.buckets].sort((a, b) => a - b);
  }

  protected newCell(labels: Labels<L>): HistogramCell<L> {
    return new HistogramCell(labels, this.bounds);
  }

  /** What the registry prints: prom-client's shape, `le` as the value's label and the series' shared (`le` prints first). */
  async getForPromString() {
    const bucketName = `${this.name}_bucket`;
    const values: Array<{
      labels: Record<string, string | number>;
      sharedLabels: Labels<L>;
      value: number;
      metricName: string;
    }> = [];
    for (const { labels, counts, sum, count } of this.cells.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += counts[i] as number;
        values.push({
          labels: { le: this.bounds[i] as number },
          sharedLabels: labels,
          value: cumulative,
          metricName: bucketName,
        });
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels: labels, value: count, metricName: bucketName });
      values.push({ labels: {}, sharedLabels: labels, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: labels, value: count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The same values with each value's labels whole (JSON, cluster merging). */
  async get() {
    const data = await this.getForPromString();
    const values = data.values.map(({ labels, sharedLabels, value, metricName }) => ({
      labels: { ...labels, ...sharedLabels },
      value,
      metricName,
    }));
    return { ...data, values };
  }
}
