import { afterEach, describe, expect, it } from 'vitest';
import { createRuntimeSampler, type RuntimeSampler } from '../../../agent/runtime/sampler.js';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** Enough short-lived garbage for several young-generation collections. */
function churn(): number {
  let kept = 0;
  for (let round = 0; round < 20; round++) {
    const garbage = Array.from({ length: 50_000 }, (_, index) => ({ index, label: `item-${index}` }));
    kept += garbage.length;
  }
  return kept;
}

const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('createRuntimeSampler', () => {
  let sampler: RuntimeSampler | undefined;
  afterEach(() => sampler?.stop());

  it('samples the interval: identity, event-loop delay, CPU, GC and memory of this process', async () => {
    let now = 1_700_000_000_000;
    sampler = createRuntimeSampler({
      service: 'shop',
      serviceVersion: '1.4.0',
      instanceId: 'web-1:42',
      now: () => now,
    });
    await nextTurn();
    busy(150);
    churn();
    await nextTurn();
    now += 10_000;

    const sample = await sampler.sample();
    expect(sample).toMatchObject({
      service: 'shop',
      serviceVersion: '1.4.0',
      instanceId: 'web-1:42',
      timeMs: 1_700_000_010_000,
      intervalMs: 10_000,
    });
    // The loop was held for 150 ms: the longest delay covers it.
    expect(sample.eventLoopLag.maxMs).toBeGreaterThanOrEqual(140);
    const { minMs, p50Ms, p90Ms, p99Ms, maxMs } = sample.eventLoopLag;
    expect([minMs, p50Ms, p90Ms, p99Ms, maxMs]).toEqual(
      [minMs, p50Ms, p90Ms, p99Ms, maxMs].sort((a, b) => a - b),
    );
    expect(sample.cpu.userMs + sample.cpu.systemMs).toBeGreaterThanOrEqual(140);
    expect(sample.gc.count).toBeGreaterThan(0);
    expect(sample.gc.maxPauseMs).toBeGreaterThan(0);
    expect(sample.gc.maxPauseMs).toBeLessThanOrEqual(sample.gc.pauseMs);
    const kinds = Object.values(sample.gc.byKind);
    expect(kinds.reduce((sum, kind) => sum + kind.count, 0)).toBe(sample.gc.count);
    expect(kinds.reduce((sum, kind) => sum + kind.pauseMs, 0)).toBeCloseTo(sample.gc.pauseMs, 6);
    expect(sample.memory.rssBytes).toBeGreaterThan(sample.memory.heapUsedBytes);
    expect(sample.memory.heapTotalBytes).toBeGreaterThanOrEqual(sample.memory.heapUsedBytes);
    expect(sample.activeHandles).toBeGreaterThanOrEqual(0);
  });

  it('counts each interval once: the next sample holds only what came after', async () => {
    sampler = createRuntimeSampler({ service: 'shop', instanceId: 'web-1:42' });
    // The delay monitor's first tick only sets its baseline.
    await nextTurn();
    busy(120);
    churn();
    // The monitor records a delay on its next tick, after the block.
    await nextTurn();
    const first = await sampler.sample();
    await nextTurn();
    const second = await sampler.sample();

    expect(first.cpu.userMs + first.cpu.systemMs).toBeGreaterThanOrEqual(110);
    expect(second.cpu.userMs + second.cpu.systemMs).toBeLessThan(first.cpu.userMs + first.cpu.systemMs);
    expect(second.gc.count).toBeLessThan(first.gc.count);
    expect(second.eventLoopLag.maxMs).toBeLessThan(first.eventLoopLag.maxMs);
  });
});
