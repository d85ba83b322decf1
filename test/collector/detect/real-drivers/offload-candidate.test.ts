/**
 * offload_candidate on real traffic: examples/playbook/signup-app.js under the built
 * agent calls a slow local mail service with fetch, once before answering and once after;
 * the spans reach a real collector.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../../../model/index.js';
import { killApps } from '../../../support/agent-process.js';
import { type CollectorRun, startCollectorRun } from './collector-run.js';

describe('offload_candidate from real fetch calls', () => {
  let run: CollectorRun;
  let findings: Finding[];

  beforeAll(async () => {
    run = await startCollectorRun('examples/playbook/signup-app.js', { service: 'accounts' });
    const hit = (method: string, path: string, times: number) =>
      Promise.all(
        Array.from({ length: times }, async () => (await fetch(run.appUrl + path, { method })).status),
      );
    expect(await hit('POST', '/signup', 6)).toEqual(Array(6).fill(201));
    expect(await hit('POST', '/invite', 6)).toEqual(Array(6).fill(201));
    expect(await hit('GET', '/profile', 6)).toEqual(Array(6).fill(200));
    // The invitations' mail calls finish after their responses: give them time before stopping.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await run.finish();
    findings = (await run.findings()).filter((finding) => finding.kind === 'offload_candidate');
  });

  afterAll(async () => {
    killApps();
    await run?.close();
  });

  it('finds the mail call sign-ups wait for, with the time a queue would save', () => {
    expect(findings).toHaveLength(1);
    const [finding] = findings;
    expect(finding?.key).toMatch(/^POST 127\.0\.0\.1:\d+\/mail\/send$/);
    expect(finding?.evidence).toMatchObject({
      type: 'http',
      urlTemplate: '/mail/send',
      requests: 6,
      routes: [{ route: 'POST /signup', requests: 6 }],
    });
    expect(Number(finding?.evidence.msPerRequest)).toBeGreaterThanOrEqual(150);
    expect(Number(finding?.evidence.share)).toBeGreaterThan(0.5);
    expect(finding?.recommendation.summary).toMatch(/^Move POST .*\/mail\/send to a queue worker/);
  });

  it('leaves the mail sent after the response and the users lookup alone', () => {
    const routes = findings.flatMap((finding) =>
      (finding.evidence.routes as Array<{ route: string }>).map((r) => r.route),
    );
    expect(routes).not.toContain('POST /invite');
    expect(routes).not.toContain('GET /profile');
  });
});
