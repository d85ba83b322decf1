/** Small formatting helpers shared by detectors' titles (kept out of the rules themselves). */

/** `0.8 ms`, `12 ms`, `1.3 s` */
export function formatMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Rounds to two decimals, for evidence numbers that humans read. */
export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * A share as a percentage for rule texts, without binary noise.
 *
 * @example
 * percent(0.07) // '7%'
 */
export function percent(share: number): string {
  return `${round2(share * 100)}%`;
}
