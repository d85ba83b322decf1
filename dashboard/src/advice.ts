/**
 * The numbers a playbook finding's fix is built from, computed from its evidence as the
 * collector's recommenders compute them (collector/recommend/connection-pool.ts,
 * dependency-resilience.ts), so the evidence view can set them beside what was measured.
 * test/dashboard/src/advice.test.ts holds them to the recommenders' own output.
 */
import type { Evidence } from '../../model/finding.js';
import { numberField } from './evidence.js';

/** Headroom over the average concurrency: requests arrive in bursts. */
const POOL_HEADROOM = 1.5;
/** The smallest pool worth advising: one connection serialises every request. */
const MIN_POOL = 2;
/** Clients that pipeline commands over one connection: their fix is one client, not a pool size. */
const UNPOOLED_SYSTEMS = new Set(['redis']);
/** Headroom over healthy calls' p99: a timeout at the p99 itself would cut 1% of them. */
const TIMEOUT_HEADROOM = 2;
/** The timeout advised when no call succeeded, a value to tune from. */
const FALLBACK_TIMEOUT_MS = 2_000;

/**
 * The pool size a connection_pool fix sets. Requests waiting for a connection: the average
 * concurrency (waiting or holding one) with headroom, at least the worst moment's. Requests
 * opening their own (`rule: 'new_connections'`): the connections statements hold at once, with
 * headroom. `undefined` without the measurements, or for a client that needs no pool.
 *
 * @example
 * suggestedPoolSize({ connectionsWanted: 3.2, peakConnectionsWanted: 8 }) // 8
 * suggestedPoolSize({ rule: 'new_connections', system: 'postgresql', connectionsBusy: 2.4 }) // 4
 */
export function suggestedPoolSize(evidence: Evidence): number | undefined {
  if (evidence.rule === 'new_connections') {
    const busy = numberField(evidence, 'connectionsBusy');
    if (busy === undefined || UNPOOLED_SYSTEMS.has(String(evidence.system))) return undefined;
    return Math.max(MIN_POOL, Math.ceil(busy * POOL_HEADROOM));
  }
  const wanted = numberField(evidence, 'connectionsWanted');
  const peak = numberField(evidence, 'peakConnectionsWanted');
  if (wanted === undefined && peak === undefined) return undefined;
  return Math.max(MIN_POOL, Math.ceil((wanted ?? 0) * POOL_HEADROOM), peak ?? 0);
}

/**
 * The timeout a dependency_resilience fix sets: twice the p99 of healthy calls, rounded up
 * to 100 ms, or 2 s when no call succeeded (`successP99Ms: null`).
 *
 * @example
 * suggestedTimeoutMs({ successP99Ms: 250 }) // 500
 */
export function suggestedTimeoutMs(evidence: Evidence): number {
  const p99 = numberField(evidence, 'successP99Ms');
  if (p99 === undefined) return FALLBACK_TIMEOUT_MS;
  return Math.max(100, Math.ceil((p99 * TIMEOUT_HEADROOM) / 100) * 100);
}

/** Files a server should compress: text, and fonts stored uncompressed. */
const COMPRESSIBLE = /\.(js|mjs|cjs|css|svg|map|json|html?|txt|xml|ttf|otf|eot|ico)$/i;
/** A content hash in the name (`app.3f9a1c2b.js`, or the `{hash}` the collector folds it into). */
const FINGERPRINTED = /\{hash\}|[.\-_][0-9a-f]{8,}[.\-_]/i;

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
