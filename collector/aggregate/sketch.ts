/**
 * A mergeable quantile sketch with bounded relative error (the DDSketch idea:
 * logarithmic buckets). Two sketches merge exactly, so per-minute buckets roll up
 * into hours and windows without losing accuracy — which averaged percentiles cannot.
 *
 * The buckets are held as one array of (index, count) pairs sorted by index, exactly as long as
 * it needs to be, rather than a `Map`: the window holds a sketch per key per minute per family
 * (29,617 after 1M spans over 10k fingerprints), most of them with a few buckets, and a `Map`'s
 * table costs ~150 bytes before its first entry. Sorted pairs also make quantiles, merges and
 * serialising one pass with no sort.
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

/** Shared by every sketch without buckets: only ever replaced, never written. */
const NO_PAIRS: number[] = [];

/** The value a bucket stands for: the middle of its range, within ±1% of every value in it. */
function bucketValue(index: number): number {
  return (2 * GAMMA ** index) / (GAMMA + 1);
}

export class QuantileSketch {
  /**
   * `[index, count, index, count, …]`, ascending by index, counts > 0. Replaced, never grown in
   * place (a grown array keeps spare room), so its length is exact; empty sketches share one.
   */
  private pairs: number[] = NO_PAIRS;
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
    this.addToBucket(Math.ceil(Math.log(value) / LOG_GAMMA), times);
  }

  /** An independent copy (cheaper than merging into an empty sketch). */
  clone(): QuantileSketch {
    const copy = new QuantileSketch();
    copy.total = this.total;
    copy.zeroCount = this.zeroCount;
    if (this.pairs.length > 0) copy.pairs = this.pairs.slice();
    return copy;
  }

  merge(other: QuantileSketch): void {
    this.total += other.total;
    this.zeroCount += other.zeroCount;
    const mine = this.pairs;
    const theirs = other.pairs;
    if (theirs.length === 0) return;
    if (mine.length === 0) {
      this.pairs = theirs.slice();
      return;
    }
    // One pass counts the buckets of the union: when it adds none, counts are added in place.
    let union = 0;
    let a = 0;
    let b = 0;
    while (a < mine.length && b < theirs.length) {
      const difference = (mine[a] as number) - (theirs[b] as number);
      if (difference <= 0) a += 2;
      if (difference >= 0) b += 2;
      union += 2;
    }
    union += mine.length - a + (theirs.length - b);
    if (union === mine.length) {
      for (a = 0, b = 0; b < theirs.length; b += 2) {
        while (mine[a] !== theirs[b]) a += 2;
        (mine[a + 1] as number) += theirs[b + 1] as number;
      }
      return;
    }
    const merged = new Array<number>(union);
    let at = 0;
    for (a = 0, b = 0; a < mine.length || b < theirs.length; at += 2) {
      const difference =
        a === mine.length ? 1 : b === theirs.length ? -1 : (mine[a] as number) - (theirs[b] as number);
      if (difference < 0) {
        merged[at] = mine[a] as number;
        merged[at + 1] = mine[a + 1] as number;
        a += 2;
      } else if (difference > 0) {
        merged[at] = theirs[b] as number;
        merged[at + 1] = theirs[b + 1] as number;
        b += 2;
      } else {
        merged[at] = mine[a] as number;
        merged[at + 1] = (mine[a + 1] as number) + (theirs[b + 1] as number);
        a += 2;
        b += 2;
      }
    }
    this.pairs = merged;
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
    const pairs = this.pairs;
    if (pairs.length === 0) return 0;
    for (let at = 0; at < pairs.length; at += 2) {
      seen += pairs[at + 1] as number;
      if (rank < seen) return bucketValue(pairs[at] as number);
    }
    return bucketValue(pairs[pairs.length - 2] as number);
  }

  toJSON(): SerializedSketch {
    const pairs = this.pairs;
    const buckets = pairs.length / 2;
    const i = new Array<number>(buckets);
    const c = new Array<number>(buckets);
    for (let bucket = 0; bucket < buckets; bucket++) {
      i[bucket] = pairs[2 * bucket] as number;
      c[bucket] = pairs[2 * bucket + 1] as number;
    }
    return { i, c, z: this.zeroCount };
  }

  static fromJSON(data: SerializedSketch): QuantileSketch {
    const sketch = new QuantileSketch();
    if (data.z > 0) sketch.add(0, data.z);
    data.i.forEach((index, position) => {
      const count = data.c[position] ?? 0;
      if (count > 0) {
        sketch.addToBucket(index, count);
        sketch.total += count;
      }
    });
    return sketch;
  }

  private addToBucket(index: number, times: number): void {
    const pairs = this.pairs;
    // Binary search over the pairs: `low` ends at the pair holding `index` or where it goes.
    let low = 0;
    let high = pairs.length / 2;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((pairs[2 * middle] as number) < index) low = middle + 1;
      else high = middle;
    }
    const at = 2 * low;
    if (pairs[at] === index) {
      (pairs[at + 1] as number) += times;
      return;
    }
    const grown = new Array<number>(pairs.length + 2);
    for (let copied = 0; copied < at; copied++) grown[copied] = pairs[copied] as number;
    grown[at] = index;
    grown[at + 1] = times;
    for (let copied = at; copied < pairs.length; copied++) grown[copied + 2] = pairs[copied] as number;
    this.pairs = grown;
  }
}
