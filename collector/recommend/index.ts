/**
 * Recommenders turn a candidate and its evidence into the fix a developer pastes.
 * Kept apart from detection so the advice can grow without touching the rules.
 */
import type { FindingCandidate, FindingKind, Recommendation } from '../../model/index.js';
import { recommendCacheHitRatio } from './cache-hit-ratio.js';
import { recommendConnectionPool } from './connection-pool.js';
import { recommendDependencyResilience } from './dependency-resilience.js';
import { recommendEventLoopBlocked } from './event-loop-blocked.js';
import { recommendGcPressure } from './gc-pressure.js';
import { recommendHotPathCpu } from './hot-path-cpu.js';
import { recommendNPlusOne } from './n-plus-one.js';
import { recommendNPlusOneHttp } from './n-plus-one-http.js';
import { recommendOffloadCandidate } from './offload-candidate.js';
import { recommendQueueLag } from './queue-lag.js';
import { recommendSlowEndpoint } from './slow-endpoint.js';
import { recommendSlowQuery } from './slow-query.js';
import { recommendStaticAssets } from './static-assets.js';

const recommenders: Record<FindingKind, (candidate: FindingCandidate) => Recommendation> = {
  slow_query: recommendSlowQuery,
  n_plus_one: recommendNPlusOne,
  n_plus_one_http: recommendNPlusOneHttp,
  cache_hit_ratio: recommendCacheHitRatio,
  queue_lag: recommendQueueLag,
  slow_endpoint: recommendSlowEndpoint,
  event_loop_blocked: recommendEventLoopBlocked,
  gc_pressure: recommendGcPressure,
  connection_pool: recommendConnectionPool,
  dependency_resilience: recommendDependencyResilience,
  offload_candidate: recommendOffloadCandidate,
  static_assets: recommendStaticAssets,
  hot_path_cpu: recommendHotPathCpu,
};

export function recommend(candidate: FindingCandidate): Recommendation {
  return recommenders[candidate.kind](candidate);
}
