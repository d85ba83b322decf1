import { describe, expect, it } from 'vitest';
import { nPlusOneHttpDetector } from '../../../collector/detect/n-plus-one-http.js';
import { recommend } from '../../../collector/recommend/index.js';
import { runDetector } from '../../support/detect-harness.js';
import {
  callsUnderDifferentParents,
  distinctCalls,
  parallelUserCalls,
  sequentialUserCalls,
} from './fixtures/http.js';

describe('n_plus_one_http detector', () => {
  it('fires on the same templated call repeated under one request, with per-request evidence', () => {
    const findings = runDetector(nPlusOneHttpDetector, sequentialUserCalls());
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'n_plus_one_http',
      key: 'GET users.internal:8080/users/{id}',
      title: 'HTTP N+1: GET users.internal:8080/users/{id} called 6× per request in GET /orders/:id',
      evidence: {
        method: 'GET',
        host: 'users.internal:8080',
        urlTemplate: '/users/{id}',
        requests: 10,
        avgRepeats: 6,
        repeatMsPerRequest: 90,
        routes: [{ route: 'GET /orders/:id', requests: 10 }],
      },
    });
    // 10 requests × 90 ms of sequential calls, over the one minute of data the window holds.
    expect((findings[0]?.impact ?? 0) / 900).toBeCloseTo(1, 1);
  });

  it('counts calls made together with Promise.all once in wall time', () => {
    const [finding] = runDetector(nPlusOneHttpDetector, parallelUserCalls());
    expect(finding?.evidence).toMatchObject({ avgRepeats: 8, repeatMsPerRequest: 30 });
  });

  it('stays silent below the threshold, and honours a lower one', () => {
    expect(runDetector(nPlusOneHttpDetector, sequentialUserCalls(3, 4))).toEqual([]);
    expect(runDetector(nPlusOneHttpDetector, sequentialUserCalls(3, 4), { nPlusOneHttpMin: 4 })).toHaveLength(
      1,
    );
  });

  it('does not call a fan-out to different endpoints, or calls under different parents, an N+1', () => {
    expect(runDetector(nPlusOneHttpDetector, distinctCalls())).toEqual([]);
    expect(runDetector(nPlusOneHttpDetector, callsUnderDifferentParents())).toEqual([]);
  });

  it('recommends a batch call or bounded parallel calls, with code for this endpoint', () => {
    const [finding] = runDetector(nPlusOneHttpDetector, sequentialUserCalls());
    const rec = recommend(finding as NonNullable<typeof finding>);
    expect(rec.summary).toBe(
      'Make one batch call instead of 6 GET /users/{id} calls, or run them in parallel with a limit',
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the advice contains JavaScript template literals to paste.
    expect(rec.code).toContain("fetch(`https://users.internal:8080/users?ids=${ids.join(',')}`)");
    expect(rec.code).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: as above.
      'await mapLimit(ids, 8, async (id) => (await fetch(`https://users.internal:8080/users/${id}`)).json())',
    );
  });
});
