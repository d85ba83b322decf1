/**
 * What a newcomer sees: `chokepoint demo` (the built CLI, as `npm run demo` runs it) in
 * Chromium. The overview lists the shop's planted bottlenecks — the slow query, the N+1
 * loop, the cache that expires too soon — ranked by impact; each opens with its proof and
 * its fix, and the fix copies. Run `npm run build` first: the demo serves dist/dashboard.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../model/finding.js';
import { describeWithServices } from '../support/services.js';
import { hasChromium, launchChromium, recordErrors } from './chromium.js';

declare const navigator: { clipboard: { readText(): Promise<string> } };

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const BUNDLE = join(ROOT, 'dist', 'dashboard', 'assets', 'app.js');
/** The shop's planted bottlenecks (examples/shop/handlers.js, PLANTED a–c), as the overview names their kinds. */
const PLANTED = [
  { kind: 'slow_query', label: 'Slow query', title: /^Slow SELECT on orders, order_items, products/ },
  {
    kind: 'n_plus_one',
    label: 'N+1 queries',
    title: /^N\+1: SELECT on order_items, products runs 20× per request/,
  },
  { kind: 'cache_hit_ratio', label: 'Cache hit ratio', title: /^Cache product:\{id\}: \d+% hits/ },
] as const;

/** The newest source file under `dir`, to tell a stale bundle from a fresh one. */
function newestSource(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
      entry.isDirectory() ? newestSource(join(dir, entry.name)) : statSync(join(dir, entry.name)).mtimeMs,
    ),
  );
}

if (!hasChromium('the demo browser test')) {
  describe.skip('the demo in Chromium (skipped: no Chromium)', () => {});
} else
  await describeWithServices(['postgres', 'redis'], 'the demo in Chromium', () => {
    let demo: ChildProcess;
    let dashboardUrl: string;
    let browser: BrowserContext;
    let page: Page;
    let workDir: string;
    const output: string[] = [];
    const errors: string[] = [];

    beforeAll(async () => {
      if (
        !existsSync(CLI) ||
        !existsSync(BUNDLE) ||
        statSync(BUNDLE).mtimeMs < newestSource(join(ROOT, 'dashboard', 'src'))
      ) {
        throw new Error('dist/ is missing or older than dashboard/src: run `npm run build` first');
      }
      workDir = mkdtempSync(join(tmpdir(), 'chokepoint-demo-browser-'));
      demo = spawn(process.execPath, [CLI, 'demo', '--port', '0', '--otlp-port', '0'], {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      dashboardUrl = await new Promise<string>((resolve, reject) => {
        const onLine = (line: string) => {
          output.push(line);
          const url = /Dashboard: (http:\/\/\S+)/.exec(line)?.[1];
          if (url) resolve(url);
        };
        createInterface({ input: demo.stdout as NodeJS.ReadableStream }).on('line', onLine);
        createInterface({ input: demo.stderr as NodeJS.ReadableStream }).on('line', (line) =>
          output.push(line),
        );
        demo.once('exit', (code) =>
          reject(new Error(`the demo exited (${code}) early:\n${output.join('\n')}`)),
        );
      });
      browser = await launchChromium(workDir, {
        viewport: { width: 1360, height: 900 },
        permissions: ['clipboard-read', 'clipboard-write'],
      });
      page = await browser.newPage();
      recordErrors(page, undefined, errors);
    }, 60_000);

    afterAll(async () => {
      await page?.close();
      await browser?.close();
      if (demo && demo.exitCode === null) {
        const exited = new Promise((resolve) => demo.once('exit', resolve));
        demo.kill('SIGINT');
        await exited;
      }
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    it('lands on the overview with the planted bottlenecks ranked by impact', async () => {
      await page.goto(dashboardUrl);
      const kinds = () => page.locator('cp-findings-list .tags > span:nth-child(2)').allTextContents();
      await expect
        .poll(kinds, { timeout: 40_000, interval: 1_000 })
        .toEqual(expect.arrayContaining(PLANTED.map(({ label }) => label)));
      expect(await page.locator('nav a[aria-current="page"]').textContent()).toBe('Overview');

      const impacts = (await page.locator('cp-findings-list .impact strong').allTextContents()).map((text) =>
        Number(text.replace(/[^\d.]/g, '')),
      );
      expect(impacts).toEqual([...impacts].sort((a, b) => b - a));
      const titles = await page.locator('cp-findings-list .title').allTextContents();
      for (const { title } of PLANTED) expect(titles.some((text) => title.test(text))).toBe(true);
      expect(await page.locator('cp-headline-tiles [data-tile="requests"] .value').textContent()).toMatch(
        /\/min$/,
      );
    });

    it('opens each planted bottleneck with its chart and copies its fix', async () => {
      for (const { title } of PLANTED) {
        await page
          .locator('cp-findings-list a', { has: page.locator('.title', { hasText: title }) })
          .first()
          .click();
        const detail = page.locator('cp-finding-detail');
        await expect.poll(() => detail.locator('h2').textContent()).toMatch(title);
        const id = decodeURIComponent(/#\/findings\/([^?]+)/.exec(page.url())?.[1] ?? '');
        const { finding } = (await (
          await fetch(`${dashboardUrl}/api/findings/${encodeURIComponent(id)}`)
        ).json()) as {
          finding: Finding;
        };
        expect(await detail.locator('section[aria-labelledby="fix"] .summary').textContent()).toBe(
          finding.recommendation.summary,
        );
        await expect.poll(() => detail.locator('cp-time-chart canvas').count(), { timeout: 10_000 }).toBe(1);

        const copy = detail.locator('.code-head button');
        await copy.click();
        await expect.poll(() => copy.textContent()).toBe('Copied');
        expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(finding.recommendation.code);
      }
      expect(errors).toEqual([]);
    });
  });
