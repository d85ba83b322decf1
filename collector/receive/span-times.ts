/**
 * Plausible span times. The decoders keep whatever the wire says; the receiver refuses a
 * request holding a span whose times cannot be real, because one span stamped 1970 and
 * ended today would otherwise become a "slow query" lasting fifty years, ranked first.
 */
import type { SpanRecord } from '../../model/index.js';

/** Span times outside these years come from a clock that was never set or a corrupt field. */
const EARLIEST_MS = Date.UTC(2000, 0, 1);
const LATEST_MS = Date.UTC(2100, 0, 1);
/** No request, query or message takes a day: a longer span measures a broken clock, not the app. */
export const MAX_SPAN_DURATION_MS = 24 * 60 * 60_000;

/**
 * Why the first span with impossible times is refused, or `undefined` when every span is plausible.
 *
 * @example
 * implausibleSpanTimes(spans); // 'span 3 ("SELECT shop"): start time 1970-01-01T00:00:00.000Z is not between 2000 and 2100'
 */
export function implausibleSpanTimes(spans: readonly SpanRecord[]): string | undefined {
  for (let index = 0; index < spans.length; index++) {
    const { startTimeMs, endTimeMs, name } = spans[index] as SpanRecord;
    const problem = timesProblem(startTimeMs, endTimeMs);
    if (problem) return `span ${index} (${JSON.stringify(name.slice(0, 80))}): ${problem}`;
  }
  return undefined;
}

/** Checked for every span received: no array of the two times is built to loop over them. */
function timesProblem(startTimeMs: number, endTimeMs: number): string | undefined {
  if (!plausible(startTimeMs)) return outsideYears('start', startTimeMs);
  if (!plausible(endTimeMs)) return outsideYears('end', endTimeMs);
  if (endTimeMs < startTimeMs) return 'it ends before it starts';
  if (endTimeMs - startTimeMs > MAX_SPAN_DURATION_MS) {
    return `it lasts more than ${MAX_SPAN_DURATION_MS / 3_600_000} hours`;
  }
  return undefined;
}

function plausible(timeMs: number): boolean {
  return timeMs >= EARLIEST_MS && timeMs < LATEST_MS;
}

function outsideYears(which: 'start' | 'end', timeMs: number): string {
  return `${which} time ${describeTime(timeMs)} is not between 2000 and 2100`;
}

function describeTime(timeMs: number): string {
  if (timeMs === 0) return '0 (unset)';
  const date = new Date(timeMs);
  return Number.isNaN(date.getTime()) ? `${timeMs} ms` : date.toISOString();
}
