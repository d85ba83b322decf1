import { describe, expect, it } from 'vitest';
import { offloadCandidateDetector } from '../../../collector/detect/offload-candidate.js';
import { recommend } from '../../../collector/recommend/index.js';
import { runDetector } from '../../support/detect-harness.js';
import {
  auditInsert,
  mailAfterResponse,
  mailInRequest,
  workTheResponseNeeds,
} from './fixtures/side-effects.js';

describe('offload_candidate detector', () => {
  it('fires on a mail call the request waits for, with the latency a queue saves', () => {
    const findings = runDetector(offloadCandidateDetector, mailInRequest());
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'offload_candidate',
      key: 'POST mail.internal:2525/v1/send',
      title: 'Offload POST mail.internal:2525/v1/send in POST /signup: 120 ms of each request (60%)',
      evidence: {
        type: 'http',
        host: 'mail.internal:2525',
        urlTemplate: '/v1/send',
        requests: 10,
        msPerRequest: 120,
        share: 0.6,
        requestMeanMs: 200,
        requestMeanMsAfter: 80,
        routes: [{ route: 'POST /signup', requests: 10 }],
      },
    });
  });

  it('fires on audit-table inserts inside the request', () => {
    const [finding] = runDetector(offloadCandidateDetector, auditInsert());
    expect(finding).toMatchObject({
      key: 'insert audit_log',
      evidence: { type: 'write', table: 'audit_log', msPerRequest: 30, share: 0.3 },
    });
  });

  it('stays silent on fire-and-forget calls, quick calls, rare calls and work the response needs', () => {
    expect(runDetector(offloadCandidateDetector, mailAfterResponse())).toEqual([]);
    expect(runDetector(offloadCandidateDetector, mailInRequest(10))).toEqual([]);
    expect(runDetector(offloadCandidateDetector, mailInRequest(120, 4))).toEqual([]);
    expect(runDetector(offloadCandidateDetector, workTheResponseNeeds())).toEqual([]);
  });

  it('recommends a BullMQ job with the saving measured', () => {
    const [mail] = runDetector(offloadCandidateDetector, mailInRequest());
    const fix = recommend(mail as NonNullable<typeof mail>);
    expect(fix.summary).toBe(
      'Move POST mail.internal:2525/v1/send to a queue worker: requests answer 120 ms sooner',
    );
    expect(fix.detail).toContain('the request drops to about 80 ms');
    expect(fix.code).toContain("await sideEffects.add('send', payload");
    expect(fix.code).toContain("fetch('https://mail.internal:2525/v1/send', { method: 'POST'");

    const [audit] = runDetector(offloadCandidateDetector, auditInsert());
    const auditFix = recommend(audit as NonNullable<typeof audit>);
    expect(auditFix.code).toContain("await sideEffects.add('record-audit-log', payload");
    expect(auditFix.code).toContain('insert into audit_log (actor, action) values (?, ?)');
  });
});
