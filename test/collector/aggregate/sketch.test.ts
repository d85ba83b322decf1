import { describe, expect, it } from 'vitest';
import { QuantileSketch } from '../../../collector/aggregate/sketch.js';

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

describe('QuantileSketch', () => {
  it('answers quantiles within 1% of the exact value on a skewed distribution', () => {
    const values: number[] = [];
    let seed = 42;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      values.push(0.05 + (seed / 2 ** 31) ** 4 * 2_000);
    }
    const sketch = new QuantileSketch();
    for (const value of values) sketch.add(value);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.95, 0.99]) {
      const exact = exactQuantile(sorted, q);
      expect(Math.abs(sketch.quantile(q) - exact) / exact).toBeLessThanOrEqual(0.0101);
    }
  });

  it('merges exactly: per-bucket sketches merged equal one sketch of everything', () => {
    const whole = new QuantileSketch();
    const parts = [new QuantileSketch(), new QuantileSketch(), new QuantileSketch()];
    for (let i = 1; i <= 3_000; i++) {
      whole.add(i / 7);
      parts[i % 3]?.add(i / 7);
    }
    const merged = new QuantileSketch();
    for (const part of parts) merged.merge(part);
    expect(merged.count).toBe(whole.count);
    for (const q of [0, 0.25, 0.5, 0.95, 1]) expect(merged.quantile(q)).toBe(whole.quantile(q));
  });

  it('round-trips through JSON, including values at zero', () => {
    const sketch = new QuantileSketch();
    sketch.add(0);
    sketch.add(0.0001);
    for (let i = 1; i <= 100; i++) sketch.add(i);
    const copy = QuantileSketch.fromJSON(JSON.parse(JSON.stringify(sketch.toJSON())));
    expect(copy.count).toBe(102);
    expect(copy.quantile(0)).toBe(0);
    expect(copy.quantile(0.5)).toBe(sketch.quantile(0.5));
    expect(Math.abs(copy.quantile(0.99) - 99) / 99).toBeLessThan(0.011);
  });

  it('returns 0 for an empty sketch and ignores non-positive repeat counts', () => {
    const sketch = new QuantileSketch();
    sketch.add(5, 0);
    sketch.add(5, -3);
    expect(sketch.count).toBe(0);
    expect(sketch.quantile(0.95)).toBe(0);
  });

  it('merges sketches over disjoint, overlapping and contained ranges as one sketch of everything', () => {
    const ranges: Array<[number, number]> = [
      [1, 10],
      [500, 900],
      [5, 40],
      [600, 700],
      [0.002, 0.01],
    ];
    const whole = new QuantileSketch();
    const merged = new QuantileSketch();
    for (const [low, high] of ranges) {
      const part = new QuantileSketch();
      for (let step = 0; step <= 200; step++) {
        const value = low + ((high - low) * step) / 200;
        part.add(value);
        whole.add(value);
      }
      merged.merge(part);
      expect(merged.toJSON()).toEqual(whole.toJSON());
    }
    expect(merged.count).toBe(whole.count);
    for (const q of [0, 0.1, 0.3, 0.5, 0.7, 0.9, 1]) expect(merged.quantile(q)).toBe(whole.quantile(q));
    // Buckets come out ascending, one per index.
    const { i } = merged.toJSON();
    expect(i).toEqual([...new Set(i)].sort((a, b) => a - b));
  });

  it('keeps a wide range of values, from below a millisecond to hours, within 1%', () => {
    const sketch = new QuantileSketch();
    const values: number[] = [];
    for (let exponent = -2; exponent <= 7; exponent += 0.01) values.push(10 ** exponent);
    // Added out of order: new buckets land before, between and after the ones held.
    for (const value of values.filter((_, at) => at % 2 === 0)) sketch.add(value);
    for (const value of values.filter((_, at) => at % 2 === 1).reverse()) sketch.add(value);
    expect(sketch.count).toBe(values.length);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0, 0.01, 0.25, 0.5, 0.75, 0.99, 1]) {
      const exact = exactQuantile(sorted, q);
      expect(Math.abs(sketch.quantile(q) - exact) / exact).toBeLessThanOrEqual(0.0101);
    }
  });

  it('counts huge repeat counts exactly, merged and serialised', () => {
    const sketch = new QuantileSketch();
    sketch.add(12, 3_000_000_000);
    sketch.add(12, 5);
    sketch.add(800, 2_500_000_000);
    const other = new QuantileSketch();
    other.add(12, 1);
    other.add(0.5, 4_000_000_000);
    sketch.merge(other);
    expect(sketch.count).toBe(9_500_000_006);
    const { i, c } = sketch.toJSON();
    expect(c).toEqual([4_000_000_000, 3_000_000_006, 2_500_000_000]);
    const copy = QuantileSketch.fromJSON(JSON.parse(JSON.stringify(sketch.toJSON())));
    expect(copy.toJSON()).toEqual({ i, c, z: 0 });
    expect(Math.abs(copy.quantile(0.5) - 12) / 12).toBeLessThan(0.011);
    expect(Math.abs(copy.quantile(0.99) - 800) / 800).toBeLessThan(0.011);
  });

  it('reads stored buckets in any order, summing repeats and skipping empty ones', () => {
    const sketch = new QuantileSketch();
    for (const ms of [3, 3, 40, 40, 40, 900]) sketch.add(ms);
    const { i, c } = sketch.toJSON();
    const [small, middle, large] = i as [number, number, number];
    const stored = { i: [large, small, middle, small, middle], c: [1, 1, 3, 1, 0], z: 2 };
    const read = QuantileSketch.fromJSON(stored);
    expect(read.toJSON()).toEqual({ i, c, z: 2 });
    expect(read.count).toBe(8);
    expect(read.quantile(0)).toBe(0);
  });

  it('leaves a clone and the sketch it came from independent, empty ones included', () => {
    const empty = new QuantileSketch();
    const emptyCopy = empty.clone();
    emptyCopy.add(7);
    expect(empty.count).toBe(0);
    expect(empty.toJSON()).toEqual({ i: [], c: [], z: 0 });
    expect(new QuantileSketch().toJSON()).toEqual({ i: [], c: [], z: 0 });

    const sketch = new QuantileSketch();
    sketch.add(7);
    const copy = sketch.clone();
    copy.add(7);
    copy.add(70);
    sketch.merge(emptyCopy);
    expect(sketch.toJSON().c).toEqual([2]);
    expect(copy.toJSON().c).toEqual([2, 1]);
    const into = new QuantileSketch();
    into.merge(sketch);
    into.add(7);
    expect(sketch.toJSON().c).toEqual([2]);
    expect(into.toJSON().c).toEqual([3]);
  });
});
