/**
 * The example shop under the built agent, exporting to a real collector: its planted slow
 * query and N+1 become findings, its healthy endpoints do not, and no customer email is
 * stored. Then the demo, which runs all of it, end to end and stopped by SIGINT.
 * Run `npx tsc -p tsconfig.json` first: the shop's agent and the Ctrl-C test run from dist/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../cli/demo.js';
import { type RunningCollector, startCollector } from '../../collector/index.js';
import type { Finding } from '../../model/index.js';
import { describeWithServices } from '../support/services.js';

const ROOT = join(__dirname, '..', '..');
const AGENT = join(ROOT, 'dist', 'agent', 'register.js');
const SHOP = join(ROOT, 'examples', 'shop', 'server.js');

interface LoadReport {
  requests: number;
  errors: number;
  endpoints: Record<string, { requests: number; errors: number; lastError?: string }>;
}
const { runLoad } = createRequire(join(ROOT, 'package.json'))('./examples/shop/load.js') as {
  runLoad(options: { url: string; durationMs: number; rps?: number }): Promise<LoadReport>;
};

/** Nothing listens on port 1: the shop must find these services unreachable. */
const UNREACHABLE = {
  SHOP_POSTGRES_URL: 'postgres://postgres@127.0.0.1:1/test',
  SHOP_REDIS_URL: 'redis://127.0.0.1:1',
};

interface Shop {
  url: string;
  lines: string[];
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

async function startShop(otlpUrl: string, env: Record<string, string>): Promise<Shop> {
  const child: ChildProcess = spawn(process.execPath, ['--require', AGENT, SHOP], {
    cwd: ROOT,
    env: {
      ...process.env,
      OTEL_SERVICE_NAME: 'shop',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
      OTEL_BSP_SCHEDULE_DELAY: '200',
      PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const onLine = (line: string) => {
      lines.push(line);
      const match = /^shop listening on (http:\/\/\S+)$/.exec(line);
      if (match?.[1]) resolve(match[1]);
    };
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', onLine);
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', onLine);
    void exited.then((code) => reject(new Error(`shop exited with ${code}:\n${lines.join('\n')}`)));
  });
  return {
    url,
    lines,
    stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function listFindings(collector: RunningCollector): Promise<Finding[]> {
  const response = await fetch(`${collector.dashboardUrl}/api/findings`);
  return ((await response.json()) as { findings: Finding[] }).findings;
}

/** Flushes the collector until findings of every kind in `kinds` are there, or 20 s have passed. */
async function waitForFindings(collector: RunningCollector, kinds: string[]): Promise<Finding[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    await collector.flush();
    const findings = await listFindings(collector);
    const found = new Set(findings.map((finding) => finding.kind));
    if (kinds.every((kind) => found.has(kind as Finding['kind'])) || Date.now() > deadline) return findings;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const evidenceOf = (finding: Finding) =>
  finding.evidence as { fingerprint?: string; tables?: string[]; routes?: Array<{ route: string }> };

/** Planted (a): the top-products query filtering orders on the unindexed customer_email. */
const isPlantedSlowQuery = (finding: Finding) =>
  finding.kind === 'slow_query' && /customer_email\s*=\s*\?/.test(evidenceOf(finding).fingerprint ?? '');

/** Planted (b): one items query per recent order. */
const isPlantedNPlusOne = (finding: Finding) =>
  finding.kind === 'n_plus_one' &&
  /order_items .*where oi\.order_id = \?/i.test(evidenceOf(finding).fingerprint ?? '');

/** Every email-shaped string in `text` (JSON: strings end at quotes). */
const emailsIn = (text: string) => text.match(/[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}/gi) ?? [];

describe('shop on SQLite alone, under the agent', () => {
  let dir: string;
  let collector: RunningCollector;
  let shop: Shop;
  let report: LoadReport;
  let findings: Finding[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chokepoint-shop-test-'));
    collector = await startCollector({ port: 0, otlpPort: 0, db: join(dir, 'collector.db'), quiet: true });
    shop = await startShop(collector.otlpUrl, { ...UNREACHABLE, SHOP_DB: join(dir, 'shop.db') });
    report = await runLoad({ url: shop.url, durationMs: 6000, rps: 30 });
    findings = await waitForFindings(collector, ['slow_query', 'n_plus_one']);
  });

  afterAll(async () => {
    await shop?.stop();
    await collector?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts without Postgres and Redis, saying so once for each', async () => {
    expect(
      shop.lines.filter((line) => line.startsWith('postgres not reachable at 127.0.0.1:1')),
    ).toHaveLength(1);
    expect(shop.lines.filter((line) => line.startsWith('redis not reachable at 127.0.0.1:1'))).toHaveLength(
      1,
    );
    const health = await (await fetch(`${shop.url}/health`)).json();
    expect(health).toEqual({ status: 'ok', postgres: false, redis: false });
    const product = await (await fetch(`${shop.url}/products/42`)).json();
    expect(product).toMatchObject({ id: 42, sku: 'SKU-00042', servedBy: 'sqlite' });
  });

  it('answers every endpoint of the load mix without an error', () => {
    expect(report.errors, JSON.stringify(report.endpoints)).toBe(0);
    for (const [name, stats] of Object.entries(report.endpoints)) {
      expect(stats.requests, name).toBeGreaterThan(0);
    }
  });

  it('reports the planted unindexed query as a slow_query with a fix', () => {
    const slow = findings.find(isPlantedSlowQuery);
    expect(slow, JSON.stringify(findings, null, 2)).toBeDefined();
    expect(slow?.service).toBe('shop');
    expect(slow?.evidence).toMatchObject({ system: 'sqlite', statementType: 'select' });
    expect(evidenceOf(slow as Finding).tables).toContain('orders');
    expect(slow?.evidence.p95Ms).toBeGreaterThanOrEqual(100);
    expect(evidenceOf(slow as Finding).routes?.map((r) => r.route)).toEqual([
      expect.stringContaining('/customers/top-products'),
    ]);
    expect(slow?.recommendation.summary).not.toBe('');
  });

  it('reports the planted per-order items lookup as an n_plus_one with a fix', () => {
    const nPlusOne = findings.find(isPlantedNPlusOne);
    expect(nPlusOne, JSON.stringify(findings, null, 2)).toBeDefined();
    // listRecentOrders asks for 20 orders, then runs the items query once for each.
    expect(nPlusOne?.evidence).toMatchObject({ system: 'sqlite', maxRepeats: 20 });
    expect(nPlusOne?.evidence.avgRepeats).toBeGreaterThanOrEqual(10);
    expect(evidenceOf(nPlusOne as Finding).routes?.map((r) => r.route)).toEqual([
      expect.stringContaining('/orders/recent'),
    ]);
    expect(nPlusOne?.recommendation.summary).not.toBe('');
  });

  it('reports nothing on the healthy endpoints', () => {
    expect(report.endpoints.customer?.requests).toBeGreaterThan(0);
    expect(report.endpoints.order?.requests).toBeGreaterThan(0);
    const routes = findings.flatMap((finding) => (evidenceOf(finding).routes ?? []).map((r) => r.route));
    expect(routes.filter((route) => !/\/customers\/top-products|\/orders\/recent/.test(route))).toEqual([]);
    const healthyLookups = findings.filter((finding) =>
      /from (customers|orders|products) where id = \?/i.test(evidenceOf(finding).fingerprint ?? ''),
    );
    expect(healthyLookups).toEqual([]);
  });

  it('keeps every customer email out of the API and the collector database', async () => {
    const shopDb = new Database(join(dir, 'shop.db'), { readonly: true });
    const seeded = (shopDb.prepare('SELECT email FROM customers').all() as Array<{ email: string }>).map(
      (row) => row.email,
    );
    shopDb.close();
    // Every seeded email has this domain, so finding the domain nowhere proves no email is stored.
    expect(seeded).toHaveLength(20_000);
    expect(seeded.filter((email) => !email.endsWith('@example.com'))).toEqual([]);
    expect(report.endpoints['top-products']?.requests).toBeGreaterThan(0);

    const details = await Promise.all(
      findings.map(async (finding) =>
        (await fetch(`${collector.dashboardUrl}/api/findings/${finding.id}`)).text(),
      ),
    );
    const api = JSON.stringify(await listFindings(collector)) + details.join('');
    // SQLite keeps recent writes in the WAL: read every file of the database.
    const stored = readdirSync(dir)
      .filter((name) => name.startsWith('collector.db'))
      .map((name) => readFileSync(join(dir, name)).toString('latin1'))
      .join('');
    expect(stored).toContain('customer_email');
    expect(emailsIn(api)).toEqual([]);
    expect(api).not.toContain('@example.com');
    expect(stored).not.toContain('@example.com');
  });
});

await describeWithServices(['postgres', 'redis'], 'shop with its Postgres catalogue behind Redis', () => {
  let dir: string;
  let collector: RunningCollector;
  let shop: Shop;
  let redis: Redis;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chokepoint-shop-test-'));
    collector = await startCollector({ port: 0, otlpPort: 0, db: join(dir, 'collector.db'), quiet: true });
    shop = await startShop(collector.otlpUrl, { SHOP_DB: join(dir, 'shop.db') });
    redis = new Redis('redis://127.0.0.1:6379');
  });

  afterAll(async () => {
    await redis?.quit();
    await shop?.stop();
    await collector?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects to both, without a warning', async () => {
    expect(shop.lines.filter((line) => line.includes('not reachable'))).toEqual([]);
    expect(await (await fetch(`${shop.url}/health`)).json()).toEqual({
      status: 'ok',
      postgres: true,
      redis: true,
    });
  });

  it('reads a product from Postgres on a miss, then from Redis, under a short TTL', async () => {
    await redis.del('product:1234');
    const first = (await (await fetch(`${shop.url}/products/1234`)).json()) as Record<string, unknown>;
    const second = await (await fetch(`${shop.url}/products/1234`)).json();
    expect(first).toMatchObject({ id: 1234, sku: 'SKU-01234', servedBy: 'postgres' });
    expect(second).toEqual({ ...first, servedBy: 'redis' });
    const ttl = await redis.ttl('product:1234');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5);
  });

  it('serves the whole load mix and stores neither cache keys nor cached values raw', async () => {
    const report = await runLoad({ url: shop.url, durationMs: 3000, rps: 30 });
    expect(report.errors, JSON.stringify(report.endpoints)).toBe(0);
    expect(report.endpoints.product?.requests).toBeGreaterThan(0);
    await shop.stop();
    await collector.flush();
    const stored = readdirSync(dir)
      .filter((name) => name.startsWith('collector.db'))
      .map((name) => readFileSync(join(dir, name)).toString('latin1'))
      .join('');
    expect(stored).toContain('shop_products');
    expect(stored).not.toMatch(/product:\d/);
    expect(stored).not.toContain('SKU-01234');
  });
});

describe('chokepoint demo', () => {
  const pidOf = (output: string) => Number(/shop\s+started \(pid (\d+)\)/.exec(output)?.[1]);
  const isAlive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it('runs collector, shop and load, prints the dashboard and the findings, and leaves no process', async () => {
    const output = new PassThrough();
    let text = '';
    output.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    await runDemo({ port: 0, otlpPort: 0, durationMs: 8000, output });

    expect(text).toMatch(/Dashboard: http:\/\/127\.0\.0\.1:\d+/);
    expect(text).toMatch(/^finding {4}slow_query \[\w+\] /m);
    expect(text).toMatch(/^finding {4}n_plus_one \[\w+\] /m);
    expect(text).toMatch(/^ {11}fix: \S/m);
    const pid = pidOf(text);
    expect(pid).toBeGreaterThan(0);
    expect(isAlive(pid)).toBe(false);
  }, 60_000);

  it('stops everything on SIGINT', async () => {
    const demo = spawn(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(join(ROOT, 'dist', 'cli', 'demo.js'))}).runDemo({ port: 0, otlpPort: 0 })`,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let text = '';
    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      demo.stdout?.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('Dashboard: ')) resolve();
      });
      demo.stderr?.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      void exited.then((code) => reject(new Error(`demo exited with ${code} before serving:\n${text}`)));
    });
    const pid = pidOf(text);
    expect(isAlive(pid)).toBe(true);

    demo.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(text).toContain('SIGINT: stopping');
    expect(isAlive(pid)).toBe(false);
  }, 60_000);
});
