import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SeriesCounter, SeriesHistogram } from '../../../collector/api/series-metrics.js';

const labelNames = ['service', 'host'] as const;
const buckets = [0.01, 0.1, 1];
const observations: Array<[service: string, host: string, seconds: number]> = [
  ['checkout', 'db:5432', 0.004],
  ['checkout', 'db:5432', 0.25],
  ['search', 'other', 3],
  ['checkout', 'db:5432', 0.1],
  ['search', 'es "main"', 0.05],
];

/** The same observations through prom-client's own metrics and through the series ones. */
function both() {
  const own = new Registry();
  const reference = new Registry();
  const metrics = {
    histogram: new SeriesHistogram({
      name: 'calls_seconds',
      help: 'Calls.',
      labelNames,
      buckets,
      registers: [own],
    }),
    counter: new SeriesCounter({ name: 'calls_total', help: 'Calls.', labelNames, registers: [own] }),
  };
  const expected = {
    histogram: new Histogram({
      name: 'calls_seconds',
      help: 'Calls.',
      labelNames,
      buckets,
      registers: [reference],
    }),
    counter: new Counter({ name: 'calls_total', help: 'Calls.', labelNames, registers: [reference] }),
  };
  for (const [service, host, seconds] of observations) {
    const key = `${service}\u0000${host}`;
    metrics.histogram.series(key, { service, host }).observe(seconds);
    metrics.counter.series(key, { service, host }).inc(seconds > 1 ? 0 : 1);
    expected.histogram.observe({ service, host }, seconds);
    expected.counter.inc({ service, host }, seconds > 1 ? 0 : 1);
  }
  return { own, reference, metrics, expected };
}

describe('SeriesCounter and SeriesHistogram', () => {
  it('expose the same text as prom-client counters and histograms given the same values', async () => {
    const { own, reference } = both();
    const text = await own.metrics();
    expect(text).toContain('calls_seconds_bucket{le="0.1",service="checkout",host="db:5432"} 2');
    expect(text).toBe(await reference.metrics());
  });

  it('drop a series on remove and every series on reset, as prom-client does', async () => {
    const { own, reference, metrics, expected } = both();
    metrics.histogram.remove('checkout\u0000db:5432');
    expected.histogram.remove({ service: 'checkout', host: 'db:5432' });
    expect(await own.metrics()).toBe(await reference.metrics());
    expect(await own.metrics()).not.toContain('calls_seconds_count{service="checkout"');
    own.resetMetrics();
    reference.resetMetrics();
    expect(await own.metrics()).toBe(await reference.metrics());
  });

  it('refuse what prom-client refuses: a decreasing counter, a value that is not a number', () => {
    const { metrics } = both();
    expect(() => metrics.counter.series('a', { service: 'a' }).inc(-1)).toThrow();
    expect(() => metrics.histogram.series('a', { service: 'a' }).observe(Number.NaN)).toThrow(TypeError);
  });
});
