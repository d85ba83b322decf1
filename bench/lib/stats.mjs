/** Small statistics for bench results: exact percentiles over recorded samples, medians of rounds. */

/**
 * The `q` quantile (0…1) of `values` by nearest rank; `NaN` when there are none.
 *
 * @example
 * percentile([3, 1, 2, 4], 0.5); // 2
 */
export function percentile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(values) {
  return percentile(values, 0.5);
}

/** `value / reference`, or `NaN` when the reference is zero or missing. */
export function ratio(value, reference) {
  return reference > 0 ? value / reference : Number.NaN;
}
