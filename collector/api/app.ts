/**
 * The collector's HTTP face for people and tools: JSON API, Prometheus `/metrics`
 * and the dashboard. Routes read from the store only.
 */
import { type Context, Hono } from 'hono';
import { compress } from 'hono/compress';
import { FINDING_KINDS, type FindingKind, type FindingStatus } from '../../model/index.js';
import { detectors } from '../detect/registry.js';
import { SEVERITY_IMPACT_MS_PER_MIN } from '../detect/severity.js';
import { type DetectionConfig, defaultDetectionConfig } from '../detect/types.js';
import type { Store } from '../store/types.js';
import { findingSeries, SINCE, seriesSource } from './aggregates.js';
import { sendBody, sendJson } from './cached-body.js';
import { FINDING_VIEWS, type FindingView, findingsBodies } from './findings-body.js';
import { LIST_NAMES, type ListAnswer, type ListRequest, listAnswer } from './list-answer.js';
import { listBodies } from './list-cache.js';
import type { CollectorMetrics } from './metrics.js';
import { serveDashboard } from './static-assets.js';

export interface ApiOptions {
  store: Store;
  metrics: CollectorMetrics;
  dashboardDir: string;
  /** How far back `/api/findings/:id` reads its time series. */
  seriesMs: number;
  clock: () => number;
  /** The thresholds detection runs with, for `/api/meta` (default: the defaults). */
  detection?: DetectionConfig;
  /**
   * How long a list route's answer is served again before it is merged anew, in ms (default:
   * `listFreshMs`: 20× its cost, up to 15–60 s by range; 0: every request reads the store).
   */
  listFreshMs?: number;
  /**
   * Where list answers are merged, off the thread that serves requests and ingest (the
   * collector's `ListThread`); by default here, from `store`.
   */
  lists?: { answer(request: ListRequest): Promise<ListAnswer> };
}

/** How impact and severity are counted, the same for every kind. */
export const IMPACT_EXPLAINED =
  'Impact is the wall time a bottleneck costs, in milliseconds per minute: the time its operations took in ' +
  'the detection window, divided by the minutes of data in that window. Each kind counts its own operations ' +
  '(see kinds[].impact). Severity follows impact on one scale for every kind; a slow query whose p95 is 10× ' +
  'its threshold is raised one step.';

const DEFAULT_SINCE = '1h';
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1_000;

const STATUSES: readonly FindingStatus[] = ['new', 'ongoing', 'resolved', 'regressed'];

/**
 * @example
 * const app = createApiApp({ store, metrics, dashboardDir: 'dist/dashboard', seriesMs: 3_600_000, clock: Date.now });
 * serve({ fetch: app.fetch, port: 7070 });
 */
export function createApiApp(options: ApiOptions): Hono {
  /** `?service=&since=15m|1h|24h|7d&limit=` of the list routes, or what is wrong with them. */
  const listRange = (c: Context) => {
    const since = c.req.query('since') ?? DEFAULT_SINCE;
    const sinceMs = SINCE[since];
    if (sinceMs === undefined) {
      return { error: `unknown since "${since}": expected one of ${Object.keys(SINCE).join(', ')}` };
    }
    const rawLimit = c.req.query('limit');
    const limit = rawLimit === undefined ? DEFAULT_LIMIT : Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      return { error: `limit must be a whole number from 1 to ${MAX_LIMIT}, got "${rawLimit}"` };
    }
    const nowMs = options.clock();
    return { since, nowMs, fromMs: nowMs - sinceMs, limit, service: c.req.query('service') || undefined };
  };

  const { store } = options;
  const findingsBody = findingsBodies(store);
  const listBody = listBodies();
  const app = new Hono();

  // gzip for JSON and Prometheus text when the client asks (the findings list brings its own, made once).
  app.use('/api/*', compress());
  app.use('/metrics', compress());

  app.get('/api/health', (c) => c.json({ status: 'ok' }));

  app.get('/api/services', (c) => c.json({ services: store.listServices() }));

  app.get('/api/findings', async (c) => {
    const kind = c.req.query('kind');
    const status = c.req.query('status');
    const view = c.req.query('view') ?? 'full';
    if (kind !== undefined && !(FINDING_KINDS as readonly string[]).includes(kind)) {
      return c.json({ error: `unknown kind "${kind}": expected one of ${FINDING_KINDS.join(', ')}` }, 400);
    }
    if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
      return c.json({ error: `unknown status "${status}": expected one of ${STATUSES.join(', ')}` }, 400);
    }
    if (!(FINDING_VIEWS as readonly string[]).includes(view)) {
      return c.json({ error: `unknown view "${view}": expected one of ${FINDING_VIEWS.join(', ')}` }, 400);
    }
    const filter = {
      service: c.req.query('service') || undefined,
      kind: kind as FindingKind | undefined,
      status: status as FindingStatus | undefined,
    };
    return sendBody(c, findingsBody(filter, view as FindingView));
  });

  app.get('/api/findings/:id', (c) => {
    const finding = store.getFinding(c.req.param('id'));
    if (!finding) return c.json({ error: `no finding with id ${c.req.param('id')}` }, 404);
    const source = seriesSource(finding.kind, finding.key);
    const records = store.readBuckets({
      ...source,
      service: finding.service,
      fromMs: options.clock() - options.seriesMs,
    });
    return sendJson(c, { finding, series: findingSeries(finding.kind, records) });
  });

  app.get('/api/meta', (c) => {
    const detection = options.detection ?? defaultDetectionConfig;
    return c.json({
      impactExplained: IMPACT_EXPLAINED,
      severityImpactMsPerMin: SEVERITY_IMPACT_MS_PER_MIN,
      kinds: detectors.map((detector) => ({ kind: detector.kind, ...detector.explain(detection) })),
      detection,
    });
  });

  for (const name of LIST_NAMES) {
    app.get(`/api/${name}`, async (c) => {
      const range = listRange(c);
      if ('error' in range) return c.json({ error: range.error }, 400);
      const key = `${name}\u0000${range.since}\u0000${range.service ?? ''}\u0000${range.limit}`;
      const request: ListRequest = {
        name,
        ...range,
        ...(options.listFreshMs === undefined ? {} : { freshMs: options.listFreshMs }),
      };
      return sendBody(
        c,
        await listBody(key, range.nowMs, () =>
          options.lists ? options.lists.answer(request) : listAnswer(store, request),
        ),
      );
    });
  }

  app.get('/api/traces/:traceId', (c) => {
    const trace = store.getExampleTrace(c.req.param('traceId'));
    if (!trace) return c.json({ error: `no example trace ${c.req.param('traceId')} is stored` }, 404);
    return c.json(trace);
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
