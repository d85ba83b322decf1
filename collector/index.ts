/**
 * Starts a collector: the OTLP receiver on one port, the API and dashboard on
 * another, the pipeline between them, ticking on a timer.
 *
 * @example
 * const collector = await startCollector({ otlpPort: 0, port: 0, db: '/tmp/chokepoint.db' });
 * console.log(collector.dashboardUrl);
 * await collector.close();
 */

import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { createApiApp } from './api/app.js';
import { bearerAuth } from './api/auth.js';
import { listAnswer } from './api/list-answer.js';
import { ListThread } from './api/list-thread.js';
import { createCollectorMetrics, recordIngest } from './api/metrics.js';
import { createPrometheusObserver } from './api/prometheus-observer.js';
import { type CollectorOptions, defaultCollectorOptions } from './config.js';
import { defaultDetectionConfig } from './detect/types.js';
import { Pipeline } from './pipeline.js';
import { otlpTraceRoutes } from './receive/otlp-http.js';
import { runtimeRoutes } from './receive/runtime-http.js';
import { releaseMemory } from './store/release-memory.js';
import { ThreadedStore } from './store/threaded-store.js';

export type { CollectorOptions } from './config.js';

/**
 * How far V8 lets the old generation grow past what survived its last full collection, in
 * percent. Ingest allocates fast and most of it dies old (a trace is held for its grace period),
 * so by default V8 grows the heap up to 4× the live data: 1M spans left a 70 MB live heap in a
 * 520 MB process. 50% keeps RSS near 320 MB for a few percent more GC time.
 */
const HEAP_GROWING_PERCENT = 50;

/**
 * Semi-space size, in MB, of the isolates started after the collector: its worker threads (the
 * store's writer, the list thread). V8 grows a young generation to 16 MB semi-spaces under a burst
 * and keeps them, and every worker is an isolate of its own: after 1M spans the writer held
 * 44.7 MB of heap, 32 MB of it an empty young generation. A worker's messages live for one
 * message, so 2 MB lets its heap stay at 27.7 MB, for ~10% more writer CPU. The main isolate's
 * young generation is set when the process starts, and ingest wants it large.
 */
const WORKER_SEMI_SPACE_MB = 2;

/**
 * A burst of at least this many spans, once ingest has been quiet for QUIET_MS, is followed by a
 * release of memory here and on the store's writer thread (see store/release-memory.ts): the
 * heaps otherwise keep the size the burst grew them to. Steady ingest is never quiet that long,
 * and a trickle pays one release per this many spans.
 */
const RELEASE_AFTER_SPANS = 100_000;
/**
 * Quiet long enough that the assembler's grace period (1 s) is over: the tick that sees it has
 * released the burst's traces, so they are garbage by then.
 */
const QUIET_MS = 1_000;

export interface RunningCollector {
  /** Base URL of the OTLP/HTTP receiver (`POST /v1/traces`). */
  otlpUrl: string;
  /** Base URL of the dashboard, API and `/metrics`. */
  dashboardUrl: string;
  readonly pipeline: Pipeline;
  /** Completes pending traces and runs detection and storage now; resolves once all of it is committed. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function startCollector(overrides: Partial<CollectorOptions> = {}): Promise<RunningCollector> {
  const options = { ...defaultCollectorOptions(), ...overrides };
  limitHeapGrowth();
  const dashboardDir = options.dashboardDir || resolveDashboardDir();
  // Writes on a worker thread: bucket writes, roll-ups and pruning never pause ingest.
  const store = new ThreadedStore(options.db, {
    onError: (message) => console.error(`chokepoint: ${message}`),
  });
  // Read at scrape time only, once the pipeline exists.
  const metrics = createCollectorMetrics(store, () => pipeline.pendingTraces);
  const detection = {
    ...defaultDetectionConfig,
    slowQueryMs: options.slowQueryMs,
    nPlusOneMin: options.nPlusOneMin,
    slowEndpointMs: options.slowEndpointMs,
    queueLagMs: options.queueLagMs,
    ...options.detection,
  };
  const pipeline = new Pipeline(store, {
    detection,
    windowMs: options.windowMinutes * 60_000,
    retentionMs: options.retentionDays * 24 * 60 * 60_000,
    rollupAfterMs: options.rollupAfterHours * 60 * 60_000,
    observers: [createPrometheusObserver(metrics.registry, { topFingerprints: options.metricsTopQueries })],
  });
  let spansSinceRelease = 0;
  let lastSpansAtMs = 0;
  const releaseMemoryIfQuiet = () => {
    if (spansSinceRelease < RELEASE_AFTER_SPANS || Date.now() - lastSpansAtMs < QUIET_MS) return;
    spansSinceRelease = 0;
    // Here first: the writer's turn is sent after this task, so the two never collect at once
    // (the size tuning is a process-wide flag).
    releaseMemory();
    store.releaseMemory();
  };
  const onRejected = (_reason: string, status: number) =>
    metrics.requestsRejected.inc({ reason: String(status) });
  const otlpApp = new Hono()
    .route(
      '/',
      otlpTraceRoutes({
        maxBodyBytes: Math.round(options.maxBodyMb * 1024 * 1024),
        onSpans: (spans) => {
          spansSinceRelease += spans.length;
          lastSpansAtMs = Date.now();
          recordIngest(metrics, spans.length, () => pipeline.ingest(spans));
        },
        onRejected,
      }),
    )
    .route('/', runtimeRoutes({ onSamples: (samples) => pipeline.ingestRuntime(samples), onRejected }));
  // A list merge reads tens of thousands of buckets: on a thread of its own, not ingest's.
  const lists = new ListThread(options.db, { fallback: (request) => listAnswer(store, request) });
  const apiApp = createApiApp({
    store,
    metrics,
    dashboardDir,
    seriesMs: 24 * 60 * 60_000,
    clock: Date.now,
    detection,
    lists,
  });
  const guardedOtlpApp = guarded(otlpApp, options.token, ['/v1/*'], () =>
    metrics.requestsRejected.inc({ reason: '401' }),
  );
  // The dashboard's own files stay open: the page must load to ask for the token.
  const guardedApiApp = guarded(apiApp, options.token, ['/api/*', '/metrics']);

  const servers: Server[] = [];
  const closeServers = () => Promise.all(servers.map((server) => closeServer(server)));
  try {
    const otlp = await listen(guardedOtlpApp, options.host, options.otlpPort, 'otlp');
    servers.push(otlp.server);
    const api = await listen(guardedApiApp, options.host, options.port, 'dashboard');
    servers.push(api.server);
    let closing: Promise<void> | undefined;
    const timer = setInterval(() => {
      pipeline.tick();
      releaseMemoryIfQuiet();
    }, options.detectIntervalMs);
    timer.unref();
    const collector: RunningCollector = {
      otlpUrl: otlp.url,
      dashboardUrl: api.url,
      pipeline,
      async flush() {
        pipeline.flush();
        await store.flushed();
      },
      close() {
        // Idempotent: a signal handler and a test teardown may both close the same collector.
        closing ??= (async () => {
          clearInterval(timer);
          await closeServers();
          await lists.close();
          pipeline.flush();
          await store.close();
        })();
        return closing;
      },
    };
    if (!options.quiet) {
      console.log(`otlp listening on ${otlp.url}`);
      console.log(`dashboard listening on ${api.url}`);
    }
    return collector;
  } catch (error) {
    await closeServers();
    await lists.close();
    await store.close();
    throw error;
  }
}

/**
 * Applies HEAP_GROWING_PERCENT to this process, and WORKER_SEMI_SPACE_MB to the isolates started
 * after it, each unless the process's Node options already set it.
 */
function limitHeapGrowth(): void {
  const nodeOptions = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
  if (!/heap[-_]growing[-_]percent/.test(nodeOptions)) {
    setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  }
  if (!/semi[-_]space/.test(nodeOptions)) setFlagsFromString(`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`);
}

/** `app` behind the bearer token on `paths` (`/api/health` always open); `app` itself without a token. */
function guarded(app: Hono, token: string, paths: string[], onRejected?: () => void): Hono {
  if (token === '') return app;
  const front = new Hono();
  const auth = bearerAuth({ token, except: ['/api/health'], onRejected });
  for (const path of paths) front.use(path, auth);
  return front.route('/', app);
}

/** `<package root>/dist/dashboard`, found from this file whether it runs from dist/ or from source. */
function resolveDashboardDir(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'dashboard');
}

function listen(
  app: Hono,
  host: string,
  port: number,
  label: string,
): Promise<{ server: Server; url: string }> {
  const server = createAdaptorServer({ fetch: app.fetch, hostname: host }) as Server;
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'EADDRINUSE' ? `port ${port} is already in use` : error.message;
      reject(new Error(`cannot start the ${label} server on ${host}:${port}: ${reason}`));
    });
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({ server, url: `http://${shownHost}:${address.port}` });
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
