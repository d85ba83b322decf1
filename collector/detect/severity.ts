/**
 * Severity from impact: how much wall time a bottleneck costs per minute. One scale
 * for every finding kind, so the list ranks consistently. 60 000 ms/min is one
 * request-thread busy full time.
 */
import type { Severity } from '../../model/index.js';

export const SEVERITY_IMPACT_MS_PER_MIN: Record<Exclude<Severity, 'low'>, number> = {
  critical: 30_000,
  high: 5_000,
  medium: 500,
};

/**
 * @example
 * severityForImpact(12_000) // 'high'
 */
export function severityForImpact(impactMsPerMin: number): Severity {
  if (impactMsPerMin >= SEVERITY_IMPACT_MS_PER_MIN.critical) return 'critical';
  if (impactMsPerMin >= SEVERITY_IMPACT_MS_PER_MIN.high) return 'high';
  if (impactMsPerMin >= SEVERITY_IMPACT_MS_PER_MIN.medium) return 'medium';
  return 'low';
}

/** One step more severe (a latency that users feel on every call, whatever the volume). */
export function raise(severity: Severity): Severity {
  return severity === 'low' ? 'medium' : severity === 'medium' ? 'high' : 'critical';
}
