/**
 * Findings: the product. A detector proposes a candidate; the collector keeps
 * its identity, lifecycle and recommendation.
 */

export const FINDING_KINDS = [
  'slow_query',
  'n_plus_one',
  'n_plus_one_http',
  'cache_hit_ratio',
  'queue_lag',
  'slow_endpoint',
  'event_loop_blocked',
  'gc_pressure',
  'connection_pool',
  'dependency_resilience',
  'offload_candidate',
  'static_assets',
  'hot_path_cpu',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type FindingStatus = 'new' | 'ongoing' | 'resolved' | 'regressed';

export type Evidence = Record<string, unknown>;

/** What a detector returns: pure data, no identity, no lifecycle. */
export interface FindingCandidate {
  kind: FindingKind;
  service: string;
  /** Identity of the finding within (kind, service): a fingerprint id, a route, … */
  key: string;
  title: string;
  severity: Severity;
  /** Wall time this bottleneck costs, in milliseconds per minute. */
  impact: number;
  /** The latency percentile the rule watches (query, request, queue lag), compared across service versions. */
  p95Ms?: number;
  evidence: Evidence;
}

export interface Recommendation {
  summary: string;
  detail: string;
  /** Code or SQL to paste, when there is one. */
  code?: string;
  language?: 'sql' | 'javascript' | 'shell';
}

/** A stored finding, as the API serves it. */
export interface Finding extends FindingCandidate {
  id: string;
  status: FindingStatus;
  /** ISO 8601 timestamps. */
  firstSeen: string;
  lastSeen: string;
  recommendation: Recommendation;
  /** The service version the finding was last seen in, when the service reports one. */
  serviceVersion?: string;
  /** How the finding looked under the previous service version: what a regression is measured against. */
  baseline?: { serviceVersion: string; impact: number; p95Ms?: number };
}
