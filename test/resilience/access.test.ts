/**
 * Access: by default the collector CLI binds both servers to 127.0.0.1 only. With `--token`
 * (or CHOKEPOINT_TOKEN) ingest (`/v1/*`) and the API (`/api/*`, `/metrics`) refuse requests
 * without `Authorization: Bearer <token>` — 401 and a one-line reason — while `/api/health`
 * and the dashboard's page stay open. The agent sends the token through the standard
 * `OTEL_EXPORTER_OTLP_HEADERS`, and the dashboard, in Chromium, asks for it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/index.js';
import type { Finding } from '../../model/index.js';
import {
  buildDashboardIn,
  CHROMIUM,
  CHROMIUM_ARGS,
  collectorServing,
  recordErrors,
} from '../dashboard/chromium.js';
import { killApps, ROOT, runWithAgent } from '../support/agent-process.js';
import { exportRequest, slowQueryTrace } from '../support/otlp-fixtures.js';
import { type CollectorProcess, killCollectorProcesses, startCollectorProcess } from './collector-process.js';

// The one browser global a page callback touches (the test project has Node's types only).
declare const localStorage: object;

const TOKEN = 'k3y-For_This.Test~42';
const CLI = join(ROOT, 'dist', 'cli', 'main.js');

const workDir = mkdtempSync(join(tmpdir(), 'chokepoint-access-'));

afterAll(() => {
  killApps();
  killCollectorProcesses();
  rmSync(workDir, { recursive: true, force: true });
});

function bearer(token = TOKEN): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** A 401 with a one-line reason, as the guard answers. */
async function expectRefused(response: Response): Promise<void> {
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toBe('Bearer realm="chokepoint"');
  const { error } = (await response.json()) as { error: string };
  expect(error).toMatch(/^(missing Authorization header|invalid bearer token)/);
  expect(error).not.toContain('\n');
  expect(error).not.toContain(TOKEN);
}

function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

async function spansReceived(collector: { dashboardUrl: string }): Promise<number> {
  const metrics = await (await fetch(`${collector.dashboardUrl}/metrics`, { headers: bearer() })).text();
  return Number(/^chokepoint_collector_spans_received_total (\d+)/m.exec(metrics)?.[1] ?? 0);
}

/** Resolves true when something accepts TCP connections at host:port. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('binding', () => {
  it('binds both servers to 127.0.0.1 when no host is given', async () => {
    const collector = await startCollectorProcess({ db: join(workDir, 'binding.db') });
    const ports = [collector.otlpUrl, collector.dashboardUrl].map((url) => {
      expect(new URL(url).hostname).toBe('127.0.0.1');
      return Number(new URL(url).port);
    });
    for (const port of ports) expect(await accepts('127.0.0.1', port)).toBe(true);
    // Every other address of this machine is refused.
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((address) => address && !address.internal && address.family === 'IPv4')
      .map((address) => address?.address as string);
    for (const address of external) {
      for (const port of ports) expect(await accepts(address, port), `${address}:${port}`).toBe(false);
    }
    collector.child.kill('SIGTERM');
    await collector.exited;
  });
});

describe('--token and CHOKEPOINT_TOKEN', () => {
  const started: CollectorProcess[] = [];

  beforeAll(async () => {
    started.push(await startCollectorProcess({ db: join(workDir, 'flag.db'), args: ['--token', TOKEN] }));
    started.push(
      await startCollectorProcess({ db: join(workDir, 'env.db'), env: { CHOKEPOINT_TOKEN: TOKEN } }),
    );
  });

  it.each([
    ['the flag', 0],
    ['the environment variable', 1],
  ])('with %s, ingest and the API need the token; health and the page do not', async (_how, index) => {
    const collector = started[index] as CollectorProcess;
    const traces = exportRequest(
      'guarded',
      slowQueryTrace({ route: '/a', statement: 'SELECT * FROM guarded WHERE id = 1', queryMs: 120 }),
    );
    const traceUrl = `${collector.otlpUrl}/v1/traces`;
    await expectRefused(await postJson(traceUrl, traces));
    await expectRefused(await postJson(traceUrl, traces, bearer('k3y-For_This.Test~43')));
    await expectRefused(await postJson(`${collector.otlpUrl}/v1/runtime`, { samples: [] }));
    expect(await spansReceived(collector)).toBe(0);
    expect((await postJson(traceUrl, traces, bearer())).status).toBe(200);
    expect(await spansReceived(collector)).toBe(2);

    for (const path of ['/api/findings', '/api/services', '/api/meta', '/metrics']) {
      await expectRefused(await fetch(collector.dashboardUrl + path));
      await expectRefused(await fetch(collector.dashboardUrl + path, { headers: bearer(`${TOKEN}x`) }));
      expect((await fetch(collector.dashboardUrl + path, { headers: bearer() })).status, path).toBe(200);
    }
    expect(await (await fetch(`${collector.dashboardUrl}/api/health`)).json()).toEqual({ status: 'ok' });
    const page = await fetch(`${collector.dashboardUrl}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<cp-app>');

    const metrics = await (await fetch(`${collector.dashboardUrl}/metrics`, { headers: bearer() })).text();
    expect(metrics).toContain('chokepoint_collector_requests_rejected_total{reason="401"} 3');
  });

  it('refuses an empty token or one with spaces at start, without repeating it', () => {
    for (const token of ['', 'two words']) {
      const run = spawnSync(process.execPath, [CLI, 'collector', '--token', token, '--port', '0'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 10_000,
      });
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('--token is not valid: expected printable ASCII without spaces');
      if (token) expect(run.stderr).not.toContain(token);
    }
  });

  it('takes spans from the agent when OTEL_EXPORTER_OTLP_HEADERS carries the token, and only then', async () => {
    const collector = started[0] as CollectorProcess;
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpUrl, OTEL_BSP_SCHEDULE_DELAY: '100' };
    const withToken = runWithAgent('test/agent/fixtures/http-app.js', {
      env: {
        ...env,
        OTEL_SERVICE_NAME: 'with-token',
        OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer%20${encodeURIComponent(TOKEN)}`,
      },
    });
    const withoutToken = runWithAgent('test/agent/fixtures/http-app.js', {
      env: { ...env, OTEL_SERVICE_NAME: 'without-token' },
    });
    for (const app of [withToken, withoutToken]) {
      const [, port] = await app.waitForStdout(/listening on (\d+)/);
      for (let i = 0; i < 3; i++) expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    }
    await expect
      .poll(() => withoutToken.agentLines().join('\n'), { timeout: 10_000 })
      .toMatch(/cannot export spans: HTTP 401/);
    const services = async () => {
      const response = await fetch(`${collector.dashboardUrl}/api/services`, { headers: bearer() });
      return ((await response.json()) as { services: string[] }).services;
    };
    await expect.poll(services, { timeout: 10_000 }).toContain('with-token');
    expect(await services()).not.toContain('without-token');
    expect(withToken.agentLines().filter((line) => line.includes('span(s) dropped'))).toEqual([]);
  });
});

describe.skipIf(!existsSync(CHROMIUM))('the dashboard of a collector with a token, in Chromium', () => {
  let collector: RunningCollector;
  let browser: Browser;
  let finding: Finding;
  const consoleErrors: string[] = [];
  const sentTokens: Array<string | undefined> = [];

  beforeAll(async () => {
    collector = await collectorServing(await buildDashboardIn(workDir), join(workDir, 'browser.db'), {
      token: TOKEN,
    });
    const traffic = Array.from({ length: 5 }, () =>
      slowQueryTrace({ route: '/reports', statement: 'SELECT * FROM reports WHERE owner = 7', queryMs: 150 }),
    ).flat();
    expect(
      (await postJson(`${collector.otlpUrl}/v1/traces`, exportRequest('shop', traffic), bearer())).status,
    ).toBe(200);
    await collector.flush();
    const response = await fetch(`${collector.dashboardUrl}/api/findings`, { headers: bearer() });
    finding = ((await response.json()) as { findings: Finding[] }).findings[0] as Finding;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await collector?.close();
  });

  async function open(page: Page): Promise<void> {
    // Chromium logs every refused request; those 401s are the point here.
    recordErrors(page, /401 \(Unauthorized\)/, consoleErrors);
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/api/'))
        sentTokens.push(request.headers().authorization);
    });
    await page.goto(`${collector.dashboardUrl}/`);
  }

  it('asks for the token, says when it is wrong, then shows the findings and keeps it for the tab', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await open(page);
    const prompt = page.locator('cp-token-prompt');
    await expect
      .poll(() => prompt.locator('h2').textContent())
      .toBe('This collector asks for an access token');
    expect(await page.locator('cp-findings-list').count()).toBe(0);

    await prompt.locator('input').fill('not-the-token');
    await prompt.locator('button[type="submit"]').click();
    await expect
      .poll(() => prompt.locator('[role="alert"]').textContent())
      .toBe('That token was not accepted.');

    await prompt.locator('input').fill(TOKEN);
    await prompt.locator('button[type="submit"]').click();
    await expect
      .poll(() => page.locator('cp-findings-list .title').allTextContents())
      .toContain(finding.title);
    expect(await prompt.count()).toBe(0);
    expect(sentTokens).toContain(`Bearer ${TOKEN}`);
    expect(sentTokens).toContain('Bearer not-the-token');

    // Kept in sessionStorage: a reload needs no prompt, the token never lands in the URL or cookies.
    await page.reload();
    await expect
      .poll(() => page.locator('cp-findings-list .title').allTextContents())
      .toContain(finding.title);
    expect(await page.locator('cp-token-prompt').count()).toBe(0);
    expect(page.url()).not.toContain(TOKEN);
    expect(await context.cookies()).toEqual([]);
    expect(await page.evaluate(() => JSON.stringify(localStorage))).toBe('{}');

    // Another tab has its own sessionStorage: it asks again.
    const other = await context.newPage();
    await open(other);
    await expect.poll(() => other.locator('cp-token-prompt h2').count()).toBe(1);
    await context.close();
    expect(consoleErrors).toEqual([]);
  });
});
