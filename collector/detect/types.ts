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
  /** n_plus_one_http fires when one outbound call (method, host, URL template) repeats this often under one parent. */
  nPlusOneHttpMin: number;
  /** cache_hit_ratio fires below this hit ratio (0–1)… */
  cacheMinHitRatio: number;
  /** …over at least this many lookups of the key pattern in the window. */
  cacheMinLookups: number;
  /** Key patterns never judged by hit ratio (sessions miss by design); `*` matches anything. */
  cacheExcludedPatterns: readonly string[];
  /** queue_lag fires when the wait between publish and consume reaches this p95… */
  queueLagMs: number;
  /** …or when the p95 rose over this many consecutive buckets… */
  queueLagGrowthBuckets: number;
  /** …ending at least this high (a wait growing from 1 ms to 3 ms is no backlog). */
  queueLagGrowthMinMs: number;
  /** slow_endpoint fires when a route's p95 reaches this… */
  slowEndpointMs: number;
  /** …over at least this many requests in the window. */
  slowEndpointMinCount: number;
  /** event_loop_blocked fires when an instance's median event-loop delay reaches this… */
  eventLoopMedianMs: number;
  /** …or its largest delay reaches this (Clinic Doctor's thresholds)… */
  eventLoopMaxMs: number;
  /** …in at least this many sampling intervals (one stall at start-up, or a preempted process, is noise). */
  eventLoopMinStalls: number;
  /** gc_pressure fires when garbage collection blocks this many ms per second in some interval. */
  gcMsPerSecond: number;
  /** connection_pool fires when waiting for a pool connection takes this share (0–1) of the time of the requests that acquire one… */
  poolWaitShare: number;
  /** …and the waiting (or, for the second rule, the connecting) takes at least this many ms per minute. */
  poolMinImpact: number;
  /** connection_pool's second rule: this share (0–1) of the requests that acquire a connection open a new one… */
  poolOpenShare: number;
  /** …in at least this many requests of the window (a pool warming up opens a few, then reuses them). */
  poolOpenMinRequests: number;
  /** dependency_resilience judges a dependency after this many calls in the window… */
  dependencyMinCalls: number;
  /** …and fires when this share (0–1) of them fail… */
  dependencyErrorRate: number;
  /** …or when a call lasts this long (a hang, whatever its outcome)… */
  dependencyHangMs: number;
  /** …and failed, retried and hung calls hold requests at least this many ms per minute. */
  dependencyMinImpact: number;
  /** A failure that took this long counts as a timeout even when its error does not say so. */
  dependencyTimeoutMs: number;
  /** offload_candidate fires when work a response does not need takes this many ms per request… */
  offloadMinMsPerRequest: number;
  /** …and this share (0–1) of those requests' time… */
  offloadMinShare: number;
  /** …in at least this many requests of the window. */
  offloadMinRequests: number;
  /** static_assets fires when static files are this share (0–1) of a service's HTTP requests… */
  staticAssetsMinShare: number;
  /** …and at least this many requests in the window. */
  staticAssetsMinRequests: number;
  /** hot_path_cpu fires when one function (or package) holds this share (0–1) of the CPU sampled in stalls… */
  hotPathMinShare: number;
  /** …over at least this many ms of samples in the window. */
  hotPathMinSampledMs: number;
}

export const defaultDetectionConfig: DetectionConfig = {
  slowQueryMs: 100,
  slowQueryMinCount: 3,
  slowQueryShare: 0.25,
  slowQueryMinImpact: 500,
  nPlusOneMin: 5,
  nPlusOneHttpMin: 5,
  cacheMinHitRatio: 0.5,
  cacheMinLookups: 50,
  cacheExcludedPatterns: ['sess:*', 'session:*'],
  queueLagMs: 1_000,
  queueLagGrowthBuckets: 3,
  queueLagGrowthMinMs: 100,
  slowEndpointMs: 500,
  slowEndpointMinCount: 3,
  eventLoopMedianMs: 10,
  eventLoopMaxMs: 100,
  eventLoopMinStalls: 2,
  gcMsPerSecond: 100,
  poolWaitShare: 0.1,
  poolMinImpact: 100,
  poolOpenShare: 0.5,
  poolOpenMinRequests: 10,
  dependencyMinCalls: 10,
  dependencyErrorRate: 0.05,
  dependencyHangMs: 2_000,
  dependencyMinImpact: 100,
  dependencyTimeoutMs: 1_000,
  offloadMinMsPerRequest: 20,
  offloadMinShare: 0.1,
  offloadMinRequests: 5,
  staticAssetsMinShare: 0.05,
  staticAssetsMinRequests: 20,
  hotPathMinShare: 0.25,
  hotPathMinSampledMs: 100,
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

/** What a detector looks for and how it counts impact, in words, for the API and the docs. */
export interface DetectorExplanation {
  rule: string;
  impact: string;
}

export interface Detector {
  readonly kind: FindingKind;
  explain(config: DetectionConfig): DetectorExplanation;
  inspectTrace?(trace: AssembledTrace, config: DetectionConfig): Occurrence[];
  detect(window: WindowView, config: DetectionConfig, nowMs: number): FindingCandidate[];
}
