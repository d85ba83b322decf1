/**
 * n_plus_one_http — the same outbound call (method, host and URL template, so
 * `/users/{id}` for every user) made `nPlusOneHttpMin`+ times under one parent span.
 * Each call pays a network round trip; one batch call, or bounded parallel calls, pays
 * it once. Impact is the wall time the repeats occupy, per minute.
 */
import type { HttpClientOperation } from '../../model/index.js';
import { type RepeatRule, repeatCandidates, repeatsUnderParent } from './repeats.js';
import type { Detector } from './types.js';

const calls: RepeatRule<HttpClientOperation> = {
  kind: 'n_plus_one_http',
  select: (operation): operation is HttpClientOperation => operation.type === 'http_client',
  // `GET api.example.com/users/{id}`: what makes two calls the same call.
  identity: (call) => `${call.method} ${call.host}${call.urlTemplate}`,
  evidence: (call) => ({ method: call.method, host: call.host, urlTemplate: call.urlTemplate }),
};

export const nPlusOneHttpDetector: Detector = {
  kind: 'n_plus_one_http',
  explain: (config) => ({
    rule: `the same outbound HTTP call (method, host, URL template) ${config.nPlusOneHttpMin}+ times under one parent span`,
    impact: 'wall time the repeated calls occupy in their requests (parallel calls count once), per minute',
  }),

  inspectTrace: (trace, config) => repeatsUnderParent(trace, calls, config.nPlusOneHttpMin),

  detect: (window) =>
    repeatCandidates(
      window,
      'n_plus_one_http',
      ({ pattern, avgRepeats, where }) =>
        `HTTP N+1: ${pattern.key} called ${Math.round(avgRepeats)}× per request${where}`,
    ),
};
