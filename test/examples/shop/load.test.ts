/**
 * The shop's load generator against a real HTTP server on an ephemeral port: it sends exactly
 * its budget, reports failures per endpoint, stops on abort, and refuses non-loopback targets.
 */
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

interface LoadReport {
  durationMs: number;
  requests: number;
  errors: number;
  skipped: number;
  endpoints: Record<string, { requests: number; errors: number; lastError?: string }>;
}

const load = createRequire(join(__dirname, '..', '..', '..', 'package.json'))('./examples/shop/load.js') as {
  runLoad(options: {
    url: string;
    durationMs: number;
    rps?: number;
    maxInFlight?: number;
    signal?: AbortSignal;
  }): Promise<LoadReport>;
  parseDuration(text: string): number;
  formatReport(report: LoadReport): string;
  loopbackUrl(url: string): URL;
};

let server: Server | undefined;

/** A server that records request paths and answers with `status(path)`. */
async function startServer(
  status: (path: string) => number = () => 200,
): Promise<{ url: string; paths: string[] }> {
  const paths: string[] = [];
  server = createServer((request, response) => {
    paths.push(request.url ?? '');
    response.writeHead(status(request.url ?? '')).end('{}');
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths };
}

afterEach(async () => {
  const closing = server;
  server = undefined;
  if (!closing) return;
  closing.closeAllConnections();
  await new Promise((resolve) => closing.close(resolve));
});

describe('runLoad', () => {
  it('sends exactly rps × duration requests, spread over every endpoint of the mix', async () => {
    const { url, paths } = await startServer();
    const report = await load.runLoad({ url, durationMs: 2000, rps: 50 });
    expect(paths).toHaveLength(100);
    expect(report).toMatchObject({ requests: 100, errors: 0, skipped: 0 });
    const counted = Object.values(report.endpoints).reduce((sum, stats) => sum + stats.requests, 0);
    expect(counted).toBe(100);
    expect(paths.some((path) => path.startsWith('/customers/top-products?email='))).toBe(true);
    expect(paths.some((path) => path === '/orders/recent')).toBe(true);
    expect(paths.every((path) => /^\/(customers|orders|products)\//.test(path))).toBe(true);
  });

  it('counts non-2xx answers as errors of their endpoint', async () => {
    const { url } = await startServer((path) => (path.startsWith('/products/') ? 503 : 200));
    const report = await load.runLoad({ url, durationMs: 1000, rps: 60 });
    const products = report.endpoints.product;
    expect(products?.requests).toBeGreaterThan(0);
    expect(products?.errors).toBe(products?.requests);
    expect(products?.lastError).toBe('HTTP 503');
    expect(report.errors).toBe(products?.errors);
  });

  it('counts a refused connection as an error', async () => {
    const { url } = await startServer();
    await new Promise((resolve) => server?.close(resolve));
    const report = await load.runLoad({ url, durationMs: 500, rps: 10 });
    expect(report.requests).toBe(5);
    expect(report.errors).toBe(5);
    expect(Object.values(report.endpoints).find((stats) => stats.errors > 0)?.lastError).toBe('ECONNREFUSED');
  });

  it('stops sending, and cancels what is open, when its signal aborts', async () => {
    const controller = new AbortController();
    const paths: string[] = [];
    // Never answers: only the abort can end this 60 s run (the test would time out otherwise).
    server = createServer((request) => {
      paths.push(request.url ?? '');
      if (paths.length === 5) controller.abort();
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const report = await load.runLoad({ url, durationMs: 60_000, rps: 20, signal: controller.signal });
    expect(paths.length).toBeGreaterThanOrEqual(5);
    expect(report).toMatchObject({ requests: 0, errors: 0 });
  });

  it('skips ticks instead of queueing when maxInFlight requests are open', async () => {
    const { url } = await startServer();
    server?.removeAllListeners('request');
    // Each answer takes 100 ms while ticks come every 5 ms: with one request open at most, most ticks find it busy.
    server?.on('request', (_request, response) => setTimeout(() => response.end('{}'), 100));
    const report = await load.runLoad({ url, durationMs: 1000, rps: 200, maxInFlight: 1 });
    expect(report.requests + report.skipped).toBe(200);
    expect(report.skipped).toBeGreaterThan(0);
    expect(report.errors).toBe(0);
  });

  it('refuses targets that are not loopback, and bad settings', async () => {
    await expect(load.runLoad({ url: 'http://example.com', durationMs: 1000 })).rejects.toThrow(/loopback/);
    await expect(load.runLoad({ url: 'http://10.0.0.1:3000', durationMs: 1000 })).rejects.toThrow(/loopback/);
    await expect(load.runLoad({ url: 'ftp://127.0.0.1', durationMs: 1000 })).rejects.toThrow(/http/);
    await expect(load.runLoad({ url: 'http://127.0.0.1:1', durationMs: Infinity })).rejects.toThrow(
      /durationMs/,
    );
    await expect(load.runLoad({ url: 'http://127.0.0.1:1', durationMs: 1000, rps: 0 })).rejects.toThrow(
      /rps/,
    );
  });
});

describe('loopbackUrl', () => {
  it('accepts localhost, 127.x.x.x and [::1]', () => {
    for (const url of [
      'http://localhost:3000',
      'http://127.0.0.1:1',
      'http://127.1.2.3',
      'http://[::1]:8080',
    ]) {
      expect(load.loopbackUrl(url).href).toBe(new URL(url).href);
    }
  });
});

describe('parseDuration', () => {
  it('reads ms, s, m and bare seconds', () => {
    expect(load.parseDuration('500ms')).toBe(500);
    expect(load.parseDuration('30s')).toBe(30_000);
    expect(load.parseDuration('1.5s')).toBe(1500);
    expect(load.parseDuration('2m')).toBe(120_000);
    expect(load.parseDuration('10')).toBe(10_000);
  });

  it('rejects anything else', () => {
    for (const text of ['', 's', '-1s', '10h', 'soon'])
      expect(() => load.parseDuration(text)).toThrow(/duration/);
  });
});

describe('formatReport', () => {
  it('prints totals, then one line per endpoint with its last error', () => {
    const text = load.formatReport({
      durationMs: 2500,
      requests: 12,
      errors: 1,
      skipped: 0,
      endpoints: {
        product: { requests: 7, errors: 1, lastError: 'HTTP 503' },
        order: { requests: 5, errors: 0 },
      },
    });
    expect(text.split('\n')).toEqual([
      '12 requests in 2.5 s, 1 errors, 0 skipped',
      '  product             7 requests 1 errors  (last: HTTP 503)',
      '  order               5 requests 0 errors',
    ]);
  });
});
