/**
 * releaseMemory (collector/store/release-memory.ts): one compacting full collection that gives
 * the pages of a burst's garbage back, without leaving a global `gc` behind.
 */
import { getHeapStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { releaseMemory } from '../../../collector/store/release-memory.js';

describe('releaseMemory', () => {
  it('gives back the pages a burst of garbage held, keeping what is still referenced', () => {
    let burst: Array<{ id: number; label: string }> | undefined = [];
    const survivors: Array<{ id: number; label: string }> = [];
    for (let id = 0; id < 1_000_000; id++) {
      const item = { id, label: `item-${id}` };
      burst.push(item);
      if (id % 10 === 0) survivors.push(item);
    }
    const busy = getHeapStatistics().total_heap_size;
    burst = undefined;
    releaseMemory();
    const after = getHeapStatistics().total_heap_size;
    expect(busy - after).toBeGreaterThan(30 * 1024 * 1024);
    expect(survivors[99_999]?.label).toBe('item-999990');
    expect(burst).toBeUndefined();
  });

  it('leaves no global gc in this context or in contexts made later, and can be called again', () => {
    const had = typeof (globalThis as { gc?: unknown }).gc;
    releaseMemory();
    releaseMemory();
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe(had);
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });
});
