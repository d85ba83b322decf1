/**
 * A mergeable quantile sketch with bounded relative error (the DDSketch idea:
 * logarithmic buckets). Two sketches merge exactly, so per-minute buckets roll up
 * into hours and windows without losing accuracy — which averaged percentiles cannot.
 */

/** Relative accuracy of every quantile: ±1%. */
const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
/** Values at or below this (ms) share one bucket: a microsecond is below anything worth ranking. */
const MIN_VALUE = 1e-3;

export interface SerializedSketch {
  /** Bucket indexes, ascending. */
  i: number[];
  /** Counts, parallel to `i`. */
  c: number[];
  /** Count of values ≤ MIN_VALUE. */
  z: number;
}

export class QuantileSketch {
  private readonly buckets = new Map<number, number>();
  private zeroCount = 0;
  private total = 0;

  get count(): number {
    return this.total;
  }

  add(value: number, times = 1): void {
    if (!(times > 0)) return;
    this.total += times;
    if (!(value > MIN_VALUE)) {
      this.zeroCount += times;
      return;
    }
    const index = Math.ceil(Math.log(value) / LOG_GAMMA);
    this.buckets.set(index, (this.buckets.get(index) ?? 0) + times);
  }

  /** An independent copy (cheaper than merging into an empty sketch). */
  clone(): QuantileSketch {
    const copy = new QuantileSketch();
    copy.total = this.total;
    copy.zeroCount = this.zeroCount;
    for (const [index, count] of this.buckets) copy.buckets.set(index, count);
    return copy;
  }

  merge(other: QuantileSketch): void {
    this.total += other.total;
    this.zeroCount += other.zeroCount;
    for (const [index, count] of other.buckets)
      this.buckets.set(index, (this.buckets.get(index) ?? 0) + count);
  }

  /**
   * The value at quantile `q` (0..1), within ±1% of the true value; 0 when empty.
   *
   * @example
   * const sketch = new QuantileSketch();
   * for (let ms = 1; ms <= 100; ms++) sketch.add(ms);
   * sketch.quantile(0.95); // ≈ 95
   */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.min(Math.max(q, 0), 1) * (this.total - 1);
    let seen = this.zeroCount;
    if (rank < seen) return 0;
    const indexes = [...this.buckets.keys()].sort((a, b) => a - b);
    for (const index of indexes) {
      seen += this.buckets.get(index) ?? 0;
      if (rank < seen) return (2 * GAMMA ** index) / (GAMMA + 1);
    }
    const last = indexes[indexes.length - 1];
    return last === undefined ? 0 : (2 * GAMMA ** last) / (GAMMA + 1);
  }

  toJSON(): SerializedSketch {
    const i = [...this.buckets.keys()].sort((a, b) => a - b);
    return { i, c: i.map((index) => this.buckets.get(index) ?? 0), z: this.zeroCount };
  }

  static fromJSON(data: SerializedSketch): QuantileSketch {
    const sketch = new QuantileSketch();
    if (data.z > 0) sketch.add(0, data.z);
    data.i.forEach((index, position) => {
      const count = data.c[position] ?? 0;
      if (count > 0) {
        sketch.buckets.set(index, (sketch.buckets.get(index) ?? 0) + count);
        sketch.total += count;
      }
    });
    return sketch;
  }
}
