/**
 * What the collector-outage tests share: an app under the built agent, clients loading it
 * back to back, and the app's resident memory sampled while its collector is away.
 */
import { readFileSync } from 'node:fs';
import { type AppRun, runWithAgent } from './agent-process.js';

export interface Load {
  requests: number;
  failures: string[];
}

export interface LoadedApp {
  run: AppRun;
  /** The URL the clients request. */
  url: string;
  pid: number;
}

export interface OutageLoad extends Load {
  /** The app's resident set size (bytes), every 200 ms while the load ran. */
  rss: number[];
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Memory the app still reaches after a full garbage collection (heap in use plus buffers), in
 * bytes: what it retains, not what V8 reserved. Read by test/support/heap-probe.cjs, which
 * {@link startLoadedApp} preloads.
 *
 * @example
 * const before = await retainedBytes(app);
 */
export async function retainedBytes(app: LoadedApp): Promise<number> {
  const next = (app.run.stdout().match(/^heap \d+ /gm)?.length ?? 0) + 1;
  const reading = app.run.waitForStdout(new RegExp(`^heap ${next} (\\d+)$`, 'm'));
  app.run.child.kill('SIGUSR2');
  return Number((await reading)[1]);
}

/** Resident set size of a process, from /proc (Linux), in bytes. */
export function rssOf(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) * 1024;
}

/** Polls until `check` holds (a throw counts as not yet); rejects after `timeoutMs`, naming `what`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await Promise.resolve()
      .then(check)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * Starts `fixture` under the agent, with the heap probe {@link retainedBytes} reads, and waits until it prints `listening on <port>`.
 * Call `killApps()` (agent-process.ts) after the tests.
 *
 * @example
 * const app = await startLoadedApp('test/agent/fixtures/http-app.js', '/', { OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl });
 */
export async function startLoadedApp(
  fixture: string,
  path: string,
  env: Record<string, string>,
): Promise<LoadedApp> {
  const run = runWithAgent(fixture, {
    env,
    preload: ['test/support/heap-probe.cjs'],
    nodeFlags: ['--expose-gc'],
  });
  const [, port] = await run.waitForStdout(/listening on (\d+)/);
  return { run, url: `http://127.0.0.1:${port}${path}`, pid: run.child.pid as number };
}

export interface LoadOptions {
  /** Clients requesting at the same time. Default 8. */
  clients?: number;
  /** What each client waits after an answer before its next request: a pace the machine keeps up with. Default 0. */
  pauseMs?: number;
}

/**
 * Clients requesting `url` until `stop` settles; every answer but a 200, and every error,
 * is a failure.
 *
 * @example
 * const load = await loadUntil(app.url, sleep(4_000));
 * expect(load.failures).toEqual([]);
 */
export async function loadUntil(
  url: string,
  stop: Promise<unknown>,
  { clients = 8, pauseMs = 0 }: LoadOptions = {},
): Promise<Load> {
  const load: Load = { requests: 0, failures: [] };
  let stopped = false;
  const settled = stop.finally(() => {
    stopped = true;
  });
  // `settled` joins from the start: a `stop` that rejects fails the load at once, never unhandled.
  await Promise.all([
    settled,
    ...Array.from({ length: clients }, async () => {
      while (!stopped) {
        try {
          const response = await fetch(url);
          await response.text();
          load.requests += 1;
          if (response.status !== 200) load.failures.push(`HTTP ${response.status}`);
        } catch (error) {
          load.failures.push(String(error));
        }
        if (pauseMs > 0) await sleep(pauseMs);
      }
    }),
  ]);
  return load;
}

/** {@link loadUntil} on the app for `ms`, its RSS sampled every 200 ms meanwhile. */
export async function loadFor(app: LoadedApp, ms: number, options: LoadOptions = {}): Promise<OutageLoad> {
  const rss: number[] = [];
  const sampling = setInterval(() => rss.push(rssOf(app.pid)), 200);
  try {
    return { ...(await loadUntil(app.url, sleep(ms), options)), rss };
  } finally {
    clearInterval(sampling);
  }
}
