/**
 * What the dashboard's browser suites share: Debian's Chromium (never a downloaded build)
 * and its flags, the skip-or-fail rule when it is missing, a collector serving a freshly
 * built dashboard, pages that record what they log, and readers of what a page shows (a
 * measurement by its label, a canvas's drawn pixels, text through shadow roots).
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { type CollectorOptions, type RunningCollector, startCollector } from '../../collector/index.js';
import type { Finding } from '../../model/finding.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/**
 * Whether Chromium is there; without it a suite is skipped with a line saying so, and under
 * CI=true the run fails instead.
 *
 * @example
 * describe.skipIf(!hasChromium('the dashboard browser tests'))('dashboard in Chromium', () => { … });
 */
export function hasChromium(suite: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
  console.warn(`[chokepoint tests] skipping ${suite}: ${CHROMIUM} is missing`);
  return false;
}

// Screenshots refresh the README's pictures only when asked (`UPDATE_SCREENSHOTS=1 npm test`), so a
// plain test run leaves the work tree clean; otherwise they go to a temporary folder.
export const DOCS = process.env.UPDATE_SCREENSHOTS
  ? join(__dirname, '..', '..', 'docs')
  : join(tmpdir(), `chokepoint-screenshots-${process.pid}`);

/** Builds the dashboard into `workDir/dashboard`: the folder a collector serves it from. */
export async function buildDashboardIn(workDir: string): Promise<string> {
  const dashboardDir = join(workDir, 'dashboard');
  const { buildDashboard } = await import('../../dashboard/build.mjs');
  await buildDashboard(dashboardDir);
  return dashboardDir;
}

/**
 * A quiet collector on free ports serving the dashboard built in `dashboardDir`.
 *
 * @example
 * const guarded = await collectorServing(dashboardDir, join(workDir, 'guarded.db'), { token: 'secret' });
 */
export function collectorServing(
  dashboardDir: string,
  db: string,
  options: Partial<CollectorOptions> = {},
): Promise<RunningCollector> {
  return startCollector({ otlpPort: 0, port: 0, db, dashboardDir, quiet: true, ...options });
}

/** Chromium with its profile in `workDir`, in the light colour scheme unless `options` say otherwise. */
export function launchChromium(
  workDir: string,
  options: Parameters<typeof chromium.launchPersistentContext>[1] = {},
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(join(workDir, 'profile'), {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    colorScheme: 'light',
    ...options,
  });
}

/** A page a test opened and what it logged. */
export interface OpenPage {
  page: Page;
  errors: string[];
}

/**
 * Records a page's console errors (but those matching `expected`) and uncaught exceptions,
 * into `errors`, which it returns.
 *
 * @example
 * pages.push({ page, errors: recordErrors(page, /status of 401/) });
 */
export function recordErrors(page: Page, expected?: RegExp, errors: string[] = []): string[] {
  page.on('console', (message) => {
    if (message.type() === 'error' && !expected?.test(message.text())) errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

/**
 * Closes the pages a test opened, emptying `pages`; what they logged.
 *
 * @example
 * afterEach(async () => expect(await closePages(pages)).toEqual([]));
 */
export async function closePages(pages: OpenPage[]): Promise<string[]> {
  const opened = pages.splice(0);
  await Promise.all(opened.map(({ page }) => page.close()));
  return opened.flatMap(({ errors }) => errors);
}

// Page-side callbacks run in Chromium, but this test project has Node's types only (no DOM lib, which
// would clash with Node's globals elsewhere): the little of the browser they touch is declared here.
export interface PageNode {
  nodeType: number;
  textContent: string | null;
  shadowRoot?: PageNode | null;
  childNodes: ArrayLike<PageNode>;
}
interface PageCanvas {
  width: number;
  height: number;
  getContext(
    type: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}

export async function apiFindings(target: RunningCollector): Promise<Finding[]> {
  const response = await fetch(`${target.dashboardUrl}/api/findings`);
  return ((await response.json()) as { findings: Finding[] }).findings;
}

/** The finding of `kind` the collector reported for `service`; a test without it cannot run. */
export function findingOf(findings: Finding[], kind: Finding['kind'], service: string): Finding {
  const finding = findings.find((candidate) => candidate.service === service && candidate.kind === kind);
  if (!finding) throw new Error(`the collector reported no ${kind} finding for ${service}`);
  return finding;
}

/** The measurement labelled `label` in a finding's evidence. */
export function measurement(evidence: Locator, label: string): Promise<string | null> {
  return evidence
    .locator('div', { has: evidence.page().locator(`dt:text-is("${label}")`) })
    .locator('dd')
    .textContent();
}

/** The dashboard's duration format, for values the test reads from the API. */
export function formatMs(ms: number): string {
  if (ms === 0) return '0 ms';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** `12,346 ms/min` → 12346 */
export function parseNumber(text: string): number {
  return Number(text.replace(/[^\d.]/g, ''));
}

/** How many pixels of a canvas are not transparent. */
export function drawnPixels(canvas: Locator): Promise<number> {
  return canvas.evaluate((element: PageCanvas) => {
    const context = element.getContext('2d');
    if (!context || element.width === 0 || element.height === 0) return 0;
    const { data } = context.getImageData(0, 0, element.width, element.height);
    let drawn = 0;
    for (let alpha = 3; alpha < data.length; alpha += 4) if ((data[alpha] ?? 0) > 0) drawn++;
    return drawn;
  });
}

/** Text of an element and of every shadow root below it (textContent stops at shadow boundaries). */
export function deepText(root: PageNode): string {
  const parts: string[] = [];
  const walk = (node: PageNode) => {
    if (node.nodeType === 3) parts.push(node.textContent ?? '');
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of Array.from(node.childNodes)) walk(child);
  };
  walk(root);
  return parts.join('');
}
