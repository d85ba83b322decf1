/**
 * A tiny hash router. The hash holds the whole view state — which view, which finding is
 * open, the service and time range, a table's filter and sort — so every view is a link
 * that reopens it:
 *
 *   #/findings/<id>?service=checkout&since=24h&kind=n_plus_one
 *   #/queries?service=checkout&filter=orders&sort=p95Ms&dir=desc
 *
 * Pure functions only; the app shell owns `location` and `hashchange`.
 */

/** The table views, in the order the navigation shows them. */
export const LIST_VIEWS = ['endpoints', 'queries', 'caches', 'queues', 'runtime'] as const;
export type ListView = (typeof LIST_VIEWS)[number];

/** The time ranges the collector's list routes accept. */
export const RANGES = ['15m', '1h', '24h', '7d'] as const;
export type Range = (typeof RANGES)[number];
export const DEFAULT_RANGE: Range = '1h';

export const RANGE_MS: Readonly<Record<Range, number>> = {
  '15m': 15 * 60_000,
  '1h': 60 * 60_000,
  '24h': 24 * 60 * 60_000,
  '7d': 7 * 24 * 60 * 60_000,
};

export type SortDirection = 'asc' | 'desc';

/** What every view is scoped to; an absent `since` is the default range. */
interface Scope {
  service?: string;
  since?: Range;
}

/** The overview: the ranked findings, optionally with one finding open. */
export interface FindingsRoute extends Scope {
  view: 'findings';
  findingId?: string;
  kind?: string;
}

/** A table view: its rows filtered by text and sorted by a column. */
export interface ListRoute extends Scope {
  view: ListView;
  filter?: string;
  sort?: string;
  dir?: SortDirection;
}

export type Route = FindingsRoute | ListRoute;

/**
 * Reads a route from `location.hash`. Unknown paths fall back to the overview; unknown
 * ranges and directions are dropped.
 *
 * @example
 * parseHash('#/findings/f1?service=api') // { view: 'findings', findingId: 'f1', service: 'api' }
 */
export function parseHash(hash: string): Route {
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  const queryStart = text.indexOf('?');
  const path = queryStart === -1 ? text : text.slice(0, queryStart);
  const params = new URLSearchParams(queryStart === -1 ? '' : text.slice(queryStart + 1));
  const [view, id] = path.split('/').filter((segment) => segment !== '');

  const scope: Scope = {};
  const service = params.get('service');
  if (service) scope.service = service;
  const since = params.get('since');
  if (isRange(since)) scope.since = since;

  if (isListView(view)) {
    const route: ListRoute = { view, ...scope };
    const filter = params.get('filter');
    if (filter) route.filter = filter;
    const sort = params.get('sort');
    if (sort) route.sort = sort;
    const dir = params.get('dir');
    if (dir === 'asc' || dir === 'desc') route.dir = dir;
    return route;
  }
  const route: FindingsRoute = { view: 'findings', ...scope };
  const findingId = view === 'findings' && id !== undefined ? decodeSegment(id) : undefined;
  if (findingId) route.findingId = findingId;
  const kind = params.get('kind');
  if (kind) route.kind = kind;
  return route;
}

/**
 * Writes a route as a hash; `parseHash(formatHash(route))` gives the route back.
 *
 * @example
 * formatHash({ view: 'findings', findingId: 'f1', service: 'api' }) // '#/findings/f1?service=api'
 */
export function formatHash(route: Route): string {
  const params = new URLSearchParams();
  if (route.service) params.set('service', route.service);
  if (route.since) params.set('since', route.since);
  let path: string;
  if (route.view === 'findings') {
    if (route.kind) params.set('kind', route.kind);
    path = route.findingId ? `/findings/${encodeURIComponent(route.findingId)}` : '/findings';
  } else {
    if (route.filter) params.set('filter', route.filter);
    if (route.sort) params.set('sort', route.sort);
    if (route.dir) params.set('dir', route.dir);
    path = `/${route.view}`;
  }
  const query = params.toString();
  return `#${path}${query ? `?${query}` : ''}`;
}

/**
 * The route of another view keeping the service and range: what the navigation links to.
 *
 * @example
 * viewRoute({ view: 'findings', service: 'api', findingId: 'f1' }, 'queries') // { view: 'queries', service: 'api' }
 */
export function viewRoute(route: Route, view: Route['view']): Route {
  const next: Route = { view };
  if (route.service) next.service = route.service;
  if (route.since) next.since = route.since;
  return next;
}

/** The range a route shows. */
export function rangeOf(route: Route): Range {
  return route.since ?? DEFAULT_RANGE;
}

function isListView(view: string | undefined): view is ListView {
  return (LIST_VIEWS as readonly string[]).includes(view ?? '');
}

function isRange(value: string | null): value is Range {
  return (RANGES as readonly string[]).includes(value ?? '');
}

/** A hand-edited link with a broken escape still opens: the raw segment is as good a guess as any. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
