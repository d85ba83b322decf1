/**
 * Gives back the heap a burst of work grew, once the burst is over: full garbage collections of
 * the calling thread's heap, tuned for size.
 *
 * V8 keeps the heap it grew to while busy: the old generation is sized from the live data at the
 * busiest moment, and its memory reducer gives the rest back only after long quiet (20 s after
 * 1M spans, the collector had given back 15 of its ~310 MB). The live objects left are spread
 * thin over many pages, and a page is freed only once its survivors are moved off it. A plain
 * full collection moves few (after 1M spans: 62 MB of objects freed, 16 MB of pages); one that
 * moves every survivor frees the most at once but first copies all the live data (RSS spiked
 * by 30-60 MB after 1M spans). Collections with V8's optimise-for-size selection each move the
 * survivors of the sparsest pages only (a few MB), so the heap shrinks a step at a time without
 * a spike; after MIN_ROUNDS they go on while a round still gives back WORTH_ANOTHER_ROUND_BYTES
 * (~25-35 ms of the calling thread each after 1M spans, with V8's helper threads alongside).
 *
 * `gc` is not exposed without `--expose-gc`: the flag is set just long enough to take the
 * function from a fresh context, so no other code sees a global `gc` appear. Size tuning is set
 * for the rounds only, unless the process was started with it; V8 also takes it to mean
 * `--max-semi-space-size=1`, which turning it off leaves set: a running isolate sized its young
 * generation when it started, so only isolates started after a release (the collector starts
 * its threads first) get the smaller one.
 *
 * @example
 * releaseMemory(); // after a burst, once the thread has nothing to do
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * After 1M spans the main thread's heap went 174 → 153 → 108 → 99 → 97 MB, or 178 → 174 → …:
 * a round's pages are swept concurrently, so what it frees may show only in the next one's
 * figure, and the first rounds are always run.
 */
const MIN_ROUNDS = 3;
const WORTH_ANOTHER_ROUND_BYTES = 8 * 1024 * 1024;
const MAX_ROUNDS = 6;

let collect: (() => void) | undefined;
const startedForSize = /optimize[-_]for[-_]size/.test(
  `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`,
);

export function releaseMemory(): void {
  collect ??= exposedGc();
  if (!startedForSize) setFlagsFromString('--optimize-for-size');
  try {
    let before = getHeapStatistics().total_heap_size;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      collect();
      const after = getHeapStatistics().total_heap_size;
      if (round + 1 >= MIN_ROUNDS && before - after < WORTH_ANOTHER_ROUND_BYTES) break;
      before = after;
    }
  } finally {
    if (!startedForSize) setFlagsFromString('--no-optimize-for-size');
  }
}

function exposedGc(): () => void {
  const own = (globalThis as { gc?: () => void }).gc;
  if (typeof own === 'function') return own;
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as () => void;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
