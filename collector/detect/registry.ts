/** Every detector the collector runs, in one list. Adding a detector means adding a line here. */
import { cacheHitRatioDetector } from './cache-hit-ratio.js';
import { connectionPoolDetector } from './connection-pool.js';
import { dependencyResilienceDetector } from './dependency-resilience.js';
import { eventLoopBlockedDetector } from './event-loop-blocked.js';
import { gcPressureDetector } from './gc-pressure.js';
import { hotPathCpuDetector } from './hot-path-cpu.js';
import { nPlusOneDetector } from './n-plus-one.js';
import { nPlusOneHttpDetector } from './n-plus-one-http.js';
import { offloadCandidateDetector } from './offload-candidate.js';
import { queueLagDetector } from './queue-lag.js';
import { slowEndpointDetector } from './slow-endpoint.js';
import { slowQueryDetector } from './slow-query.js';
import { staticAssetsDetector } from './static-assets.js';
import type { Detector } from './types.js';

export const detectors: readonly Detector[] = [
  slowQueryDetector,
  nPlusOneDetector,
  nPlusOneHttpDetector,
  cacheHitRatioDetector,
  queueLagDetector,
  slowEndpointDetector,
  eventLoopBlockedDetector,
  gcPressureDetector,
  connectionPoolDetector,
  dependencyResilienceDetector,
  offloadCandidateDetector,
  staticAssetsDetector,
  hotPathCpuDetector,
];
