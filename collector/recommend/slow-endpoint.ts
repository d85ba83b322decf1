/**
 * The fix for a slow_endpoint: follow the part of the request that dominates. SQL,
 * cache and HTTP time point at the findings linked to the route; time in the service's
 * own code points at CPU work, found with a profile. A stalled event loop, linked, is named
 * first: it stretches every awaited call.
 */
import type { FindingCandidate, Recommendation } from '../../model/index.js';
import { relatedFindings } from './related.js';

const ADVICE: Record<string, { summary: string; detail: string }> = {
  sql: {
    summary: 'Cut its SQL time',
    detail:
      'Most of the time goes to the database. The linked findings name the statements (slow queries, N+1 loops); ' +
      'if none is linked, the route runs many fast statements: load what it needs in fewer, batched queries.',
  },
  cache: {
    summary: 'Make fewer cache round trips',
    detail:
      'Most of the time goes to cache calls: many sequential commands each pay a round trip. Read keys together ' +
      '(MGET, HMGET) or pipeline the commands, and check the linked cache findings.',
  },
  http: {
    summary: 'Cut its outbound HTTP time',
    detail:
      'Most of the time goes to calls to other services. Batch or parallelise repeated calls (see linked ' +
      'findings), cache responses that repeat, and set timeouts so a slow dependency cannot hold the route.',
  },
  queue: {
    summary: 'Stop waiting on queue publishing',
    detail:
      'Most of the time goes to publishing messages. Publish without awaiting each confirmation one by one ' +
      '(batch them, or confirm asynchronously), or move the publishing after the response.',
  },
  ownCode: {
    summary: "Profile the route's own code",
    detail:
      'Most of the time is spent outside database, cache, HTTP and queue calls: in the handler itself, or ' +
      'waiting for an event loop blocked by other work (see event_loop_blocked findings). Record a CPU profile ' +
      'under load and look for synchronous hot paths: large JSON, sync crypto or compression, big loops.',
  },
};

export function recommendSlowEndpoint(candidate: FindingCandidate): Recommendation {
  const { evidence } = candidate;
  const dominant = String(evidence.dominant ?? 'ownCode');
  const advice = ADVICE[dominant] ?? (ADVICE.ownCode as { summary: string; detail: string });
  const breakdown = (evidence.breakdownMs ?? {}) as Record<string, number>;
  const related = relatedFindings(evidence);
  const stall = related.find((finding) => finding.kind === 'event_loop_blocked');
  const share = Math.round(
    Number((evidence.breakdownShare as Record<string, number> | undefined)?.[dominant] ?? 0) * 100,
  );
  return {
    summary: `${advice.summary}: ${share}% of ${evidence.route ?? 'the route'}'s time`,
    detail:
      `Per request: ${Object.entries(breakdown)
        .map(([part, ms]) => `${part} ${ms} ms`)
        .join(', ')}. ${advice.detail}` +
      (stall && dominant !== 'ownCode'
        ? ` The service's event loop stalled meanwhile (“${stall.title}”): a reply waits for the loop, so part of the ${dominant} time is the stall; unblock the loop first.`
        : '') +
      (related.length > 0 ? ` Findings behind it: ${related.map((r) => r.title).join('; ')}.` : ''),
    ...(dominant === 'ownCode'
      ? {
          code: 'node --cpu-prof --cpu-prof-dir=./profiles --require chokepoint/agent server.js\n# load the route, stop the app, open the .cpuprofile in Chrome DevTools',
          language: 'shell' as const,
        }
      : {}),
  };
}
