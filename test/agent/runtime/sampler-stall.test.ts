/**
 * A runtime sample of an interval the event loop was held through: the delay histogram has
 * no reading, and the sample must still be one the collector accepts (not a NaN mean that
 * gets the whole report, and the CPU profile riding on it, refused).
 */
import { describe, expect, it } from 'vitest';
import { createRuntimeSampler } from '../../../agent/runtime/sampler.js';
import { parseRuntimeReport } from '../../../collector/receive/runtime-http.js';

describe('a stall right before a sample', () => {
  it('is in that sample, though it ended after the delay histogram last fired', async () => {
    const sampler = createRuntimeSampler({ service: 'shop', instanceId: 'web-1:42' });
    try {
      await sampler.sample();
      // A timer callback that blocks, the sample read right after it: read in an immediate
      // and reset there, the histogram never saw this stall (its reset forgets a stall its
      // timer has not recorded yet).
      const sample = await new Promise<Awaited<ReturnType<typeof sampler.sample>>>((resolve) =>
        setTimeout(() => {
          const end = Date.now() + 300;
          while (Date.now() < end);
          resolve(sampler.sample());
        }, 50),
      );
      expect(sample.eventLoopLag.maxMs).toBeGreaterThanOrEqual(290);
    } finally {
      sampler.stop();
    }
  });
});

describe('a runtime sample without event-loop readings', () => {
  it('reports no delay rather than NaN and an unset minimum, and passes the collector’s validation', async () => {
    const sampler = createRuntimeSampler({ service: 'shop', instanceId: 'web-1:42' });
    try {
      await sampler.sample();
      const end = Date.now() + 300;
      while (Date.now() < end);
      const sample = await sampler.sample();
      for (const value of Object.values(sample.eventLoopLag)) {
        expect(Number.isFinite(value)).toBe(true);
        expect(value).toBeLessThan(10_000);
      }
      expect(parseRuntimeReport(JSON.stringify({ samples: [sample] }))).toHaveLength(1);
    } finally {
      sampler.stop();
    }
  });
});
