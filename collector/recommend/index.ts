/**
 * Recommenders turn a candidate and its evidence into the fix a developer pastes.
 * Kept apart from detection so the advice can grow without touching the rules.
 */
import type { FindingCandidate, FindingKind, Recommendation } from '../../model/index.js';
import { recommendNPlusOne } from './n-plus-one.js';
import { recommendSlowQuery } from './slow-query.js';

const recommenders: Record<FindingKind, (candidate: FindingCandidate) => Recommendation> = {
  slow_query: recommendSlowQuery,
  n_plus_one: recommendNPlusOne,
};

export function recommend(candidate: FindingCandidate): Recommendation {
  return recommenders[candidate.kind](candidate);
}
