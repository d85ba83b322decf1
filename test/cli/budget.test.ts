/**
 * The budget's verdict on hand-built findings: each rule at its boundary, kinds without a rule,
 * the ignore list, and what "new" and "worse" mean against a baseline. The same rules on real
 * findings from real runs are in check.test.ts and check-baseline.test.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Budget, defaultBudget, evaluateBudget, readBudgetFile } from '../../cli/budget.js';
import type { Finding, FindingKind } from '../../model/index.js';

let counter = 0;
function finding(
  kind: FindingKind,
  evidence: Record<string, unknown>,
  fields: Partial<Finding> = {},
): Finding {
  counter += 1;
  return {
    id: `finding-${counter}`,
    kind,
    service: 'shop',
    key: `key-${counter}`,
    title: `${kind} ${counter}`,
    severity: 'medium',
    impact: 1_000,
    status: 'new',
    firstSeen: '2026-11-26T12:00:00.000Z',
    lastSeen: '2026-11-26T12:00:00.000Z',
    evidence,
    recommendation: { summary: 'fix it', detail: 'how' },
    ...fields,
  };
}

const budget = (fields: Partial<Budget> = {}): Budget => ({ ...defaultBudget, ignore: [], ...fields });
const violated = (findings: Finding[], settings: Budget, baseline?: Finding[]) =>
  evaluateBudget(findings, settings, baseline).violations.map((violation) => violation.findingId);

describe('budget rules', () => {
  it('allows maxNPlusOne repeats and fails one more, for SQL and HTTP N+1 alike', () => {
    const atLimit = finding('n_plus_one', { maxRepeats: 4 });
    const over = finding('n_plus_one', { maxRepeats: 5 });
    const httpOver = finding('n_plus_one_http', { maxRepeats: 9 });
    const verdict = evaluateBudget([atLimit, over, httpOver], budget({ maxNPlusOne: 4 }));

    expect(verdict.violations.map((v) => v.findingId)).toEqual([over.id, httpOver.id]);
    expect(verdict.violations[0]).toMatchObject({
      rule: 'maxNPlusOne',
      limit: 4,
      actual: 5,
      change: null,
      message: '5 repeats per request (budget: at most 4)',
    });
  });

  it('fails a slow query whose p95 reaches slowQueryMs, not one flagged for its share of DB time', () => {
    const slow = finding('slow_query', { p95Ms: 100 });
    const dominant = finding('slow_query', { p95Ms: 12, shareOfDbTime: 0.8 });
    expect(violated([slow, dominant], budget({ slowQueryMs: 100 }))).toEqual([slow.id]);
  });

  it('prefers the finding’s own p95 to its evidence, and reads queue lag from either', () => {
    const ownP95 = finding('slow_query', { p95Ms: 500 }, { p95Ms: 80 });
    const queueTop = finding('queue_lag', { lagP95Ms: 10 }, { p95Ms: 2_500 });
    const queueEvidence = finding('queue_lag', { lagP95Ms: 1_500 });
    const quickQueue = finding('queue_lag', { lagP95Ms: 900 });
    expect(
      violated(
        [ownP95, queueTop, queueEvidence, quickQueue],
        budget({ slowQueryMs: 100, maxQueueLagMs: 1_000 }),
      ),
    ).toEqual([queueTop.id, queueEvidence.id]);
  });

  it('fails a cache below minCacheHitRatio', () => {
    const cold = finding('cache_hit_ratio', { hitRatio: 0.42 });
    const warm = finding('cache_hit_ratio', { hitRatio: 0.8 });
    const verdict = evaluateBudget([cold, warm], budget({ minCacheHitRatio: 0.8 }));
    expect(verdict.violations.map((v) => v.findingId)).toEqual([cold.id]);
    expect(verdict.violations[0]?.message).toBe('hit ratio 42% (budget: at least 80%)');
  });

  it('fails requests waiting for a pool connection beyond maxPoolWaitShare', () => {
    const starved = finding('connection_pool', { rule: 'pool_wait', waitShare: 0.6 });
    const brief = finding('connection_pool', { rule: 'pool_wait', waitShare: 0.1 });
    const verdict = evaluateBudget([starved, brief], budget({ maxPoolWaitShare: 0.1 }));
    expect(verdict.violations.map((v) => v.findingId)).toEqual([starved.id]);
    expect(verdict.violations[0]).toMatchObject({
      rule: 'maxPoolWaitShare',
      actual: 0.6,
      message: '60% of request time waiting for a connection (budget: at most 10%)',
    });
  });

  it('judges new connections per request by maxNewConnectionShare, not by the wait rule', () => {
    const perRequest = finding('connection_pool', { rule: 'new_connections', openShare: 1, waitShare: 0 });
    expect(violated([perRequest], budget({ maxPoolWaitShare: 0 }))).toEqual([]);
    const verdict = evaluateBudget([perRequest], budget({ maxNewConnectionShare: 0.5 }));
    expect(verdict.violations[0]).toMatchObject({
      rule: 'maxNewConnectionShare',
      message: '100% of requests open a new connection (budget: at most 50%)',
    });
  });

  it('fails a dependency whose error rate exceeds maxDependencyErrorRate, not one that only hangs', () => {
    const failing = finding('dependency_resilience', { errorRate: 0.25, hung: 0 });
    const hanging = finding('dependency_resilience', { errorRate: 0, hung: 3 });
    const verdict = evaluateBudget([failing, hanging], budget({ maxDependencyErrorRate: 0.05 }));
    expect(verdict.violations.map((v) => v.findingId)).toEqual([failing.id]);
    expect(verdict.violations[0]?.message).toBe('25% of calls fail (budget: at most 5%)');
  });

  it('judges nothing by a rule that is off, nor findings of kinds without a rule', () => {
    const findings = [
      finding('cache_hit_ratio', { hitRatio: 0.1 }),
      finding('queue_lag', { lagP95Ms: 60_000 }),
      finding('slow_endpoint', { p95Ms: 9_000 }),
      finding('event_loop_blocked', { maxMs: 900 }),
      finding('gc_pressure', {}),
      finding('connection_pool', { rule: 'pool_wait', waitShare: 0.9 }),
      finding('dependency_resilience', { errorRate: 1 }),
    ];
    expect(violated(findings, budget())).toEqual([]);
    // Offloading work and serving static files are advice: reported, never judged, whatever the budget.
    const advice = [
      finding('offload_candidate', { share: 0.9, msPerRequest: 400 }),
      finding('static_assets', { requestShare: 0.8 }),
    ];
    const strict = budget({ maxPoolWaitShare: 0, maxNewConnectionShare: 0, maxDependencyErrorRate: 0 });
    expect(violated(advice, strict)).toEqual([]);
  });

  it('skips a finding whose evidence lacks the measure rather than guessing', () => {
    expect(violated([finding('n_plus_one', { avgRepeats: 9 })], budget())).toEqual([]);
  });
});

describe('ignore', () => {
  const routes = (...names: string[]) => names.map((route) => ({ route, requests: 1 }));

  it('leaves out a finding named by id, key, fingerprint id or fingerprint text', () => {
    const byId = finding('n_plus_one', { maxRepeats: 9 });
    const byKey = finding('n_plus_one', { maxRepeats: 9 });
    const byFingerprintId = finding('n_plus_one', { maxRepeats: 9, fingerprintId: 'fp-1' });
    const byText = finding('n_plus_one', { maxRepeats: 9, fingerprint: 'select * from t where id = ?' });
    const kept = finding('n_plus_one', { maxRepeats: 9, fingerprint: 'select * from u where id = ?' });
    const ignore = [byId.id, byKey.key, 'fp-1', 'select * from t where id = ?'];
    const verdict = evaluateBudget([byId, byKey, byFingerprintId, byText, kept], budget({ ignore }));

    expect(verdict.ignored).toEqual([byId.id, byKey.id, byFingerprintId.id, byText.id]);
    expect(verdict.violations.map((v) => v.findingId)).toEqual([kept.id]);
  });

  it('leaves out a finding by route only when every route it ran on is ignored', () => {
    const onlyHealth = finding('n_plus_one', { maxRepeats: 9, routes: routes('GET /health') });
    const alsoOrders = finding('n_plus_one', { maxRepeats: 9, routes: routes('GET /health', 'GET /orders') });
    const verdict = evaluateBudget([onlyHealth, alsoOrders], budget({ ignore: ['GET /health'] }));

    expect(verdict.ignored).toEqual([onlyHealth.id]);
    expect(verdict.violations.map((v) => v.findingId)).toEqual([alsoOrders.id]);
  });
});

describe('against a baseline', () => {
  /** The same finding (same id) as saved in a baseline, with other numbers. */
  const saved = (current: Finding, fields: Partial<Finding>): Finding => ({ ...current, ...fields });

  it('counts a finding the baseline lacks as new, and tolerates one it holds unchanged', () => {
    const known = finding('n_plus_one', { maxRepeats: 9 });
    const fresh = finding('slow_query', { p95Ms: 300 });
    const verdict = evaluateBudget([known, fresh], budget(), [known]);

    expect(verdict.violations).toEqual([
      expect.objectContaining({
        findingId: fresh.id,
        change: 'new',
        message: 'new: p95 300 ms (budget: under 100 ms)',
      }),
    ]);
    expect(verdict.tolerated).toEqual([
      expect.objectContaining({
        findingId: known.id,
        change: null,
        message: expect.stringMatching(/^in the baseline/),
      }),
    ]);
  });

  it('calls any increase in repeats worse', () => {
    const current = finding('n_plus_one', { maxRepeats: 9 });
    expect(violated([current], budget(), [saved(current, { evidence: { maxRepeats: 8 } })])).toEqual([
      current.id,
    ]);
    expect(violated([current], budget(), [saved(current, { evidence: { maxRepeats: 9 } })])).toEqual([]);
  });

  it('calls a p95 worse from worseFactor × the baseline’s', () => {
    const current = finding('slow_query', { p95Ms: 300 });
    const was = (p95Ms: number) => [saved(current, { evidence: { p95Ms } })];
    expect(violated([current], budget(), was(200))).toEqual([current.id]);
    expect(violated([current], budget(), was(201))).toEqual([]);
    expect(violated([current], budget({ worseFactor: 3 }), was(101))).toEqual([]);
    expect(violated([current], budget({ worseFactor: 3 }), was(100))).toEqual([current.id]);
  });

  it('calls a share worse from worseFactor × the baseline’s', () => {
    const before = finding('dependency_resilience', { errorRate: 0.2 });
    const same = { ...before, evidence: { errorRate: 0.29 } };
    const worse = { ...before, evidence: { errorRate: 0.3 } };
    const settings = budget({ maxDependencyErrorRate: 0.05 });
    expect(violated([same], settings, [before])).toEqual([]);
    expect(evaluateBudget([worse], settings, [before]).violations[0]?.message).toBe(
      'worse: errorRate 0.3, was 0.2 in the baseline',
    );
  });

  it('calls a cache worse when its miss ratio grew by worseFactor', () => {
    const current = finding('cache_hit_ratio', { hitRatio: 0.4 });
    const was = (hitRatio: number) => [saved(current, { evidence: { hitRatio } })];
    const settings = budget({ minCacheHitRatio: 0.9 });
    expect(violated([current], settings, was(0.6))).toEqual([current.id]); // misses 60% vs 40%
    expect(violated([current], settings, was(0.5))).toEqual([]); // misses 60% vs 50%
  });

  it('calls an impact worse only when it grew by worseFactor and raised the severity', () => {
    const current = finding('n_plus_one', { maxRepeats: 9 }, { impact: 6_000, severity: 'high' });
    const was = (impact: number, severity: Finding['severity']) => [saved(current, { impact, severity })];
    expect(violated([current], budget(), was(4_000, 'medium'))).toEqual([current.id]);
    // Grown 1.5× within one severity, or across a boundary by a nudge: noise, not worse.
    expect(violated([current], budget(), was(4_000, 'high'))).toEqual([]);
    expect(violated([current], budget(), was(4_900, 'medium'))).toEqual([]);
  });
});

describe('readBudgetFile', () => {
  const write = (content: string) => {
    const path = join(mkdtempSync(join(tmpdir(), 'chokepoint-budget-')), 'chokepoint.config.json');
    writeFileSync(path, content);
    return path;
  };

  it('is the defaults when the file is absent and not asked for, an error when asked for', () => {
    expect(readBudgetFile('/nonexistent/chokepoint.config.json', { required: false })).toEqual(defaultBudget);
    expect(() => readBudgetFile('/nonexistent/chokepoint.config.json', { required: true })).toThrow(
      '--config /nonexistent/chokepoint.config.json: no such file',
    );
  });

  it('reads every setting over the defaults; null turns a rule off', () => {
    const path = write(
      JSON.stringify({
        $schema: 'https://example.invalid/schema.json',
        maxNPlusOne: 2,
        slowQueryMs: null,
        minCacheHitRatio: 0.75,
        maxQueueLagMs: 0,
        maxPoolWaitShare: 0.2,
        maxNewConnectionShare: 0.5,
        maxDependencyErrorRate: 0.01,
        worseFactor: 2,
        ignore: ['GET /health'],
      }),
    );
    expect(readBudgetFile(path, { required: true })).toEqual({
      maxNPlusOne: 2,
      minCacheHitRatio: 0.75,
      maxQueueLagMs: 0,
      maxPoolWaitShare: 0.2,
      maxNewConnectionShare: 0.5,
      maxDependencyErrorRate: 0.01,
      worseFactor: 2,
      ignore: ['GET /health'],
    });
  });

  it.each([
    ['{"maxNPlusOne": 3,', /is not valid JSON/],
    ['[1, 2]', /must hold a JSON object/],
    ['{"ignore": "GET /health"}', /"ignore" must be a list of non-empty strings/],
    ['{"ignore": [""]}', /"ignore" must be a list of non-empty strings/],
    ['{"maxNPlusOne": 2.5}', /"maxNPlusOne"="2.5" is not valid: expected a whole number ≥ 1/],
    ['{"worseFactor": 1}', /"worseFactor"="1" is not valid: expected a number > 1/],
    ['{"minCacheHitRatio": "high"}', /"minCacheHitRatio" must be a number or null, not "high"/],
    ['{"maxDependencyErrorRate": 5}', /"maxDependencyErrorRate"="5" is not valid/],
    ['{"maxNPlusone": 3}', /unknown setting "maxNPlusone" \(known: ignore, maxNPlusOne,/],
  ])('refuses %s with a message naming the file', (content, message) => {
    const path = write(content);
    expect(() => readBudgetFile(path, { required: true })).toThrow(message);
    expect(() => readBudgetFile(path, { required: true })).toThrow(path);
  });
});
