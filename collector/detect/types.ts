/**
 * The one small interface every detector implements. Detectors are pure: no I/O,
 * no clock reads (time comes in as `nowMs`), no storage. A detector may look inside
 * single traces (`inspectTrace`, for patterns like N+1 that only exist within one
 * request) and turns the window's aggregates into finding candidates (`detect`).
 */
import type { Evidence, FindingCandidate, FindingKind } from '../../model/index.js';
import type { WindowView } from '../aggregate/window.js';
import type { AssembledTrace } from '../assemble/trace.js';

export interface DetectionConfig {
  /** slow_query fires when a fingerprint's p95 reaches this. */
  slowQueryMs: number;
  /** …and it ran at least this often in the window (one-off migrations and seeds are not bottlenecks). */
  slowQueryMinCount: number;
  /** slow_query also fires when one fingerprint takes this share of the service's DB time… */
  slowQueryShare: number;
  /** …and at least this much DB time per minute (so a lone 2 ms query is never "50% of DB time"). */
  slowQueryMinImpact: number;
  /** n_plus_one fires when one fingerprint repeats this many times under one parent. */
  nPlusOneMin: number;
}

export const defaultDetectionConfig: DetectionConfig = {
  slowQueryMs: 100,
  slowQueryMinCount: 3,
  slowQueryShare: 0.25,
  slowQueryMinImpact: 500,
  nPlusOneMin: 5,
};

/** A pattern seen inside one trace, aggregated across traces by (kind, service, key). */
export interface Occurrence {
  kind: FindingKind;
  service: string;
  key: string;
  traceId: string;
  /** The unit of work it happened in (`GET /orders`), when known. */
  entry?: string;
  /** How many times the pattern repeated in this trace. */
  repeats: number;
  /** Time spent in the repeated operations. */
  durationMs: number;
  /** What identifies the pattern (already scrubbed): the same for every occurrence of a key. */
  evidence: Evidence;
}

export interface Detector {
  readonly kind: FindingKind;
  inspectTrace?(trace: AssembledTrace, config: DetectionConfig): Occurrence[];
  detect(window: WindowView, config: DetectionConfig, nowMs: number): FindingCandidate[];
}
