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
});
