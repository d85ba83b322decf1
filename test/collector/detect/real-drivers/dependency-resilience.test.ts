/**
 * dependency_resilience on real traffic: examples/playbook/dependency-app.js under the
 * built agent makes real fetch (undici) calls to local dependencies that fail, hang and
 * time out, and to a healthy one; the spans reach a real collector.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../../../model/index.js';
import { killApps } from '../../../support/agent-process.js';
import { type CollectorRun, startCollectorRun } from './collector-run.js';

describe('dependency_resilience from real fetch calls', () => {
  let run: CollectorRun;
  let hosts: Record<string, string>;
  let findings: Finding[];

  beforeAll(async () => {
    run = await startCollectorRun('examples/playbook/dependency-app.js', { service: 'api' });
    const [, json] = await run.app.waitForStdout(/dependencies (.+)/);
    hosts = Object.fromEntries(
      Object.entries(JSON.parse(json ?? '{}') as Record<string, string>).map(([name, url]) => [
        name,
        new URL(url).host,
      ]),
    );
    const hit = (path: string, times: number) =>
      Promise.all(Array.from({ length: times }, async () => (await fetch(run.appUrl + path)).status));
    for (let i = 0; i < 12; i++) expect(await hit('/pay', 1)).toEqual([200]);
    const [recs, quotes, profiles] = await Promise.all([
      hit('/recs', 10),
      hit('/quote', 10),
      hit('/profile', 12),
    ]);
    expect([...recs, ...quotes, ...profiles].every((status) => status === 200)).toBe(true);
    await run.finish();
    findings = (await run.findings()).filter((finding) => finding.kind === 'dependency_resilience');
  }, 20_000);

  afterAll(async () => {
    killApps();
    await run?.close();
  });

  const forHost = (name: string) => findings.find((finding) => finding.key === hosts[name]);

  it('finds the failing payments host, with the retries after its 500s', () => {
    const finding = forHost('payments');
    // Every third charge fails and is retried: 12 requests make 17 calls, 5 of them failures and 5 retries.
    expect(finding?.evidence).toMatchObject({ calls: 17, failed: 5, retries: 5, hung: 0 });
    expect(finding?.evidence.routes).toEqual([{ route: 'GET /pay', requests: 12 }]);
    expect(finding?.recommendation.code).toContain('AbortSignal.timeout(TIMEOUT_MS)');
  });

  it('finds the hanging recs host although every call succeeded', () => {
    const finding = forHost('recs');
    expect(finding?.evidence).toMatchObject({ calls: 10, failed: 0, hung: 2 });
    // The timeout comes from the calls that did not hang (5 ms answers), far below the 2.2 s hangs.
    expect(Number(finding?.evidence.successP99Ms)).toBeLessThan(2_000);
    expect(finding?.title).toBe(`Dependency ${hosts.recs}: 2 calls hung ≥ 2 s`);
  });

  it('counts the aborted fx calls as failures after the client timeout', () => {
    expect(forHost('fx')?.evidence).toMatchObject({ calls: 10, failed: 10, timeouts: 10 });
    expect(forHost('fx')?.recommendation.summary).toContain('a 2000 ms timeout');
  });

  it('leaves the healthy users host alone', () => {
    expect(forHost('users')).toBeUndefined();
    expect(findings).toHaveLength(3);
  });
});
