/**
 * The collector's HTTP face for people and tools: JSON API, Prometheus `/metrics`
 * and the dashboard. Routes read from the store only.
 */
import { Hono } from 'hono';
import { FINDING_KINDS, type FindingKind, type FindingStatus } from '../../model/index.js';
import { patternFamily, queryFamily } from '../aggregate/stats.js';
import type { Store } from '../store/types.js';
import type { CollectorMetrics } from './metrics.js';
import { serveDashboard } from './static-assets.js';

export interface ApiOptions {
  store: Store;
  metrics: CollectorMetrics;
  dashboardDir: string;
  /** How far back `/api/findings/:id` reads its time series. */
  seriesMs: number;
  clock: () => number;
}

const STATUSES: readonly FindingStatus[] = ['new', 'ongoing', 'resolved', 'regressed'];

/**
 * @example
 * const app = createApiApp({ store, metrics, dashboardDir: 'dist/dashboard', seriesMs: 3_600_000, clock: Date.now });
 * serve({ fetch: app.fetch, port: 7070 });
 */
export function createApiApp(options: ApiOptions): Hono {
  const { store } = options;
  const app = new Hono();

  app.get('/api/health', (c) => c.json({ status: 'ok' }));

  app.get('/api/services', (c) => c.json({ services: store.listServices() }));

  app.get('/api/findings', (c) => {
    const kind = c.req.query('kind');
    const status = c.req.query('status');
    if (kind !== undefined && !(FINDING_KINDS as readonly string[]).includes(kind)) {
      return c.json({ error: `unknown kind "${kind}": expected one of ${FINDING_KINDS.join(', ')}` }, 400);
    }
    if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
      return c.json({ error: `unknown status "${status}": expected one of ${STATUSES.join(', ')}` }, 400);
    }
    const findings = store.listFindings({
      service: c.req.query('service') || undefined,
      kind: kind as FindingKind | undefined,
      status: status as FindingStatus | undefined,
    });
    return c.json({ findings });
  });

  app.get('/api/findings/:id', (c) => {
    const finding = store.getFinding(c.req.param('id'));
    if (!finding) return c.json({ error: `no finding with id ${c.req.param('id')}` }, 404);
    const fromMs = options.clock() - options.seriesMs;
    return c.json({
      finding,
      series: findingSeries(store, finding.kind, finding.service, finding.key, fromMs),
    });
  });

  app.get('/metrics', async (c) => {
    const body = await options.metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': options.metrics.registry.contentType });
  });

  app.notFound((c) => c.json({ error: `not found: ${c.req.path}` }, 404));
  app.onError((error, c) => c.json({ error: `internal error: ${error.message}` }, 500));
  serveDashboard(app, options.dashboardDir);
  return app;
}

/** Per-bucket points behind a finding, for its chart. */
function findingSeries(store: Store, kind: FindingKind, service: string, key: string, fromMs: number) {
  if (kind === 'slow_query') {
    return store.readBuckets({ family: queryFamily.name, service, key, fromMs }).map((record) => {
      const stats = queryFamily.deserialize(record.data);
      return {
        t: new Date(record.bucketStartMs).toISOString(),
        count: stats.count,
        p50Ms: stats.sketch.quantile(0.5),
        p95Ms: stats.sketch.quantile(0.95),
        p99Ms: stats.sketch.quantile(0.99),
        totalMs: stats.totalMs,
      };
    });
  }
  return store
    .readBuckets({ family: patternFamily.name, service, key: `${kind}:${key}`, fromMs })
    .map((record) => {
      const stats = patternFamily.deserialize(record.data);
      return {
        t: new Date(record.bucketStartMs).toISOString(),
        count: stats.occurrences,
        avgRepeats: stats.occurrences > 0 ? stats.totalRepeats / stats.occurrences : 0,
        totalMs: stats.totalMs,
      };
    });
}
