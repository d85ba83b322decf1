/**
 * The dashboard in Debian's Chromium against a real collector fed with OTLP JSON spans:
 * ranking, detail, chart, clipboard, deep links, live refresh, keyboard, colour schemes,
 * and untrusted span text rendered as text. Every page must log no console error.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCollector, startCollector } from '../../collector/index.js';
import type { Finding } from '../../model/finding.js';
import { exportRequest, nPlusOneTrace, postTraces, slowQueryTrace } from '../support/otlp-fixtures.js';

// Page-side callbacks run in Chromium, but this test project has Node's types only (no DOM lib, which
// would clash with Node's globals elsewhere): the little of the browser they touch is declared here.
interface PageNode {
  nodeType: number;
  textContent: string | null;
  shadowRoot?: PageNode | null;
  childNodes: ArrayLike<PageNode>;
}
interface PageElement {
  tagName: string;
  shadowRoot: { activeElement: PageElement | null } | null;
  getAttribute(name: string): string | null;
}
interface PageCanvas {
  width: number;
  height: number;
  getContext(
    type: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}
type MarkedElement = { marked?: boolean };
declare const document: { activeElement: PageElement | null; body: PageElement };
declare const window: { __xss?: number; scrollY: number; scrollTo(x: number, y: number): void };
declare const navigator: { clipboard: { readText(): Promise<string> } };
declare function getComputedStyle(element: PageElement): { outlineStyle: string; backgroundColor: string };

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];
// Screenshots refresh the README's pictures only when asked (`UPDATE_SCREENSHOTS=1 npm test`), so a
// plain test run leaves the work tree clean; otherwise they go to a temporary folder.
const DOCS = process.env.UPDATE_SCREENSHOTS
  ? join(__dirname, '..', '..', 'docs')
  : join(tmpdir(), `chokepoint-screenshots-${process.pid}`);
const XSS_IMG = '<img src=x onerror=window.__xss=1>';
const XSS_SCRIPT = '<script>window.__xss=1</script>';
const XSS_SERVICE = `evil${XSS_SCRIPT}`;

if (!existsSync(CHROMIUM)) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
  console.warn(`[chokepoint tests] skipping the dashboard browser tests: ${CHROMIUM} is missing`);
}

describe.skipIf(!existsSync(CHROMIUM))('dashboard in Chromium', () => {
  let workDir: string;
  let dashboardDir: string;
  let collector: RunningCollector;
  let browser: BrowserContext;
  let findings: Finding[];
  const pages: Array<{ page: Page; errors: string[] }> = [];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'chokepoint-dashboard-'));
    mkdirSync(DOCS, { recursive: true });
    dashboardDir = join(workDir, 'dashboard');
    const { buildDashboard } = await import('../../dashboard/build.mjs');
    await buildDashboard(dashboardDir);

    collector = await startCollector({
      otlpPort: 0,
      port: 0,
      db: join(workDir, 'collector.db'),
      dashboardDir,
      quiet: true,
    });
    await postTraces(collector.otlpUrl, exportRequest('shop', shopTraffic()));
    await postTraces(collector.otlpUrl, exportRequest(XSS_SERVICE, hostileTraffic()));
    await collector.flush();
    findings = await apiFindings(collector);

    browser = await chromium.launchPersistentContext(join(workDir, 'profile'), {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      viewport: { width: 1360, height: 860 },
      colorScheme: 'light',
      permissions: ['clipboard-read', 'clipboard-write'],
    });
  });

  afterEach(async () => {
    const opened = pages.splice(0);
    await Promise.all(opened.map(({ page }) => page.close()));
    expect(opened.flatMap(({ errors }) => errors)).toEqual([]);
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
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && !expectedErrors?.test(message.text())) errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    pages.push({ page, errors });
    await page.goto(`${target.dashboardUrl}/${hash}`);
    return page;
  }

  function shopFindings(): Finding[] {
    return findings.filter((finding) => finding.service === 'shop');
  }

  function findingOfKind(kind: Finding['kind']): Finding {
    const finding = shopFindings().find((candidate) => candidate.kind === kind);
    if (!finding) throw new Error(`the collector reported no ${kind} finding for shop`);
    return finding;
  }

  it('the collector found what the fixtures contain', () => {
    expect(shopFindings().map((finding) => finding.kind)).toEqual(
      expect.arrayContaining(['slow_query', 'n_plus_one']),
    );
  });

  it('lists the findings ranked by impact, with severity, kind, impact, status and times', async () => {
    const page = await open('#/findings?service=shop');
    const rows = page.locator('cp-findings-list li');
    await expect.poll(() => rows.count()).toBe(shopFindings().length);

    const titles = await page.locator('cp-findings-list .title').allTextContents();
    const byImpact = [...shopFindings()].sort((a, b) => b.impact - a.impact);
    expect(titles).toEqual(byImpact.map((finding) => finding.title));

    const impacts = (await page.locator('cp-findings-list .impact strong').allTextContents()).map(
      parseImpact,
    );
    expect(impacts).toEqual([...impacts].sort((a, b) => b - a));
    expect(impacts.every((impact) => impact > 0)).toBe(true);

    const first = rows.first();
    const top = byImpact[0] as Finding;
    await expect.poll(() => first.textContent()).toContain(top.severity);
    const text = (await first.textContent()) ?? '';
    expect(text).toMatch(/ms\/min/);
    expect(text).toContain(top.status);
    expect(text).toMatch(/first seen/);
    expect(text).toMatch(/last seen/);
    expect(text).toMatch(/Slow query|N\+1 queries/);

    await expect.poll(() => drawnPixels(page)).toBeGreaterThan(100);
    await page.screenshot({ path: join(DOCS, 'overview.png') });
  });

  it('opens a slow query: statement, percentiles with units, routes, trace id, fix and a drawn chart', async () => {
    const finding = findingOfKind('slow_query');
    const page = await open('#/findings?service=shop');
    await page.locator('cp-findings-list a', { hasText: finding.title }).click();

    expect(decodeURIComponent(new URL(page.url()).hash)).toBe(`#/findings/${finding.id}?service=shop`);
    const detail = page.locator('cp-finding-detail');
    await expect.poll(() => detail.locator('h2').textContent()).toBe(finding.title);
    const evidence = detail.locator('cp-finding-evidence');
    expect(await evidence.locator('pre code').textContent()).toBe(finding.evidence.fingerprint);
    for (const label of ['p50', 'p95', 'p99']) {
      const value = evidence.locator('div', { has: page.locator(`dt:text-is("${label}")`) }).locator('dd');
      expect(await value.textContent()).toMatch(/^\d+(\.\d+)? (ms|s)$/);
    }
    const routes = finding.evidence.routes as Array<{ route: string }>;
    expect(await evidence.locator('tbody td code').allTextContents()).toEqual(
      routes.map(({ route }) => route),
    );
    expect(await evidence.locator('.trace code').textContent()).toBe(finding.evidence.exampleTraceId);
    expect(await detail.locator('.summary').textContent()).toBe(finding.recommendation.summary);
    expect(await detail.locator('section[aria-labelledby="fix"] pre code').textContent()).toBe(
      finding.recommendation.code,
    );

    await expect.poll(() => drawnPixels(page)).toBeGreaterThan(100);
    // Tall enough for the whole detail, chart included, to show in the picture.
    await page.setViewportSize({ width: 1360, height: 1320 });
    await page.screenshot({ path: join(DOCS, 'finding.png') });
  });

  it('opens an N+1 finding with its repeats and affected requests', async () => {
    const finding = findingOfKind('n_plus_one');
    const page = await open(`#/findings/${encodeURIComponent(finding.id)}`);
    const evidence = page.locator('cp-finding-evidence');
    await expect.poll(() => evidence.locator('pre code').textContent()).toBe(finding.evidence.fingerprint);
    const measurement = (label: string) =>
      evidence
        .locator('div', { has: page.locator(`dt:text-is("${label}")`) })
        .locator('dd')
        .textContent();
    expect(await measurement('Runs per request (avg)')).toBe('8×');
    expect(await measurement('Requests affected')).toBe(String(finding.evidence.requests));
    expect(await measurement('Time in repeats per request')).toMatch(/^\d+(\.\d+)? ms$/);
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

  it('reopens the same view from a deep link after a reload', async () => {
    const finding = findingOfKind('n_plus_one');
    const page = await open(`#/findings/${encodeURIComponent(finding.id)}?service=shop`);
    await page.reload();
    await expect.poll(() => page.locator('cp-finding-detail h2').textContent()).toBe(finding.title);
    expect(await page.locator('cp-findings-list a[aria-current="true"] .title').textContent()).toBe(
      finding.title,
    );
    expect(await page.locator('select').first().inputValue()).toBe('shop');
    expect(await page.locator('cp-findings-list li').count()).toBe(shopFindings().length);
  });

  it('navigates by keyboard: Tab reaches a finding, Enter opens it, focus is visible', async () => {
    const page = await open('#/findings?service=shop');
    await page.locator('cp-findings-list li').first().waitFor();
    let focused = await page.evaluate(deepFocus);
    for (let presses = 0; presses < 20 && !focused.href.startsWith('#/findings/'); presses++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(deepFocus);
    }
    expect(focused).toMatchObject({ tagName: 'A', href: expect.stringMatching(/^#\/findings\/.+/) });
    expect(focused.outlineStyle).toBe('solid');

    await page.keyboard.press('Enter');
    const first = [...shopFindings()].sort((a, b) => b.impact - a.impact)[0] as Finding;
    await expect.poll(() => page.locator('cp-finding-detail h2').textContent()).toBe(first.title);
  });

  it('refreshes live without losing the open finding or the scroll position', async () => {
    const finding = findingOfKind('slow_query');
    const page = await open(`#/findings/${encodeURIComponent(finding.id)}`);
    await page.setViewportSize({ width: 700, height: 500 });
    const row = page.locator('cp-findings-list a', { hasText: finding.title });
    await row.waitFor();
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
      .poll(() => page.locator('cp-findings-list li').count(), { timeout: 15_000 })
      .toBe(countBefore + 1);

    expect(await row.evaluate((element: MarkedElement) => element.marked)).toBe(true);
    expect(await page.evaluate(() => window.scrollY)).toBe(120);
    expect(await page.locator('cp-finding-detail h2').textContent()).toBe(finding.title);
    findings = await apiFindings(collector);
  });

  it('follows the colour scheme', async () => {
    const finding = findingOfKind('slow_query');
    const page = await open(`#/findings/${encodeURIComponent(finding.id)}`);
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: 'light' });
    const light = await background();
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await background();
    expect(light).toBe('rgb(244, 246, 248)');
    expect(dark).toBe('rgb(17, 20, 24)');
    await expect.poll(() => drawnPixels(page)).toBeGreaterThan(100);
  });

  it('shows span text with markup as text and never runs it', async () => {
    const page = await open(`#/findings?service=${encodeURIComponent(XSS_SERVICE)}`);
    const hostile = findings.filter((finding) => finding.service === XSS_SERVICE);
    expect(hostile.length).toBeGreaterThan(0);
    await page.locator('cp-findings-list li').first().waitFor();
    for (const finding of hostile) {
      await page.locator('cp-findings-list a', { hasText: finding.title }).click();
      await expect.poll(() => page.locator('cp-finding-detail h2').textContent()).toBe(finding.title);
    }

    const shown = await page.locator('cp-app').evaluate(deepText);
    expect(shown).toContain(XSS_SCRIPT);
    expect(shown).toContain(XSS_IMG);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('cp-app script').count()).toBe(0);
    expect(await page.evaluate(() => window.__xss)).toBeUndefined();
  });

  it('says when the collector is unreachable, keeps polling, and recovers once it is back', async () => {
    const db = join(workDir, 'restarted.db');
    const first = await startCollector({ otlpPort: 0, port: 0, db, dashboardDir, quiet: true });
    const port = Number(new URL(first.dashboardUrl).port);
    const page = await open('', first, /ERR_CONNECTION_REFUSED/);
    await expect.poll(() => page.locator('cp-empty-state h2').textContent()).toBe('No findings yet');

    await first.close();
    const alert = page.locator('cp-app [role="alert"]');
    await expect.poll(() => alert.textContent(), { timeout: 15_000 }).toContain('Cannot reach the collector');
    expect(await page.locator('cp-empty-state h2').textContent()).toBe('No findings yet');

    const again = await startCollector({ otlpPort: 0, port, db, dashboardDir, quiet: true });
    try {
      await expect.poll(() => alert.count(), { timeout: 15_000 }).toBe(0);
      await page.close();
    } finally {
      await again.close();
    }
  });

  it('explains how to attach the agent when the collector has seen nothing yet', async () => {
    const fresh = await startCollector({
      otlpPort: 0,
      port: 0,
      db: join(workDir, 'fresh.db'),
      dashboardDir,
      quiet: true,
    });
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

/** A service with a slow lookup and an N+1 loop, plus a lighter query, so the ranking has something to rank. */
function shopTraffic() {
  return [
    ...[180, 220, 260].flatMap((queryMs, index) =>
      slowQueryTrace({
        route: '/orders/:id',
        statement: `SELECT * FROM orders WHERE customer_id = ${100 + index} ORDER BY created_at DESC`,
        queryMs,
      }),
    ),
    ...[1, 2, 3].flatMap(() =>
      nPlusOneTrace({
        route: '/orders',
        statement: (index) => `SELECT * FROM order_items WHERE order_id = ${index + 1}`,
        repeats: 8,
        queryMs: 4,
      }),
    ),
    ...slowQueryTrace({
      route: '/reports/daily',
      method: 'POST',
      statement: "UPDATE inventory SET reserved = reserved + 1 WHERE sku = 'A-1'",
      queryMs: 130,
    }),
  ];
}

/** Markup where span text lands in the dashboard: the route and an identifier in the statement. */
function hostileTraffic() {
  return [
    ...slowQueryTrace({
      route: `/search/${XSS_IMG}`,
      statement: `SELECT * FROM "${XSS_SCRIPT}" WHERE id = 1`,
      queryMs: 300,
    }),
    ...nPlusOneTrace({
      route: `/feed/${XSS_IMG}`,
      statement: (index) => `SELECT * FROM "${XSS_IMG}" WHERE id = ${index}`,
      repeats: 8,
    }),
  ];
}

async function apiFindings(target: RunningCollector): Promise<Finding[]> {
  const response = await fetch(`${target.dashboardUrl}/api/findings`);
  return ((await response.json()) as { findings: Finding[] }).findings;
}

/** `12,346 ms/min` → 12346 */
function parseImpact(text: string): number {
  return Number(text.replace(/[^\d.]/g, ''));
}

/** How many pixels of the impact chart's canvas are not transparent. */
function drawnPixels(page: Page): Promise<number> {
  return page.locator('cp-impact-chart canvas').evaluate((canvas: PageCanvas) => {
    const context = canvas.getContext('2d');
    if (!context || canvas.width === 0 || canvas.height === 0) return 0;
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let drawn = 0;
    for (let alpha = 3; alpha < data.length; alpha += 4) if ((data[alpha] ?? 0) > 0) drawn++;
    return drawn;
  });
}

/** Text of an element and of every shadow root below it (textContent stops at shadow boundaries). */
function deepText(root: PageNode): string {
  const parts: string[] = [];
  const walk = (node: PageNode) => {
    if (node.nodeType === 3) parts.push(node.textContent ?? '');
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of Array.from(node.childNodes)) walk(child);
  };
  walk(root);
  return parts.join('');
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
