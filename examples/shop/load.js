/**
 * Load generator for the shop: a steady mix of its endpoints, planted bottlenecks included.
 *
 *   node examples/shop/load.js --url http://127.0.0.1:3000 --duration 30s --rps 30
 *
 * Bounded on every side: it sends at most `rps × duration` requests, keeps at most
 * `maxInFlight` open (a tick that finds them all busy is counted as skipped, not queued), gives
 * each request 10 s, stops at the deadline or on abort, and only ever targets the loopback URL
 * it is given. Ids and emails come from data.js, so every request names a seeded row.
 */
'use strict';

const { setTimeout: sleep } = require('node:timers/promises');
const { parseArgs } = require('node:util');
const { SIZES, customerEmail } = require('./data.js');

const REQUEST_TIMEOUT_MS = 10_000;

/** What the mix requests, and how often relative to the others. */
const ENDPOINTS = [
  { name: 'top-products', weight: 1, path: () => `/customers/top-products?email=${randomEmail()}` },
  { name: 'recent-orders', weight: 2, path: () => '/orders/recent' },
  { name: 'product', weight: 3, path: () => `/products/${randomId(SIZES.products)}` },
  { name: 'customer', weight: 2, path: () => `/customers/${randomId(SIZES.customers)}` },
  { name: 'order', weight: 2, path: () => `/orders/${randomId(SIZES.orders)}` },
];
const TOTAL_WEIGHT = ENDPOINTS.reduce((sum, endpoint) => sum + endpoint.weight, 0);

/**
 * @typedef {object} LoadOptions
 * @property {string} url Base URL of the shop; must be a loopback address.
 * @property {number} durationMs How long to send for.
 * @property {number} [rps] Requests per second (30).
 * @property {number} [maxInFlight] Open requests at most (64).
 * @property {AbortSignal} [signal] Stops sending and cancels open requests.
 *
 * @typedef {object} LoadReport
 * @property {number} durationMs
 * @property {number} requests Requests answered or failed (cancelled ones are not counted).
 * @property {number} errors Failed requests and non-2xx answers.
 * @property {number} skipped Ticks dropped because `maxInFlight` requests were open.
 * @property {Record<string, { requests: number, errors: number, lastError?: string }>} endpoints
 */

/**
 * Sends the shop's request mix at a steady rate until `durationMs` has passed or `signal` aborts.
 *
 * @param {LoadOptions} options
 * @returns {Promise<LoadReport>}
 *
 * @example
 * const report = await runLoad({ url: 'http://127.0.0.1:3000', durationMs: 10_000, rps: 20 });
 * console.log(formatReport(report));
 */
async function runLoad(options) {
  const { url, durationMs, rps = 30, maxInFlight = 64, signal } = options;
  const base = loopbackUrl(url);
  if (!(Number.isFinite(durationMs) && durationMs > 0))
    throw new RangeError('durationMs must be > 0 and finite');
  if (!(Number.isFinite(rps) && rps > 0 && rps <= 1000)) throw new RangeError('rps must be in (0, 1000]');

  const report = {
    durationMs: 0,
    requests: 0,
    errors: 0,
    skipped: 0,
    endpoints: Object.fromEntries(ENDPOINTS.map(({ name }) => [name, { requests: 0, errors: 0 }])),
  };
  const budget = Math.ceil((durationMs / 1000) * rps);
  const inFlight = new Set();
  const started = performance.now();
  for (let tick = 0; tick < budget && !signal?.aborted; tick++) {
    const delay = started + (tick * 1000) / rps - performance.now();
    if (delay > 0) await sleep(delay, undefined, { signal }).catch(() => {});
    if (signal?.aborted) break;
    if (inFlight.size >= maxInFlight) {
      report.skipped++;
      continue;
    }
    const request = send(base, pickEndpoint(), report, signal).finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
  await Promise.all(inFlight);
  report.durationMs = Math.round(performance.now() - started);
  return report;
}

async function send(base, endpoint, report, signal) {
  const stats = report.endpoints[endpoint.name];
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  let failure;
  try {
    const response = await fetch(new URL(endpoint.path(), base), {
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    await response.arrayBuffer();
    if (!response.ok) failure = `HTTP ${response.status}`;
  } catch (error) {
    if (signal?.aborted) return;
    failure = error.cause?.code ?? error.name ?? String(error);
  }
  stats.requests++;
  report.requests++;
  if (failure) {
    stats.errors++;
    report.errors++;
    stats.lastError = failure;
  }
}

function pickEndpoint() {
  let roll = Math.random() * TOTAL_WEIGHT;
  for (const endpoint of ENDPOINTS) {
    roll -= endpoint.weight;
    if (roll < 0) return endpoint;
  }
  return ENDPOINTS[ENDPOINTS.length - 1];
}

function randomId(count) {
  return 1 + Math.floor(Math.random() * count);
}

function randomEmail() {
  return encodeURIComponent(customerEmail(randomId(SIZES.customers)));
}

/**
 * Parses `url` and checks it names this machine: a load generator must not be aimable elsewhere.
 *
 * @param {string} url
 * @returns {URL}
 */
function loopbackUrl(url) {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`load targets http(s) URLs only, not ${parsed.protocol}`);
  }
  const host = parsed.hostname;
  if (host !== 'localhost' && host !== '[::1]' && !/^127(\.\d{1,3}){3}$/.test(host)) {
    throw new Error(`load targets loopback addresses only (localhost, 127.x.x.x, [::1]), not ${host}`);
  }
  return parsed;
}

/**
 * Parses a duration: `500ms`, `30s`, `2m`, or a bare number of seconds.
 *
 * @param {string} text
 * @returns {number} milliseconds
 */
function parseDuration(text) {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${text} (expected e.g. 500ms, 30s, 2m)`);
  const unitMs = { ms: 1, s: 1000, m: 60_000 }[match[2] ?? 's'];
  return Number(match[1]) * unitMs;
}

/**
 * Renders a report as a few aligned lines, one per endpoint.
 *
 * @param {LoadReport} report
 * @returns {string}
 */
function formatReport(report) {
  const lines = [
    `${report.requests} requests in ${(report.durationMs / 1000).toFixed(1)} s, ` +
      `${report.errors} errors, ${report.skipped} skipped`,
  ];
  for (const [name, stats] of Object.entries(report.endpoints)) {
    const last = stats.lastError ? `  (last: ${stats.lastError})` : '';
    lines.push(
      `  ${name.padEnd(14)} ${String(stats.requests).padStart(6)} requests ${stats.errors} errors${last}`,
    );
  }
  return lines.join('\n');
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      duration: { type: 'string', default: '30s' },
      rps: { type: 'string', default: '30' },
    },
  });
  if (!values.url)
    throw new Error(
      'usage: node examples/shop/load.js --url http://127.0.0.1:PORT [--duration 30s] [--rps 30]',
    );
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  const report = await runLoad({
    url: values.url,
    durationMs: parseDuration(values.duration),
    rps: Number(values.rps),
    signal: controller.signal,
  });
  console.log(formatReport(report));
  if (report.errors > 0) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error.message);
    process.exitCode = 2;
  });
}

module.exports = { runLoad, parseDuration, formatReport, loopbackUrl };
