/** Time arithmetic over operations that many detectors share. */

/**
 * Wall time covered by the operations: overlapping (parallel) executions count once.
 *
 * @example
 * wallTime([{ startTimeMs: 0, durationMs: 10 }, { startTimeMs: 5, durationMs: 10 }, { startTimeMs: 30, durationMs: 5 }]) // 20
 */
export function wallTime(operations: ReadonlyArray<{ startTimeMs: number; durationMs: number }>): number {
  if (operations.length === 0) return 0;
  const intervals = operations
    .map((o) => [o.startTimeMs, o.startTimeMs + o.durationMs] as const)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let [currentStart, currentEnd] = intervals[0] ?? [0, 0];
  for (const [start, end] of intervals.slice(1)) {
    if (start > currentEnd) {
      total += currentEnd - currentStart;
      currentStart = start;
      currentEnd = end;
    } else if (end > currentEnd) currentEnd = end;
  }
  return total + (currentEnd - currentStart);
}
