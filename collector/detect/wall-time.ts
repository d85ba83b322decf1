/** Time arithmetic over operations that many detectors share. */

type Timed = { startTimeMs: number; durationMs: number };

/**
 * Wall time covered by the operations: overlapping (parallel) executions count once.
 *
 * @example
 * wallTime([{ startTimeMs: 0, durationMs: 10 }, { startTimeMs: 5, durationMs: 10 }, { startTimeMs: 30, durationMs: 5 }]) // 20
 */
export function wallTime(operations: ReadonlyArray<Timed>): number {
  // Operations mostly come in start order (a trace's, a loop's): then no sorted copy is made.
  for (let i = 1; i < operations.length; i++) {
    if ((operations[i] as Timed).startTimeMs < (operations[i - 1] as Timed).startTimeMs) {
      return coveredTime([...operations].sort((a, b) => a.startTimeMs - b.startTimeMs));
    }
  }
  return coveredTime(operations);
}

/** The time the operations, in start order, cover. */
function coveredTime(ordered: ReadonlyArray<Timed>): number {
  const first = ordered[0];
  if (!first) return 0;
  let total = 0;
  let currentStart = first.startTimeMs;
  let currentEnd = first.startTimeMs + first.durationMs;
  for (let i = 1; i < ordered.length; i++) {
    const { startTimeMs, durationMs } = ordered[i] as Timed;
    const end = startTimeMs + durationMs;
    if (startTimeMs > currentEnd) {
      total += currentEnd - currentStart;
      currentStart = startTimeMs;
      currentEnd = end;
    } else if (end > currentEnd) currentEnd = end;
  }
  return total + (currentEnd - currentStart);
}
