/**
 * The fix for a dependency_resilience finding: stop a failing or hanging host from
 * holding requests. A timeout from the measured latency (successful calls' p99 with
 * headroom), retries with exponential backoff and jitter for what fails briefly, a
 * circuit breaker (opossum) so a host that is down fails fast, and a cached fallback
 * for reads whose answer may be a little stale.
 */
import type { FindingCandidate, Recommendation } from '../../model/index.js';

/** Headroom over the p99: a timeout at the p99 itself would cut 1% of healthy calls. */
const HEADROOM = 2;
/** When no call succeeded, a timeout the user can tune from. */
const FALLBACK_TIMEOUT_MS = 2_000;

export function recommendDependencyResilience(candidate: FindingCandidate): Recommendation {
  const { evidence } = candidate;
  const host = String(evidence.host ?? 'api.example.com');
  const p99 = typeof evidence.successP99Ms === 'number' ? evidence.successP99Ms : undefined;
  const timeoutMs =
    p99 === undefined ? FALLBACK_TIMEOUT_MS : Math.max(100, Math.ceil((p99 * HEADROOM) / 100) * 100);
  const measured =
    p99 === undefined
      ? `No call to ${host} succeeded in the window, so the timeout below (${timeoutMs} ms) is a starting point. `
      : `99% of successful calls to ${host} finished within ${p99} ms, so a ${timeoutMs} ms timeout cuts only calls that would hang. `;
  const findings = [
    `${evidence.failed} of ${evidence.calls} calls failed (${Math.round(Number(evidence.errorRate) * 100)}%)`,
    `${evidence.timeouts} after ≥ 1 s (timeouts)`,
    `${evidence.retries} were retries`,
    `${evidence.hung} hung`,
  ].join(', ');
  return {
    summary: `Guard calls to ${host}: a ${timeoutMs} ms timeout, retries with backoff and jitter, a circuit breaker`,
    detail:
      `${findings}; requests spent ${evidence.heldMsPerRequest} ms on them on average. ${measured}` +
      'Retry only idempotent calls, a few times, with exponential backoff and jitter so retries do not arrive ' +
      'together. A circuit breaker (opossum) stops calling a host that keeps failing and answers at once ' +
      'from a fallback; for reads whose answer may be a little stale, serve the last good response from a cache.',
    code: [
      "const CircuitBreaker = require('opossum');",
      '',
      `const TIMEOUT_MS = ${timeoutMs};`,
      '',
      'async function call(url, init = {}) {',
      '  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });',
      "  if (response.status >= 500) throw new Error('HTTP ' + response.status + ' from ' + url);",
      '  return response.json();',
      '}',
      '',
      'async function withRetries(fn, attempts = 3, baseMs = 100) {',
      '  for (let attempt = 1; ; attempt++) {',
      '    try {',
      '      return await fn();',
      '    } catch (error) {',
      '      if (attempt >= attempts) throw error;',
      '      const backoff = baseMs * 2 ** (attempt - 1);',
      '      await new Promise((resolve) => setTimeout(resolve, backoff / 2 + Math.random() * backoff)); // jitter',
      '    }',
      '  }',
      '}',
      '',
      'const lastGood = new Map(); // url → last successful response, the fallback while the circuit is open',
      'const breaker = new CircuitBreaker((url) => withRetries(() => call(url)), {',
      '  timeout: false, // the fetch has its own',
      '  errorThresholdPercentage: 50,',
      '  resetTimeout: 10_000,',
      '});',
      "breaker.fallback((url) => lastGood.get(url) ?? Promise.reject(new Error(url + ' unavailable')));",
      '',
      'async function get(url) {',
      '  const body = await breaker.fire(url);',
      '  lastGood.set(url, body);',
      '  return body;',
      '}',
    ].join('\n'),
    language: 'javascript',
  };
}
