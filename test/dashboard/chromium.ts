/**
 * What the dashboard's browser suites share: Debian's Chromium (never a downloaded build)
 * and its flags, the skip-or-fail rule when it is missing, and readers of what a page shows
 * (a measurement by its label, a canvas's drawn pixels, text through shadow roots).
 */
import { existsSync } from 'node:fs';
import type { Locator } from 'playwright-core';
import type { RunningCollector } from '../../collector/index.js';
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
