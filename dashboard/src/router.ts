/**
 * A tiny hash router. The hash holds the whole view state — which finding is open and
 * which filters apply — so every view is a link that reopens it:
 *
 *   #/findings/<id>?service=checkout&kind=n_plus_one
 *
 * Pure functions only; the app shell owns `location` and `hashchange`.
 */

/** The findings view: the ranked list, optionally with one finding open. */
export interface FindingsRoute {
  view: 'findings';
  findingId?: string;
  service?: string;
  kind?: string;
}

/** Every view the dashboard can show; later views join this union. */
export type Route = FindingsRoute;

/**
 * Reads a route from `location.hash`. Unknown paths fall back to the findings list.
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

  const route: Route = { view: 'findings' };
  const findingId = view === 'findings' && id !== undefined ? decodeSegment(id) : undefined;
  if (findingId) route.findingId = findingId;
  const service = params.get('service');
  if (service) route.service = service;
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
  if (route.kind) params.set('kind', route.kind);
  const query = params.toString();
  const path = route.findingId ? `/findings/${encodeURIComponent(route.findingId)}` : '/findings';
  return `#${path}${query ? `?${query}` : ''}`;
}

/** A hand-edited link with a broken escape still opens: the raw segment is as good a guess as any. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
