/**
 * The dashboard in Debian's Chromium against a real collector fed with OTLP spans and runtime
 * samples: the overview (ranking, tiles), a finding's detail (chart, N+1 waterfall, fix on the
 * clipboard), every table view (rows, sparklines, sorting, filtering), deep links, live
 * refresh, keyboard, colour schemes, the token prompt, and untrusted span text rendered as
 * text in every view. Every page must log no console error.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/index.js';
import type { Finding } from '../../model/finding.js';
import {
  cacheAsideTrace,
  exportRequest,
  httpFanOutTrace,
  nPlusOneTrace,
  postRuntime,
  postTraces,
  queueTrace,
  runtimeSample,
  slowQueryTrace,
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
  parseNumber,
  recordErrors,
} from './chromium.js';

// Page-side callbacks run in Chromium with Node's types only here (see chromium.ts).
interface PageElement {
  tagName: string;
  shadowRoot: { activeElement: PageElement | null } | null;
  getAttribute(name: string): string | null;
}
type MarkedElement = { marked?: boolean };
type ShellElement = { refreshSeconds: number; refresh(): Promise<void> };
declare const document: { activeElement: PageElement | null; body: PageElement };
declare const window: { __xss?: number; scrollY: number; scrollTo(x: number, y: number): void };
declare const navigator: { clipboard: { readText(): Promise<string> } };
declare function getComputedStyle(element: PageElement): { outlineStyle: string; backgroundColor: string };

const XSS_IMG = '<img src=x onerror=window.__xss=1>';
const XSS_SCRIPT = '<script>window.__xss=1</script>';
const XSS_SERVICE = `evil${XSS_SCRIPT}`;
const MINUTE = 60_000;
/** The fixtures' traffic spreads over this many minutes, so sparklines and charts have a shape. */
const MINUTES = 8;
const LIST_VIEWS = ['endpoints', 'queries', 'caches', 'queues', 'runtime'] as const;
type ListView = (typeof LIST_VIEWS)[number];
type Row = Record<string, unknown>;

describe.skipIf(!hasChromium('the dashboard browser tests'))('dashboard in Chromium', () => {
  let workDir: string;
  let dashboardDir: string;
  let collector: RunningCollector;
  let browser: BrowserContext;
  let findings: Finding[];
  const pages: OpenPage[] = [];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'chokepoint-dashboard-'));
    mkdirSync(DOCS, { recursive: true });
    dashboardDir = await buildDashboardIn(workDir);
    collector = await collectorServing(dashboardDir, join(workDir, 'collector.db'));
    const now = Date.now();
    await postTraces(collector.otlpUrl, exportRequest('shop', shopTraffic(now)));
    await postRuntime(collector.otlpUrl, busyShopLoop(now));
    await postTraces(collector.otlpUrl, exportRequest(XSS_SERVICE, hostileTraffic(now)));
    await postRuntime(collector.otlpUrl, [
      runtimeSample({ service: XSS_SERVICE, instanceId: XSS_IMG, timeMs: now - MINUTE }),
    ]);
    await collector.flush();
    findings = await apiFindings(collector);

    browser = await launchChromium(workDir, {
      viewport: { width: 1360, height: 860 },
      permissions: ['clipboard-read', 'clipboard-write'],
    });
  });

  afterEach(async () => {
    expect(await closePages(pages)).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await collector?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  /** Opens a page on the dashboard, recording console errors (but `expectedErrors`) and uncaught exceptions. */
  async function open(
    hash = '',
    target: RunningCollector = collector,
    expectedErrors?: RegExp,
  ): Promise<Page> {
    const page = await browser.newPage();
    pages.push({ page, errors: recordErrors(page, expectedErrors) });
    await page.goto(`${target.dashboardUrl}/${hash}`);
    return page;
  }

  function shopFindings(): Finding[] {
    return findings.filter((finding) => finding.service === 'shop');
  }

  function findingOfKind(kind: Finding['kind'], service = 'shop'): Finding {
    return findingOf(findings, kind, service);
  }

  async function apiList(view: ListView, service = 'shop'): Promise<Row[]> {
    const response = await fetch(
      `${collector.dashboardUrl}/api/${view}?service=${encodeURIComponent(service)}&limit=1000`,
    );
    return ((await response.json()) as Record<ListView, Row[]>)[view];
  }

  it('the collector found what the fixtures contain', () => {
    expect(shopFindings().map((finding) => finding.kind)).toEqual(
      expect.arrayContaining([
        'slow_query',
        'n_plus_one',
        'n_plus_one_http',
        'cache_hit_ratio',
        'queue_lag',
        'event_loop_blocked',
      ]),
    );
  });

  it('overview: findings ranked by impact with severity, kind, status and title; tiles with units', async () => {
    const page = await open('#/findings?service=shop');
    const rows = page.locator('cp-findings-list li');
    await expect.poll(() => rows.count()).toBe(shopFindings().length);

    const titles = await page.locator('cp-findings-list .title').allTextContents();
    const byImpact = [...shopFindings()].sort((a, b) => b.impact - a.impact);
    expect(titles).toEqual(byImpact.map((finding) => finding.title));
    const impacts = (await page.locator('cp-findings-list .impact strong').allTextContents()).map(
      parseNumber,
    );
    expect(impacts).toEqual([...impacts].sort((a, b) => b - a));
    expect(impacts.every((impact) => impact > 0)).toBe(true);

    const top = byImpact[0] as Finding;
    const first = rows.first();
    const text = (await first.textContent()) ?? '';
    expect(text).toContain(top.severity);
    expect(text).toContain(top.status);
    expect(text).toMatch(/ms\/min/);
    expect(text).toMatch(/first seen[\s\S]*last seen/i);

    // Each tile against the list APIs it is computed from.
    const [endpoints, caches, queues] = await Promise.all([
      apiList('endpoints'),
      apiList('caches'),
      apiList('queues'),
    ]);
    const tile = (id: string) => page.locator(`cp-headline-tiles [data-tile="${id}"] .value`);
    await expect.poll(() => tile('requests').textContent()).toMatch(/^[\d,.]+\/min$/);
    const requestsPerMin = sum(endpoints, 'requestsPerMin');
    expect(parseNumber((await tile('requests').textContent()) ?? '')).toBeCloseTo(requestsPerMin, -1);
    const slowest = Math.max(...endpoints.map((row) => Number(row.p95Ms)));
    expect(await tile('latency').textContent()).toBe(formatMs(slowest));
    const sqlShare = endpoints.reduce(
      (total, row) => total + (row.breakdownMs as { sql: number }).sql * Number(row.count),
      0,
    );
    expect(await tile('database').textContent()).toBe(
      `${Math.round((100 * sqlShare) / sum(endpoints, 'totalMs'))}%`,
    );
    expect(await tile('cache').textContent()).toBe(
      `${Math.round((100 * sum(caches, 'hits')) / sum(caches, 'lookups'))}%`,
    );
    const worstLag = Math.max(...queues.map((row) => Number(row.lagP95Ms ?? 0)));
    expect(await tile('queue').textContent()).toBe(formatMs(worstLag));
    expect(await page.locator('cp-headline-tiles [data-tile="queue"] .detail').textContent()).toBe('orders');

    await expect.poll(() => drawnPixels(page.locator('cp-impact-chart canvas'))).toBeGreaterThan(100);
    await page.screenshot({ path: join(DOCS, 'overview.png') });
  });

  it('opens a slow query on click: statement, percentiles, routes, fix and a drawn latency chart', async () => {
    const finding = findingOfKind('slow_query');
    const page = await open('#/findings?service=shop');
    await page.locator('cp-findings-list a', { hasText: finding.title }).click();

    expect(decodeURIComponent(new URL(page.url()).hash)).toBe(`#/findings/${finding.id}?service=shop`);
    const detail = page.locator('cp-finding-detail');
    await expect.poll(() => detail.locator('h2').textContent()).toBe(finding.title);
    const evidence = detail.locator('cp-finding-evidence');
    expect(await evidence.locator('pre code').textContent()).toBe(finding.evidence.fingerprint);
    for (const label of ['p50', 'p95', 'p99']) {
      expect(await measurement(evidence, label)).toMatch(/^\d+(\.\d+)? (ms|s)$/);
    }
    const routes = finding.evidence.routes as Array<{ route: string }>;
    expect(await evidence.locator('tbody td code').allTextContents()).toEqual(
      routes.map(({ route }) => route),
    );
    expect(await evidence.locator('.trace code').textContent()).toBe(finding.evidence.exampleTraceId);
    expect(await detail.locator('section[aria-labelledby="fix"] .summary').textContent()).toBe(
      finding.recommendation.summary,
    );
    expect(await detail.locator('section[aria-labelledby="fix"] pre code').textContent()).toBe(
      finding.recommendation.code,
    );

    expect(await detail.locator('#proof').textContent()).toBe('Latency over time');
    const chart = detail.locator('cp-time-chart canvas');
    await expect.poll(() => drawnPixels(chart)).toBeGreaterThan(500);
    // The canvas describes itself: each line's latest and highest value, with units.
    expect(await chart.getAttribute('aria-label')).toMatch(
      /^Latency over time\. p50: latest [\d.]+ m?s.*p95: .*p99: /,
    );
  });

  it('shows the N+1 example request as a waterfall with the repeated statement marked', async () => {
    const finding = findingOfKind('n_plus_one');
    const page = await open(`#/findings/${encodeURIComponent(finding.id)}?service=shop`);
    const waterfall = page.locator('cp-trace-waterfall');
    const highlighted = waterfall.locator('li.highlighted');
    await expect.poll(() => highlighted.count()).toBe(8);
    expect(new Set(await highlighted.locator('.text').allTextContents())).toEqual(
      new Set([finding.evidence.fingerprint]),
    );
    // The request itself is the first row, not marked; every repeat is named in words too.
    expect(await waterfall.locator('li').first().locator('.text').textContent()).toBe('GET /orders');
    expect(await waterfall.locator('li').count()).toBe(9);
    expect(await waterfall.locator('.summary').textContent()).toMatch(
      /8\s+of its 9 operations are marked\s+repeated/,
    );
    expect(await highlighted.first().locator('.visually-hidden').textContent()).toBe('(repeated)');

    const evidence = page.locator('cp-finding-evidence');
    expect(await measurement(evidence, 'Runs per request (avg)')).toBe('8×');
    expect(await measurement(evidence, 'Requests affected')).toBe(String(finding.evidence.requests));
    expect(await page.locator('cp-finding-detail #proof').textContent()).toBe(
      'Repeats per request over time',
    );
    await expect.poll(() => drawnPixels(page.locator('cp-time-chart canvas'))).toBeGreaterThan(500);

    await page.setViewportSize({ width: 1360, height: 1500 });
    await page.locator('cp-finding-detail #example').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(DOCS, 'finding.png') });
  });

  it('charts every kind of finding from its series', async () => {
    const titles: Record<string, string> = {
      cache_hit_ratio: 'Hit ratio over time',
      queue_lag: 'Wait before consumption over time',
      event_loop_blocked: 'Event-loop delay over time',
      n_plus_one_http: 'Repeats per request over time',
    };
    const page = await open('#/findings?service=shop');
    for (const [kind, title] of Object.entries(titles)) {
      const finding = findingOfKind(kind as Finding['kind']);
      await page.goto(`${collector.dashboardUrl}/#/findings/${encodeURIComponent(finding.id)}?service=shop`);
      await expect.poll(() => page.locator('cp-finding-detail #proof').textContent()).toBe(title);
      await expect.poll(() => drawnPixels(page.locator('cp-time-chart canvas'))).toBeGreaterThan(500);
    }
    // The HTTP N+1's waterfall marks the repeated call.
    await expect
      .poll(() => page.locator('cp-trace-waterfall li.highlighted .text').allTextContents())
      .toEqual(Array(6).fill('GET users.internal:8080/users/{id}'));
  });

  it('copies the fix to the clipboard', async () => {
    const finding = findingOfKind('slow_query');
    const page = await open(`#/findings/${encodeURIComponent(finding.id)}`);
    const copy = page.locator('cp-finding-detail .code-head button');
    expect(await copy.textContent()).toBe('Copy fix');
    await copy.click();
    await expect.poll(() => copy.textContent()).toBe('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(finding.recommendation.code);
  });

  it('renders every list view from the API, with its sparklines drawn', async () => {
    const firstColumn: Record<ListView, string> = {
      endpoints: 'route',
      queries: 'fingerprint',
      caches: 'keyPattern',
      queues: 'destination',
      runtime: 'instanceId',
    };
    const page = await open('#/findings?service=shop');
    for (const view of LIST_VIEWS) {
      const rows = await apiList(view);
      expect(rows.length).toBeGreaterThan(0);
      await page.locator('nav a', { hasText: new RegExp(`^${view}$`, 'i') }).click();
      expect(new URL(page.url()).hash).toBe(`#/${view}?service=shop`);
      const table = page.locator('cp-data-table');
      await expect.poll(() => table.locator('tbody tr').count()).toBe(rows.length);
      expect(await table.locator('tbody tr td:first-child').allTextContents()).toEqual(
        rows.map((row) => String(row[firstColumn[view]])),
      );
      // Numbers carry their unit.
      expect(await table.locator('tbody tr').first().textContent()).toMatch(/(ms|s|\/min|%|MB)\b/);
      const lines = await table
        .locator('cp-sparkline polyline')
        .evaluateAll((polylines) =>
          polylines.map(
            (polyline) =>
              ((polyline as unknown as PageElement).getAttribute('points') ?? '').split(' ').length,
          ),
        );
      expect(
        lines.some((points) => points >= 3),
        `${view}: a sparkline with a shape`,
      ).toBe(true);
      expect(await page.locator('nav a[aria-current="page"]').textContent()).toMatch(
        new RegExp(`^${view}$`, 'i'),
      );
    }
  });

  it('endpoints: a stacked bar of where each route’s time goes', async () => {
    const page = await open('#/endpoints?service=shop');
    const chart = page.locator('cp-breakdown-chart canvas');
    await expect.poll(() => drawnPixels(chart)).toBeGreaterThan(500);
    const label = (await chart.getAttribute('aria-label')) ?? '';
    expect(label).toMatch(/GET \/orders\/:id: SQL [\d.]+ ms, Cache [\d.]+ m?s, HTTP out/);
    expect(label).toMatch(/GET \/orders: SQL [\d.]+ ms, Cache [\d.]+ m?s, HTTP out [\d.]+ ms/);
    await page.setViewportSize({ width: 1360, height: 1000 });
    await page.screenshot({ path: join(DOCS, 'endpoints.png') });
  });

  it('sorts by a header button and filters by text, and the URL follows', async () => {
    const queries = await apiList('queries');
    const page = await open('#/queries?service=shop');
    const table = page.locator('cp-data-table');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(queries.length);
    const header = table.locator('th', { has: page.locator('button', { hasText: /^p95/ }) });
    expect(await header.getAttribute('aria-sort')).toBe('none');

    await header.locator('button').click();
    await expect.poll(() => header.getAttribute('aria-sort')).toBe('descending');
    expect(new URL(page.url()).hash).toBe('#/queries?service=shop&sort=p95Ms&dir=desc');
    const statements = () => table.locator('tbody td:first-child').allTextContents();
    expect(await statements()).toEqual(sortedBy(queries, 'p95Ms', 'desc').map((row) => row.fingerprint));
    await header.locator('button').click();
    await expect.poll(() => header.getAttribute('aria-sort')).toBe('ascending');
    expect(await statements()).toEqual(sortedBy(queries, 'p95Ms', 'asc').map((row) => row.fingerprint));

    await table.locator('input[type="search"]').fill('ORDER_items');
    await expect.poll(statements).toEqual(
      sortedBy(queries, 'p95Ms', 'asc')
        .filter((row) => String(row.fingerprint).includes('order_items'))
        .map((row) => row.fingerprint),
    );
    expect(new URL(page.url()).hash).toBe('#/queries?service=shop&filter=ORDER_items&sort=p95Ms&dir=asc');
    expect(await table.locator('[role="status"]').textContent()).toBe(`1 of ${queries.length} rows`);

    // A table row leads to its finding.
    await table.locator('a', { hasText: 'N+1 queries' }).click();
    await expect
      .poll(() => page.locator('cp-finding-detail h2').textContent())
      .toBe(findingOfKind('n_plus_one').title);
  });

  it('reopens every view from a deep link, with its service, range, filter and sort', async () => {
    const finding = findingOfKind('n_plus_one');
    const page = await open(`#/findings/${encodeURIComponent(finding.id)}?service=shop&since=15m`);
    await page.reload();
    await expect.poll(() => page.locator('cp-finding-detail h2').textContent()).toBe(finding.title);
    expect(await page.locator('cp-findings-list a[aria-current="true"] .title').textContent()).toBe(
      finding.title,
    );
    expect(await page.locator('select').first().inputValue()).toBe('shop');
    expect(await page.locator('.ranges a[aria-current="true"]').textContent()).toBe('15 min');
    expect(await page.locator('cp-findings-list li').count()).toBe(shopFindings().length);

    const links: Record<ListView, { filter: string; sort: string; key: string; column: string }> = {
      endpoints: { filter: 'orders', sort: 'requestsPerMin', key: 'requestsPerMin', column: 'route' },
      queries: { filter: 'select', sort: 'callsPerMin', key: 'callsPerMin', column: 'fingerprint' },
      caches: { filter: 'product', sort: 'misses', key: 'misses', column: 'keyPattern' },
      queues: { filter: 'ord', sort: 'lagP95Ms', key: 'lagP95Ms', column: 'destination' },
      runtime: { filter: 'shop', sort: 'maxDelayMs', key: 'maxDelayMs', column: 'instanceId' },
    };
    for (const view of LIST_VIEWS) {
      const { filter, sort, key, column } = links[view];
      const rows = (await apiList(view)).filter((row) =>
        Object.values(row).some((value) => typeof value === 'string' && value.toLowerCase().includes(filter)),
      );
      await page.goto(
        `${collector.dashboardUrl}/#/${view}?service=shop&since=24h&filter=${filter}&sort=${sort}&dir=asc`,
      );
      await page.reload();
      const table = page.locator('cp-data-table');
      await expect.poll(() => table.locator('tbody tr').count()).toBe(rows.length);
      expect(await table.locator('tbody td:first-child').allTextContents()).toEqual(
        sortedBy(rows, key, 'asc').map((row) => String(row[column])),
      );
      expect(await table.locator('input[type="search"]').inputValue()).toBe(filter);
      expect(await table.locator('th[aria-sort="ascending"] button').textContent()).toMatch(/\S/);
      expect(await page.locator('.ranges a[aria-current="true"]').textContent()).toBe('24 h');
      expect(await page.locator('select').first().inputValue()).toBe('shop');
    }
  });

  it('navigates by keyboard: Tab reaches a finding, Enter opens it; Enter on a header sorts', async () => {
    const page = await open('#/findings?service=shop');
    await page.locator('cp-findings-list li').first().waitFor();
    let focused = await page.evaluate(deepFocus);
    for (let presses = 0; presses < 40 && !focused.href.startsWith('#/findings/'); presses++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(deepFocus);
    }
    expect(focused).toMatchObject({ tagName: 'A', href: expect.stringMatching(/^#\/findings\/.+/) });
    expect(focused.outlineStyle).toBe('solid');
    await page.keyboard.press('Enter');
    const first = [...shopFindings()].sort((a, b) => b.impact - a.impact)[0] as Finding;
    await expect.poll(() => page.locator('cp-finding-detail h2').textContent()).toBe(first.title);

    await page.goto(`${collector.dashboardUrl}/#/caches?service=shop`);
    const header = page.locator('cp-data-table th', { has: page.locator('button', { hasText: /^Misses/ }) });
    await header.locator('button').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => header.getAttribute('aria-sort')).toBe('descending');
  });

  it('refreshes live without losing the open finding or the scroll position', async () => {
    const finding = findingOfKind('slow_query');
    const page = await open(`#/findings/${encodeURIComponent(finding.id)}`);
    await page.setViewportSize({ width: 700, height: 500 });
    const row = page.locator('cp-findings-list a', { hasText: finding.title });
    await row.waitFor();
    await page.locator('cp-app').evaluate((shell: ShellElement) => {
      shell.refreshSeconds = 1;
      void shell.refresh();
    });
    await page.evaluate(() => window.scrollTo(0, 120));
    await row.evaluate((element: MarkedElement) => {
      element.marked = true;
    });
    const countBefore = await page.locator('cp-findings-list li').count();

    // A new finding with the smallest impact of all: it joins the end of the list.
    const reviews = nPlusOneTrace({
      route: '/products/:id',
      statement: (index) => `SELECT * FROM reviews WHERE product_id = ${index}`,
      repeats: 6,
      queryMs: 0.2,
    });
    await postTraces(collector.otlpUrl, exportRequest('shop', reviews));
    await collector.flush();
    await expect
      .poll(() => page.locator('cp-findings-list li').count(), { timeout: 10_000 })
      .toBe(countBefore + 1);

    expect(await row.evaluate((element: MarkedElement) => element.marked)).toBe(true);
    expect(await page.evaluate(() => window.scrollY)).toBe(120);
    expect(await page.locator('cp-finding-detail h2').textContent()).toBe(finding.title);
    findings = await apiFindings(collector);
  });

  it('follows the colour scheme, charts included', async () => {
    const finding = findingOfKind('slow_query');
    const page = await open(`#/findings/${encodeURIComponent(finding.id)}`);
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: 'light' });
    const light = await background();
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await background();
    expect(light).toBe('rgb(244, 246, 248)');
    expect(dark).toBe('rgb(17, 20, 24)');
    await expect.poll(() => drawnPixels(page.locator('cp-time-chart canvas'))).toBeGreaterThan(500);
    await expect.poll(() => drawnPixels(page.locator('cp-impact-chart canvas'))).toBeGreaterThan(100);
  });

  it('shows span text with markup as text in every view and never runs it', async () => {
    const service = encodeURIComponent(XSS_SERVICE);
    const page = await open(`#/findings?service=${service}`);
    const hostile = findings.filter((finding) => finding.service === XSS_SERVICE);
    expect(hostile.length).toBeGreaterThan(1);
    await page.locator('cp-findings-list li').first().waitFor();
    const shown: string[] = [];
    for (const finding of hostile) {
      await page.locator('cp-findings-list a', { hasText: finding.title }).click();
      await expect.poll(() => page.locator('cp-finding-detail h2').textContent()).toBe(finding.title);
      shown.push(await page.locator('cp-app').evaluate(deepText));
    }
    for (const view of LIST_VIEWS) {
      await page.goto(`${collector.dashboardUrl}/#/${view}?service=${service}`);
      await page.locator('cp-data-table tbody tr').first().waitFor();
      shown.push(await page.locator('cp-app').evaluate(deepText));
    }

    const text = shown.join('\n');
    expect(text).toContain(XSS_SCRIPT);
    expect(text).toContain(XSS_IMG);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('cp-app script').count()).toBe(0);
    expect(await page.evaluate(() => window.__xss)).toBeUndefined();
  });

  it('asks for the access token of a collector started with one, then shows its data', async () => {
    const guarded = await collectorServing(dashboardDir, join(workDir, 'guarded.db'), {
      token: 'browser-test-token',
    });
    try {
      const page = await open('', guarded, /status of 401/);
      const prompt = page.locator('cp-token-prompt');
      await prompt.locator('input').fill('not-the-token');
      await prompt.locator('button[type="submit"]').click();
      await expect
        .poll(() => prompt.locator('[role="alert"]').textContent())
        .toBe('That token was not accepted.');
      await prompt.locator('input').fill('browser-test-token');
      await prompt.locator('button[type="submit"]').click();
      await expect.poll(() => page.locator('cp-empty-state h2').textContent()).toBe('No findings yet');
      await page.close();
    } finally {
      await guarded.close();
    }
  });

  it('says when the collector is unreachable, keeps polling, and recovers once it is back', async () => {
    const db = join(workDir, 'restarted.db');
    const first = await collectorServing(dashboardDir, db);
    const port = Number(new URL(first.dashboardUrl).port);
    // Polls refused once it is gone, or cut off if one was in flight as it closed (before its
    // headers, or mid-body: a chunked answer ends incomplete).
    const page = await open(
      '',
      first,
      /ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|ERR_INCOMPLETE_CHUNKED_ENCODING/,
    );
    await expect.poll(() => page.locator('cp-empty-state h2').textContent()).toBe('No findings yet');
    await page.locator('cp-app').evaluate((shell: ShellElement) => {
      shell.refreshSeconds = 1;
      void shell.refresh();
    });

    await first.close();
    const alert = page.locator('cp-app [role="alert"]');
    await expect.poll(() => alert.textContent(), { timeout: 10_000 }).toContain('Cannot reach the collector');
    expect(await page.locator('cp-empty-state h2').textContent()).toBe('No findings yet');

    const again = await collectorServing(dashboardDir, db, { port });
    try {
      await expect.poll(() => alert.count(), { timeout: 10_000 }).toBe(0);
      await page.close();
    } finally {
      await again.close();
    }
  });

  it('explains how to attach the agent when the collector has seen nothing yet', async () => {
    const fresh = await collectorServing(dashboardDir, join(workDir, 'fresh.db'));
    try {
      const page = await open('', fresh);
      const empty = page.locator('cp-empty-state');
      await expect.poll(() => empty.locator('h2').textContent()).toBe('No findings yet');
      expect(await empty.locator('pre code').allTextContents()).toEqual([
        'npx chokepoint collector',
        'OTEL_SERVICE_NAME=my-api node --require chokepoint/agent server.js',
        'node --import chokepoint/agent server.mjs',
      ]);
      // Before the collector goes: a poll against a closed port would log a console error.
      await page.close();
    } finally {
      await fresh.close();
    }
  });
});

/**
 * A shop with one bottleneck of each kind, spread over the last minutes: a slow lookup, an N+1
 * loop, a cache whose entries expire before they are read again, an HTTP N+1, and a backed-up
 * queue; plus a healthy route and a lighter slow statement so the ranking has something to rank.
 */
function shopTraffic(now: number) {
  const spans = [];
  for (let minute = 0; minute < MINUTES; minute++) {
    const at = (offsetMs: number) => now - (minute + 1) * MINUTE + offsetMs;
    spans.push(
      ...[180, 260].flatMap((queryMs, index) =>
        slowQueryTrace({
          route: '/orders/:id',
          statement: `SELECT * FROM orders WHERE customer_id = ${100 + index} ORDER BY created_at DESC`,
          queryMs: queryMs + minute * 10,
          startMs: at(index * 1_000),
        }),
      ),
      ...nPlusOneTrace({
        route: '/orders',
        statement: (index) => `SELECT * FROM order_items WHERE order_id = ${index + 1}`,
        repeats: 8,
        queryMs: 4,
        startMs: at(3_000),
      }),
      ...Array.from({ length: 8 }, (_, index) =>
        cacheAsideTrace({
          route: '/products/:id',
          key: `product:${minute * 10 + index}`,
          hit: index % 5 === 0,
          statement: `SELECT * FROM products WHERE id = ${minute * 10 + index}`,
          queryMs: 15,
          startMs: at(5_000 + index * 200),
        }),
      ).flat(),
      ...httpFanOutTrace({
        route: '/cart',
        url: (index) => `http://users.internal:8080/users/${index + 1}`,
        repeats: 6,
        startMs: at(8_000),
      }),
      ...[1_200, 2_400].flatMap((lagMs, index) =>
        queueTrace({
          route: '/checkout',
          queue: 'orders',
          lagMs: lagMs + minute * 100,
          startMs: at(10_000 + index * 500),
        }),
      ),
      ...slowQueryTrace({ route: '/health', statement: 'SELECT 1', queryMs: 0.4, startMs: at(20_000) }),
    );
  }
  spans.push(
    ...slowQueryTrace({
      route: '/reports/daily',
      method: 'POST',
      statement: "UPDATE inventory SET reserved = reserved + 1 WHERE sku = 'A-1'",
      queryMs: 130,
      startMs: now - 2 * MINUTE,
    }),
  );
  return spans;
}

/** The shop's process, its event loop late by 25 ms a tick and more as the minutes go by. */
function busyShopLoop(now: number) {
  return Array.from({ length: MINUTES }, (_, minute) =>
    runtimeSample({
      service: 'shop',
      timeMs: now - (MINUTES - minute) * MINUTE + 30_000,
      eventLoopLag: {
        minMs: 10,
        meanMs: 38,
        p50Ms: 35,
        p90Ms: 60,
        p99Ms: 80 + minute * 10,
        maxMs: 90 + minute * 20,
      },
      memory: {
        rssBytes: 200 * 2 ** 20,
        heapUsedBytes: (60 + minute * 5) * 2 ** 20,
        heapTotalBytes: 120 * 2 ** 20,
        externalBytes: 2 ** 20,
      },
    }),
  );
}

/** Markup where span text lands in the dashboard: routes, statements, keys, queues, URLs. */
function hostileTraffic(now: number) {
  return [
    ...slowQueryTrace({
      route: `/search/${XSS_IMG}`,
      statement: `SELECT * FROM "${XSS_SCRIPT}" WHERE id = 1`,
      queryMs: 300,
      startMs: now - 2 * MINUTE,
    }),
    ...nPlusOneTrace({
      route: `/feed/${XSS_IMG}`,
      statement: (index) => `SELECT * FROM "${XSS_IMG}" WHERE id = ${index}`,
      repeats: 8,
      startMs: now - 2 * MINUTE,
    }),
    ...cacheAsideTrace({
      route: `/cache/${XSS_SCRIPT}`,
      key: `${XSS_IMG}:1`,
      hit: false,
      statement: 'SELECT 1',
      startMs: now - 2 * MINUTE,
    }),
    ...queueTrace({ route: '/publish', queue: XSS_SCRIPT, lagMs: 1_500, startMs: now - 2 * MINUTE }),
  ];
}

function sum(rows: Row[], field: string): number {
  return rows.reduce((total, row) => total + Number(row[field] ?? 0), 0);
}

/** Rows ordered as the table orders them: stable, rows without a value last. */
function sortedBy(rows: Row[], field: string, dir: 'asc' | 'desc'): Row[] {
  const sign = dir === 'asc' ? 1 : -1;
  return rows
    .map((row, index) => ({ row, index }))
    .sort((a, b) => {
      const [x, y] = [a.row[field], b.row[field]];
      if (x === null || y === null) return x === y ? a.index - b.index : x === null ? 1 : -1;
      return Number(x) - Number(y) === 0 ? a.index - b.index : sign * (Number(x) - Number(y));
    })
    .map(({ row }) => row);
}

/** The focused element, looking inside shadow roots, and whether its focus ring shows. */
function deepFocus(): { tagName: string; href: string; outlineStyle: string } {
  let element = document.activeElement;
  while (element?.shadowRoot?.activeElement) element = element.shadowRoot.activeElement;
  return {
    tagName: element?.tagName ?? '',
    href: element?.getAttribute('href') ?? '',
    outlineStyle: element ? getComputedStyle(element).outlineStyle : 'none',
  };
}
