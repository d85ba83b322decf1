/**
 * static_assets — the Node process serving static files: routes ending in a file
 * extension browsers fetch as-is (`.js`, `.css`, images, fonts, source maps) or under
 * `/static`, `/assets`, `/public`. Each such request holds the event loop and a socket
 * that a CDN or reverse proxy would serve from cache. Fires per service when static
 * requests are a meaningful share of its requests; read from the routes' statistics,
 * so it needs no per-trace step (and its series over time is those routes' buckets,
 * summed by the API with {@link staticFileOf}). Each file listed carries the response headers it should
 * have (`headers`), so the dashboard shows the advice rather than deciding it.
 */
import type { FindingCandidate } from '../../model/index.js';
import type { EndpointStats } from '../aggregate/stats.js';
import { percent, round2 } from './format.js';
import { severityForImpact } from './severity.js';
import type { Detector } from './types.js';

const STATIC_EXTENSION = /\.(js|mjs|css|png|jpe?g|gif|webp|avif|svg|woff2?|ttf|otf|eot|ico|map)$/i;
const STATIC_DIRECTORY = /^\/(static|assets|public)(\/|$)/i;
const HTTP_ENTRY = /^([A-Z]+) (\/.*)$/;
/** Files a server should compress: text, and fonts stored uncompressed. */
const COMPRESSIBLE = /\.(js|mjs|cjs|css|svg|map|json|html?|txt|xml|ttf|otf|eot|ico)$/i;
/** A content hash in the name (`app.3f9a1c2b.js`, or the `{hash}` a route template folds it into). */
const FINGERPRINTED = /\{hash\}|[.\-_][0-9a-f]{8,}[.\-_]/i;

/**
 * Whether a route names a static file.
 *
 * @example
 * isStaticRoute('/assets/app.{hash}.js') // true
 * isStaticRoute('/api/orders/:id')       // false
 */
export function isStaticRoute(route: string): boolean {
  const path = route.split('?')[0] ?? route;
  return STATIC_EXTENSION.test(path) || STATIC_DIRECTORY.test(path);
}

/**
 * The static file an endpoint's entry asks for: a `GET` or `HEAD` of a static route, or
 * undefined for anything else.
 *
 * @example
 * staticFileOf('GET /assets/app.{hash}.js') // '/assets/app.{hash}.js'
 * staticFileOf('PUT /avatars/{id}.png')     // undefined
 */
export function staticFileOf(entry: string): string | undefined {
  const match = HTTP_ENTRY.exec(entry);
  const route = match?.[2];
  return route !== undefined && (match?.[1] === 'GET' || match?.[1] === 'HEAD') && isStaticRoute(route)
    ? route
    : undefined;
}

/**
 * The response headers to check on a static file. The agent does not capture headers, so
 * these are what the file should carry, not what it lacks: long-lived caching when its name
 * changes with its content, revalidation otherwise, and compression for text.
 *
 * @example
 * headersToCheck('/assets/app.{hash}.js')
 * // ['Cache-Control: public, max-age=31536000, immutable', 'Content-Encoding: br or gzip']
 */
export function headersToCheck(route: string): string[] {
  const path = route.split('?')[0] ?? route;
  return [
    FINGERPRINTED.test(path)
      ? 'Cache-Control: public, max-age=31536000, immutable'
      : 'Cache-Control: no-cache, with an ETag',
    ...(COMPRESSIBLE.test(path) ? ['Content-Encoding: br or gzip'] : []),
  ];
}

export const staticAssetsDetector: Detector = {
  kind: 'static_assets',
  explain: (config) => ({
    rule:
      'HTTP requests for static files (routes ending in .js .css .png .jpg .svg .woff2 .ico .map …, or under ' +
      `/static, /assets, /public): ≥ ${config.staticAssetsMinRequests} and ≥ ${percent(config.staticAssetsMinShare)} of the service's requests`,
    impact: 'time the process spent serving them, per minute',
  }),

  detect(window, config) {
    const byService = new Map<
      string,
      { all: EndpointStats[]; assets: Array<EndpointStats & { route: string }> }
    >();
    for (const endpoint of window.endpoints) {
      if (!HTTP_ENTRY.test(endpoint.entry)) continue;
      const service = byService.get(endpoint.service) ?? { all: [], assets: [] };
      service.all.push(endpoint);
      const route = staticFileOf(endpoint.entry);
      if (route !== undefined) service.assets.push({ ...endpoint, route });
      byService.set(endpoint.service, service);
    }
    const candidates: FindingCandidate[] = [];
    for (const [service, { all, assets }] of byService) {
      const requests = sum(all, (e) => e.count);
      const staticRequests = sum(assets, (e) => e.count);
      const share = requests > 0 ? staticRequests / requests : 0;
      if (staticRequests < config.staticAssetsMinRequests || share < config.staticAssetsMinShare) continue;
      const staticMs = sum(assets, (e) => e.totalMs);
      const totalMs = sum(all, (e) => e.totalMs);
      const impact = staticMs / window.minutes;
      const extensions: Record<string, number> = {};
      for (const asset of assets) {
        const extension = /\.([a-z0-9]+)$/i.exec(asset.route)?.[1]?.toLowerCase() ?? '(directory)';
        extensions[extension] = (extensions[extension] ?? 0) + asset.count;
      }
      const top = [...assets].sort((a, b) => b.count - a.count).slice(0, 10);
      candidates.push({
        kind: 'static_assets',
        service,
        key: 'static',
        title: `Static files served by Node: ${Math.round(share * 100)}% of ${service}'s requests`,
        severity: severityForImpact(impact),
        impact: round2(impact),
        evidence: {
          staticRequests,
          requests,
          requestShare: round2(share),
          staticMs: round2(staticMs),
          timeShare: round2(totalMs > 0 ? staticMs / totalMs : 0),
          meanMs: round2(staticMs / staticRequests),
          perMinute: round2(staticRequests / window.minutes),
          extensions,
          assets: top.map((asset) => ({
            route: asset.route,
            requests: asset.count,
            meanMs: round2(asset.totalMs / asset.count),
            headers: headersToCheck(asset.route),
          })),
          exampleTraceId: top[0]?.exampleTraceId,
        },
      });
    }
    return candidates;
  },
};

function sum<T>(items: T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + value(item), 0);
}
