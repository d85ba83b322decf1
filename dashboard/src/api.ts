/**
 * The dashboard's one way to the collector: its `/api/*` JSON. URLs resolve against the
 * page, so the dashboard also works behind a reverse proxy that mounts it under a path.
 * A collector started with `--token` answers 401 until the token the user entered (kept
 * in sessionStorage: this tab only, gone when it closes) is sent as a bearer token.
 */
import type { ExampleTrace, FindingDetail, FindingSummary, ListName, ListResponse } from './api-types.js';
import type { Range } from './router.js';

/** The collector answered, but not with what the dashboard asked for. */
export class ApiError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

export interface FindingsAnswer {
  /**
   * Every current finding as a list shows it, ranked by impact (the collector sorts them, highest
   * first); an open finding's whole record comes with its detail.
   */
  findings: FindingSummary[];
  /** The collector's clock when it answered (its `Date` header), so "5 min ago" survives clock skew. */
  serverTimeMs: number;
}

/**
 * @example
 * const { findings } = await fetchFindings(controller.signal);
 */
export async function fetchFindings(signal?: AbortSignal): Promise<FindingsAnswer> {
  // Polled every few seconds: the summary, under half the JSON of the whole findings.
  const { body, response } = await getJson('api/findings?view=summary', signal);
  const findings = (body as { findings?: unknown } | null)?.findings;
  if (!Array.isArray(findings)) throw new ApiError(200, 'api/findings answered without a findings list');
  const serverTimeMs = Date.parse(response.headers.get('date') ?? '');
  return {
    findings: findings as FindingSummary[],
    serverTimeMs: Number.isNaN(serverTimeMs) ? Date.now() : serverTimeMs,
  };
}

/** Every service the collector holds data for, findings or not. */
export async function fetchServices(signal?: AbortSignal): Promise<string[]> {
  const { body } = await getJson('api/services', signal);
  const services = (body as { services?: unknown } | null)?.services;
  return Array.isArray(services) ? services.filter((service) => typeof service === 'string') : [];
}

/**
 * One list route (`api/queries`, …) over a range, every row (up to the collector's limit) with its sparklines.
 *
 * @example
 * const { rows, sparkline } = await fetchList('queries', { service: 'shop', since: '1h' });
 */
export async function fetchList<N extends ListName>(
  name: N,
  scope: { service?: string; since: Range },
  signal?: AbortSignal,
): Promise<ListResponse<N>> {
  const params = new URLSearchParams({ since: scope.since, limit: '1000' });
  if (scope.service) params.set('service', scope.service);
  const { body } = await getJson(`api/${name}?${params}`, signal);
  const answer = body as Record<string, unknown> | null;
  const rows = answer?.[name];
  if (!answer || !Array.isArray(rows)) throw new ApiError(200, `api/${name} answered without its rows`);
  return {
    since: String(answer.since),
    sparkline: answer.sparkline as ListResponse['sparkline'],
    rows,
  } as ListResponse<N>;
}

/** A whole finding, evidence and fix included, with its time series (`api/findings/:id`). */
export async function fetchFindingDetail(id: string, signal?: AbortSignal): Promise<FindingDetail> {
  const { body } = await getJson(`api/findings/${encodeURIComponent(id)}`, signal);
  const detail = body as Partial<FindingDetail> | null;
  if (!detail?.finding || !Array.isArray(detail.series)) {
    throw new ApiError(200, `api/findings/${id} answered without a finding and its series`);
  }
  return detail as FindingDetail;
}

/** The example request a finding names (`api/traces/:traceId`). */
export async function fetchTrace(traceId: string, signal?: AbortSignal): Promise<ExampleTrace> {
  const { body } = await getJson(`api/traces/${encodeURIComponent(traceId)}`, signal);
  const trace = body as Partial<ExampleTrace> | null;
  if (!Array.isArray(trace?.operations))
    throw new ApiError(200, `api/traces/${traceId} answered without operations`);
  return trace as ExampleTrace;
}

/** How the collector judges (`api/meta`): the detection settings in force, for charts' threshold lines. */
export async function fetchMeta(signal?: AbortSignal): Promise<{ detection: Record<string, unknown> }> {
  const { body } = await getJson('api/meta', signal);
  const detection = (body as { detection?: unknown } | null)?.detection;
  return {
    detection:
      typeof detection === 'object' && detection !== null ? (detection as Record<string, unknown>) : {},
  };
}

const TOKEN_KEY = 'chokepoint.token';

/** The access token entered in this tab, if any. */
export function accessToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

/** Keeps the access token for this tab and sends it with every following request. */
export function setAccessToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

async function getJson(path: string, signal?: AbortSignal): Promise<{ body: unknown; response: Response }> {
  const token = accessToken();
  const response = await fetch(new URL(path, document.baseURI), {
    headers: token
      ? { accept: 'application/json', authorization: `Bearer ${token}` }
      : { accept: 'application/json' },
    signal,
  });
  if (!response.ok)
    throw new ApiError(response.status, `${path.split('?')[0]} answered HTTP ${response.status}`);
  return { body: await response.json(), response };
}
