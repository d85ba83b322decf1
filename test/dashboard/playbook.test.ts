/**
 * The playbook kinds in Chromium against a real collector fed with OTLP spans that hold each
 * of them: requests queueing for a pool connection, a payments host that fails and hangs, a
 * mail call a queue could take, static files served by Node. Each finding's view must show
 * its measurements as the API reports them, the numbers its fix is built from, its bar
 * charts and its chart over time drawn, and the example request with what it is about
 * marked; an evidence field the view does not know is still shown.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/index.js';
import type { Finding } from '../../model/finding.js';
import type { CpuProfileSummary, ProfileFrame, RuntimeSample } from '../../model/runtime.js';
import {
  connectionTrace,
  exportRequest,
  httpServerSpan,
  newTraceId,
  outboundCallsTrace,
  postRuntime,
  postTraces,
  runtimeSample,
} from '../support/otlp-fixtures.js';
import {
  apiFindings,
  buildDashboardIn,
  closePages,
  collectorServing,
  DOCS,
  deepText,
  drawnPixels,
  findingOf,
  formatMs,
  hasChromium,
  launchChromium,
  measurement,
  type OpenPage,
  recordErrors,
} from './chromium.js';

declare const window: { __xss?: number };

const SERVICE = 'store';
/** A service whose requests each open their own database connection. */
const REPORTS = 'reports';
/** A service whose event loop stalls hashing passwords synchronously. */
const AUTH = 'auth';
const MINUTE = 60_000;
/** The traffic spreads over this many minutes, so the charts over time have a shape. */
const MINUTES = 8;
const PAYMENTS = 'payments.internal:8443';
const MAIL = 'http://mail.internal:2525/send';
const XSS_IMG = '<img src=x onerror=window.__xss=1>';
const STATIC_FILES = [
  '/assets/app.js',
  '/assets/app.js',
  '/assets/app.css',
  '/assets/logo.svg',
  `/assets/${XSS_IMG}.js`,
];

describe.skipIf(!hasChromium('the playbook browser tests'))('playbook findings in Chromium', () => {
  let workDir: string;
  let collector: RunningCollector;
  let browser: BrowserContext;
  let findings: Finding[];
  const pages: OpenPage[] = [];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'chokepoint-playbook-'));
    mkdirSync(DOCS, { recursive: true });
    collector = await collectorServing(await buildDashboardIn(workDir), join(workDir, 'collector.db'));
    const now = Date.now();
    await postTraces(collector.otlpUrl, exportRequest(SERVICE, storeTraffic(now)));
    await postTraces(collector.otlpUrl, exportRequest(REPORTS, reportsTraffic(now)));
    await postRuntime(collector.otlpUrl, stalledAuth(now));
    await collector.flush();
    findings = await apiFindings(collector);
    browser = await launchChromium(workDir, { viewport: { width: 1360, height: 1400 } });
  });

  afterEach(async () => {
    expect(await closePages(pages)).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await collector?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  function findingOfKind(kind: Finding['kind'], service = SERVICE): Finding {
    return findingOf(findings, kind, service);
  }

  /** Opens a finding's view, recording console errors, once its evidence is on the page. */
  async function openFinding(finding: Finding): Promise<{ page: Page; detail: Locator; evidence: Locator }> {
    const page = await browser.newPage();
    pages.push({ page, errors: recordErrors(page) });
    await page.goto(
      `${collector.dashboardUrl}/#/findings/${encodeURIComponent(finding.id)}?service=${finding.service}`,
    );
    const detail = page.locator('cp-finding-detail');
    await expect.poll(() => detail.locator('h2').textContent()).toBe(finding.title);
    return { page, detail, evidence: detail.locator('cp-finding-evidence') };
  }

  /** The bar chart headed `title`: its canvas, drawn, and its description. */
  async function barChart(evidence: Locator, title: string): Promise<string> {
    const canvas = evidence
      .locator('.charts section', { has: evidence.page().locator(`h4:text-is("${title}")`) })
      .locator('cp-bar-chart canvas');
    await expect.poll(() => drawnPixels(canvas)).toBeGreaterThan(300);
    return (await canvas.getAttribute('aria-label')) ?? '';
  }

  /** The routes the evidence lists. */
  function routes(evidence: Locator): Promise<string[]> {
    return evidence
      .locator('section', { has: evidence.page().locator('h4:text-is("Routes affected")') })
      .locator('tbody td code')
      .allTextContents();
  }

  /** The chart over time: its title, and its canvas drawn. */
  async function timeChart(detail: Locator): Promise<string | null> {
    await expect.poll(() => drawnPixels(detail.locator('cp-time-chart canvas'))).toBeGreaterThan(500);
    return detail.locator('#proof').textContent();
  }

  it('the collector found each playbook kind in the traffic', () => {
    expect(findings.filter((finding) => finding.service === SERVICE).map((finding) => finding.kind)).toEqual(
      expect.arrayContaining([
        'connection_pool',
        'dependency_resilience',
        'offload_candidate',
        'static_assets',
      ]),
    );
  });

  it('connection_pool: the wait and its share, concurrency against the pool size advised, the wait over time', async () => {
    const finding = findingOfKind('connection_pool');
    const { detail, evidence } = await openFinding(finding);
    const e = finding.evidence;
    expect(await evidence.locator('pre code').first().textContent()).toBe('postgresql');
    expect(await measurement(evidence, 'Requests')).toBe(String(e.requests));
    expect(await measurement(evidence, 'Wait per request')).toBe(formatMs(Number(e.waitMsPerRequest)));
    expect(await measurement(evidence, 'Share of their time waiting')).toBe(
      `${Math.round(Number(e.waitShare) * 100)}%`,
    );
    expect(await measurement(evidence, 'Statements per request')).toBe(formatMs(Number(e.dbMsPerRequest)));
    expect(await measurement(evidence, 'Wanted at the worst moment')).toBe(String(e.peakConnectionsWanted));
    // The size the fix sets, from the evidence: the number its code sets.
    const advised = String(e.advisedPoolSize);
    expect(advised).toMatch(/^\d+$/);
    expect(/max: (\d+),/.exec(finding.recommendation.code ?? '')?.[1]).toBe(advised);
    expect(await measurement(evidence, 'Pool size advised')).toBe(advised);

    expect(await barChart(evidence, 'A request’s time, on average')).toContain(
      `waiting for a connection ${formatMs(Number(e.waitMsPerRequest))}, running statements ${formatMs(Number(e.dbMsPerRequest))}`,
    );
    expect(await barChart(evidence, 'Connections at once')).toMatch(
      new RegExp(`wanted \\(peak\\) ${e.peakConnectionsWanted}, pool size advised ${advised}$`),
    );
    expect(await timeChart(detail)).toBe('Wait for a connection over time');
    expect(await detail.locator('cp-time-chart canvas').getAttribute('aria-label')).toMatch(
      /^Wait for a connection over time\. wait per request: latest \d+ ms, highest \d+ ms$/,
    );
    expect(await routes(evidence)).toEqual(['GET /orders']);
    await expect
      .poll(() => detail.locator('cp-trace-waterfall li.highlighted .text').allTextContents())
      .toEqual(['connect to postgresql']);
    await detail
      .locator('section[aria-labelledby="evidence"]')
      .screenshot({ path: join(DOCS, 'connection-pool.png') });
  });

  it('connection_pool, new connections: the time opening them and the one pool advised instead', async () => {
    const finding = findingOfKind('connection_pool', REPORTS);
    expect(finding.evidence.rule).toBe('new_connections');
    const { detail, evidence } = await openFinding(finding);
    const e = finding.evidence;
    expect(await measurement(evidence, 'Requests opening one')).toBe(String(e.requestsOpening));
    expect(await measurement(evidence, 'Share opening one')).toBe('100%');
    expect(await measurement(evidence, 'Opening, per request')).toBe(formatMs(Number(e.openMsPerRequest)));
    const advised = String(e.advisedPoolSize);
    expect(advised).toMatch(/^\d+$/);
    expect(/max: (\d+),/.exec(finding.recommendation.code ?? '')?.[1]).toBe(advised);
    expect(await measurement(evidence, 'Pool size advised')).toBe(advised);
    expect(await barChart(evidence, 'A request’s time, on average')).toContain(
      `opening a connection ${formatMs(Number(e.openMsPerRequest))}`,
    );
    expect(await barChart(evidence, 'Connections at once')).toMatch(
      new RegExp(`pool size advised ${advised}$`),
    );
    expect(await timeChart(detail)).toBe('Time opening connections over time');
    expect(await routes(evidence)).toEqual(['GET /report']);
  });

  it('dependency_resilience: calls by outcome, healthy calls by latency with the p99 and the timeout advised, held time over time', async () => {
    const finding = findingOfKind('dependency_resilience');
    const { page, detail, evidence } = await openFinding(finding);
    const e = finding.evidence;
    expect(await evidence.locator('pre code').first().textContent()).toBe(PAYMENTS);
    for (const [label, field] of [
      ['Calls', 'calls'],
      ['Failed', 'failed'],
      ['Retries', 'retries'],
      ['Hung', 'hung'],
    ] as const) {
      expect(await measurement(evidence, label), label).toBe(String(e[field]));
    }
    expect(e).toMatchObject({ failed: MINUTES, retries: MINUTES, hung: 1 });
    expect(await measurement(evidence, 'Error rate')).toBe(`${Math.round(Number(e.errorRate) * 100)}%`);
    expect(await measurement(evidence, 'Healthy calls, p99')).toBe(formatMs(Number(e.successP99Ms)));
    // Healthy calls: the retries' 40 ms and the 45 and 50 ms calls within 50 ms, the 55 ms ones within 100 ms;
    // the hung 2.5 s call in none. The fix's timeout is twice the p99, as its code sets it.
    const latency = e.latencyBuckets as Array<{ leMs: number | null; calls: number }>;
    expect(latency.filter((bucket) => bucket.calls > 0)).toEqual([
      { leMs: 50, calls: 3 * MINUTES - 1 },
      { leMs: 100, calls: MINUTES },
    ]);
    expect(latency.at(-1)).toEqual({ leMs: null, calls: 0 });
    expect(e).toMatchObject({ successP99Ms: 100, advisedTimeoutMs: 200 });
    expect(/TIMEOUT_MS = (\d+);/.exec(finding.recommendation.code ?? '')?.[1]).toBe('200');
    expect(await measurement(evidence, 'Timeout advised')).toBe('200 ms');

    // A 503 is an error the server answered with; a fetch that never got an answer could not reach it.
    const kinds = e.errorKinds as { connection: number; rejected: number };
    expect(kinds).toMatchObject({ connection: 0, rejected: MINUTES });
    expect(await measurement(evidence, 'Answered with an error')).toBe(String(kinds.rejected));
    expect(await barChart(evidence, 'Calls by outcome')).toBe(
      `Calls by outcome: succeeded ${Number(e.calls) - Number(e.failed)}, failed ${e.failed}, timed out ${e.timeouts}, ` +
        `could not reach it ${kinds.connection}, answered with an error ${kinds.rejected}, retries ${e.retries}, hung ${e.hung}`,
    );
    expect(await barChart(evidence, 'Healthy calls by latency')).toBe(
      `Healthy calls by latency: ≤ 50 ms ${3 * MINUTES - 1}, ≤ 100 ms (p99) ${MINUTES}, ≤ 250 ms (timeout advised) 0`,
    );
    expect(await timeChart(detail)).toBe('Time held by failing and hung calls over time');
    const failing = evidence.locator('section', { has: page.locator('h4:text-is("Failing calls")') });
    expect(await failing.locator('tbody td').allTextContents()).toEqual([
      'POST /charges/{id}',
      String(MINUTES),
    ]);
    expect(await routes(evidence)).toEqual(['POST /checkout']);
    await expect
      .poll(() => detail.locator('cp-trace-waterfall li.highlighted .text').count())
      .toBeGreaterThan(0);
    expect(
      new Set(await detail.locator('cp-trace-waterfall li.highlighted .text').allTextContents()),
    ).toEqual(new Set([`POST ${PAYMENTS}/charges/{id}`]));
  });

  it('offload_candidate: the request split into what the response needs and the work a queue could take', async () => {
    const finding = findingOfKind('offload_candidate');
    const { detail, evidence } = await openFinding(finding);
    const e = finding.evidence;
    expect(e.work).toBe('POST mail.internal:2525/send');
    expect(await evidence.locator('pre code').first().textContent()).toBe(e.work);
    expect(await measurement(evidence, 'Requests')).toBe(String(e.requests));
    expect(await measurement(evidence, 'Time on it per request')).toBe(formatMs(Number(e.msPerRequest)));
    expect(await measurement(evidence, 'Request now')).toBe(formatMs(Number(e.requestMeanMs)));
    expect(await measurement(evidence, 'Request with a queue')).toBe(formatMs(Number(e.requestMeanMsAfter)));
    expect(await measurement(evidence, 'Share of request time')).toBe(
      `${Math.round(Number(e.share) * 100)}%`,
    );
    expect(await barChart(evidence, 'A request’s time, on average')).toBe(
      `A request’s time, on average: what the response needs ${formatMs(Number(e.requestMeanMsAfter))}, ${e.work} ${formatMs(Number(e.msPerRequest))}`,
    );
    expect(await timeChart(detail)).toBe('Time on offloadable work over time');
    await expect
      .poll(() => detail.locator('cp-trace-waterfall li.highlighted .text').allTextContents())
      .toEqual([e.work]);
  });

  it('static_assets: shares of traffic, requests by file type, the files with headers to check, requests over time', async () => {
    const finding = findingOfKind('static_assets');
    const { page, detail, evidence } = await openFinding(finding);
    const e = finding.evidence;
    expect(e.staticRequests).toBe(STATIC_FILES.length * MINUTES);
    expect(await measurement(evidence, 'Static requests')).toBe(String(e.staticRequests));
    expect(await measurement(evidence, 'All requests')).toBe(String(e.requests));
    expect(await measurement(evidence, 'Share of requests')).toBe(
      `${Math.round(Number(e.requestShare) * 100)}%`,
    );
    expect(await barChart(evidence, 'Share of the service’s HTTP traffic')).toMatch(
      /^Share of the service’s HTTP traffic: requests \d+%, time \d+%$/,
    );
    expect(await barChart(evidence, 'Static requests by file type')).toBe(
      `Static requests by file type: js ${3 * MINUTES}, css ${MINUTES}, svg ${MINUTES}`,
    );

    const assets = e.assets as Array<{ route: string; requests: number }>;
    const rows = evidence.locator('section', { hasText: 'Files served by Node' }).locator('tbody tr');
    expect(await rows.count()).toBe(assets.length);
    expect(await rows.locator('td:first-child').allTextContents()).toEqual(
      assets.map((asset) => asset.route),
    );
    // The headers each file should carry, as the evidence gives them.
    const cssHeaders = ['Cache-Control: no-cache, with an ETag', 'Content-Encoding: br or gzip'];
    expect(e.assets).toContainEqual(
      expect.objectContaining({ route: '/assets/app.css', headers: cssHeaders }),
    );
    const css = rows.filter({ hasText: '/assets/app.css' });
    expect(await css.locator('td.headers code').allTextContents()).toEqual(cssHeaders);
    expect(await rows.filter({ hasText: '/assets/logo.svg' }).locator('td').nth(1).textContent()).toBe(
      String(MINUTES),
    );

    // Their series is their routes' buckets, summed by the API: every static request, one point a minute.
    const response = await fetch(`${collector.dashboardUrl}/api/findings/${encodeURIComponent(finding.id)}`);
    const { series } = (await response.json()) as { series: Array<{ count: number }> };
    expect(series).toHaveLength(MINUTES);
    expect(series.map((point) => point.count)).toEqual(Array(MINUTES).fill(STATIC_FILES.length));
    expect(await timeChart(detail)).toBe('Requests for static files over time');
    expect(await detail.locator('cp-time-chart canvas').getAttribute('aria-label')).toMatch(
      /requests per minute: latest [\d.]+\/min, highest [\d.]+\/min$/,
    );

    // A file name with markup is shown as text and never runs.
    expect(await evidence.evaluate(deepText)).toContain(`/assets/${XSS_IMG}.js`);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => window.__xss)).toBeUndefined();
  });

  it('hot_path_cpu: the call to change and the app’s caller, the stalled CPU by function, the path, the stall it causes', async () => {
    const finding = findingOfKind('hot_path_cpu', AUTH);
    const { page, evidence } = await openFinding(finding);
    const e = finding.evidence;
    const code = evidence.locator('pre code');
    expect(await code.nth(0).textContent()).toBe('pbkdf2Sync (node:internal/crypto/pbkdf2:44)');
    expect(await code.nth(1).textContent()).toBe('hashPassword (src/auth.js:12)');
    expect(await measurement(evidence, 'Share of stalled CPU')).toBe(`${Math.round(Number(e.share) * 100)}%`);
    expect(await measurement(evidence, 'Its CPU sampled')).toBe(formatMs(Number(e.selfMs)));
    expect(await measurement(evidence, 'Stalls')).toBe(String(e.stalls));
    expect(await measurement(evidence, 'Profiles')).toBe('2');
    expect(await barChart(evidence, 'Stalled CPU by function')).toBe(
      `Stalled CPU by function: ${(e.hotSpots as Array<{ functionName: string; share: number }>)
        .map((spot) => `${spot.functionName} ${Math.round(spot.share * 100)}%`)
        .join(', ')}`,
    );
    expect(await evidence.locator('ol.path li').allTextContents()).toEqual([
      'run (native code)',
      'pbkdf2Sync (node:internal/crypto/pbkdf2:44)',
      'hashPassword (src/auth.js:12)',
      'handle (src/server.js:20)',
    ]);
    // Profiles have no series: no chart over time, and no example request.
    await expect.poll(() => page.locator('cp-finding-detail #proof').count()).toBe(0);
    // The stall and the code holding it link to each other.
    const stall = findingOfKind('event_loop_blocked', AUTH);
    await evidence.locator('a', { hasText: stall.title }).click();
    await expect.poll(() => page.locator('cp-finding-detail h2').textContent()).toBe(stall.title);
    await page.locator('cp-finding-evidence a', { hasText: finding.title }).waitFor();
  });

  it('shows an evidence field the view does not know yet after what it knows', async () => {
    const finding = findingOfKind('dependency_resilience');
    const page = await browser.newPage();
    pages.push({ page, errors: [] });
    // The collector's own detail, with one field a later detector might add.
    await page.route(
      (url) => url.pathname.endsWith(`/api/findings/${encodeURIComponent(finding.id)}`),
      async (route) => {
        const response = await route.fetch();
        const body = (await response.json()) as { finding: Finding };
        body.finding.evidence = { ...body.finding.evidence, queueDepthP95: 7 };
        await route.fulfill({ response, json: body });
      },
    );
    await page.goto(
      `${collector.dashboardUrl}/#/findings/${encodeURIComponent(finding.id)}?service=${SERVICE}`,
    );
    const evidence = page.locator('cp-finding-evidence');
    const more = evidence.locator('section.other');
    await expect.poll(() => more.locator('h4').textContent()).toBe('More evidence');
    expect(await more.locator('dt').allTextContents()).toEqual(['queueDepthP95']);
    expect(await measurement(more, 'queueDepthP95')).toBe('7');
    expect(await measurement(evidence, 'Calls')).toBe(String(finding.evidence.calls));
  });
});

/**
 * A store whose pool is too small, whose payments host fails once a minute (then is retried)
 * and hangs once, whose sign-up waits for the mail server, and which serves its own front end.
 */
function storeTraffic(now: number) {
  const spans = [];
  for (let minute = 0; minute < MINUTES; minute++) {
    const at = (offsetMs: number) => now - (minute + 1) * MINUTE + offsetMs;
    for (let index = 0; index < 8; index++) {
      spans.push(
        ...connectionTrace({
          route: '/orders',
          waitMs: 40 + minute * 10,
          queryMs: 20,
          startMs: at(index * 2_000),
        }),
      );
    }
    for (let index = 0; index < 4; index++) {
      const charge = `https://${PAYMENTS}/charges/${minute * 10 + index}`;
      const calls =
        index === 0
          ? [
              // The client instrumentation marks a 5xx as an error.
              { url: charge, method: 'POST', durationMs: 150, statusCode: 503, error: true },
              { url: charge, method: 'POST', durationMs: 40 },
            ]
          : [
              {
                url: charge,
                method: 'POST',
                durationMs: minute === 0 && index === 1 ? 2_500 : 40 + index * 5,
              },
            ];
      spans.push(
        ...outboundCallsTrace({
          route: '/checkout',
          method: 'POST',
          calls,
          startMs: at(20_000 + index * 3_000),
        }),
      );
    }
    for (let index = 0; index < 3; index++) {
      spans.push(
        ...outboundCallsTrace({
          route: '/signup',
          method: 'POST',
          calls: [{ url: MAIL, method: 'POST', durationMs: 110 + index * 10 }],
          afterMs: 40,
          startMs: at(35_000 + index * 2_000),
        }),
      );
    }
    STATIC_FILES.forEach((route, index) => {
      spans.push(
        httpServerSpan({ traceId: newTraceId(), route, startMs: at(45_000 + index * 500), durationMs: 3 }),
      );
    });
  }
  return spans;
}

/** Reports that each open a new Postgres connection (`new Client()` per request), 30 ms, before a 10 ms query. */
function reportsTraffic(now: number) {
  return Array.from({ length: MINUTES * 6 }, (_, index) =>
    connectionTrace({
      route: '/report',
      pooled: false,
      openMs: 30,
      queryMs: 10,
      startMs: now - MINUTES * MINUTE + index * 10_000,
    }),
  ).flat();
}

/** The password hash behind the stalls: `run` in native code under crypto's pbkdf2Sync, called by the app. */
const handler: ProfileFrame = { functionName: 'handle', url: 'src/server.js', line: 20 };
const hashPassword: ProfileFrame = { functionName: 'hashPassword', url: 'src/auth.js', line: 12 };
const pbkdf2Sync: ProfileFrame = { functionName: 'pbkdf2Sync', url: 'node:internal/crypto/pbkdf2', line: 44 };

function stallProfile(startMs: number, hashMs: number): CpuProfileSummary {
  return {
    startMs,
    durationMs: 2_000,
    samplingIntervalUs: 1_000,
    stalls: 3,
    stallMs: 780,
    sampledMs: hashMs + 60,
    startPauseMs: 4,
    functions: [
      {
        functionName: 'run',
        url: '',
        line: 0,
        selfMs: hashMs,
        totalMs: hashMs,
        callers: [pbkdf2Sync, hashPassword, handler],
      },
      { ...handler, selfMs: 60, totalMs: hashMs + 60, callers: [] },
    ],
    packages: [],
  };
}

/** A minute of the auth service's samples: its loop stalls 260 ms in three intervals, two of which carry profiles. */
function stalledAuth(now: number): RuntimeSample[] {
  return Array.from({ length: 6 }, (_, index) => {
    const timeMs = now - 60_000 + index * 10_000;
    const stalled = index === 1 || index >= 4;
    return runtimeSample({
      service: AUTH,
      timeMs,
      ...(stalled
        ? { eventLoopLag: { minMs: 9.8, meanMs: 10.6, p50Ms: 10.2, p90Ms: 10.5, p99Ms: 11, maxMs: 260 } }
        : {}),
      ...(index >= 4 ? { cpuProfile: stallProfile(timeMs - 5_000, 700 + index * 50) } : {}),
    });
  });
}
