/**
 * The fix for a dependency_resilience finding: stop a failing or hanging dependency from
 * holding requests. A timeout from the measured latency (successful calls' p99 with headroom),
 * retries with exponential backoff and jitter for what fails briefly, a circuit breaker (opossum)
 * so a dependency that is down fails fast, and a fallback. The settings follow the kind of
 * dependency: `AbortSignal.timeout` for fetch; `statement_timeout` and `connectionTimeoutMillis`
 * for pg; `connectTimeout` and a per-query `timeout` for mysql2; ioredis `commandTimeout` and
 * `maxRetriesPerRequest`; an amqplib confirm channel and heartbeat. Errors the server answers with
 * (an SQL error, `WRONGTYPE`) fail the same way on every retry: the advice names them to fix instead.
 * The timeout is the detector's (`advisedTimeoutMs`), so the dashboard shows the number this code sets.
 */
import type { FindingCandidate, Recommendation } from '../../model/index.js';

interface Measured {
  name: string;
  timeoutMs: number;
  /** Why that timeout, in a sentence. */
  because: string;
  rejected: number;
}

export function recommendDependencyResilience(candidate: FindingCandidate): Recommendation {
  const { evidence } = candidate;
  const name = candidate.key || String(evidence.host ?? 'api.example.com');
  const p99 = typeof evidence.successP99Ms === 'number' ? evidence.successP99Ms : undefined;
  const timeoutMs = Number(evidence.advisedTimeoutMs);
  const because =
    p99 === undefined
      ? `No call to ${name} succeeded in the window, so the timeout below (${timeoutMs} ms) is a starting point. `
      : `99% of successful calls to ${name} finished within ${p99} ms, so a ${timeoutMs} ms timeout cuts only calls that would hang. `;
  const kinds = (evidence.errorKinds ?? {}) as Record<string, number>;
  const measured: Measured = { name, timeoutMs, because, rejected: kinds.rejected ?? 0 };
  const findings = [
    `${evidence.failed} of ${evidence.calls} calls failed (${Math.round(Number(evidence.errorRate) * 100)}%)`,
    `${evidence.timeouts} timed out`,
    `${kinds.connection ?? 0} could not reach the server`,
    `${evidence.retries} were retries`,
    `${evidence.hung} hung`,
  ].join(', ');
  const summary = `${findings}; requests spent ${evidence.heldMsPerRequest} ms on them on average. ${because}`;
  const advice = ADVICE[String(evidence.dependency ?? 'http')] ?? httpAdvice;
  const system = String(evidence.system ?? '');
  const { title, detail, code } = advice(measured, system);
  return {
    summary: title,
    detail: summary + detail + rejectedAdvice(measured, evidence.failing),
    code,
    language: 'javascript',
  };
}

type Advice = (measured: Measured, system: string) => { title: string; detail: string; code: string };

/** Errors the server answered with are bugs to fix, not outages to ride out. */
function rejectedAdvice(measured: Measured, failing: unknown): string {
  if (measured.rejected === 0) return '';
  const calls = Array.isArray(failing)
    ? failing.map((entry) => `\`${(entry as { call?: unknown }).call}\``).slice(0, 3)
    : [];
  return (
    ` ${measured.rejected} failures were errors the server answered with: they fail the same way on every retry, ` +
    `so fix the call itself${calls.length > 0 ? ` (${calls.join(', ')})` : ''} and do not retry it.`
  );
}

const RETRY_WITH_JITTER = [
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
];

const BREAKER_NOTE =
  'A circuit breaker (opossum) stops calling a dependency that keeps failing and answers at once from a fallback. ';

const httpAdvice: Advice = ({ name, timeoutMs }) => ({
  title: `Guard calls to ${name}: a ${timeoutMs} ms timeout, retries with backoff and jitter, a circuit breaker`,
  detail:
    'Retry only idempotent calls, a few times, with exponential backoff and jitter so retries do not arrive ' +
    `together. ${BREAKER_NOTE}For reads whose answer may be a little stale, serve the last good response from a cache.`,
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
    ...RETRY_WITH_JITTER,
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
});

/** The breaker around a database's query function, shared by the SQL drivers' advice. */
function queryBreaker(query: string): string[] {
  return [
    '',
    ...RETRY_WITH_JITTER,
    '',
    '// Retry reads only, and only when the server was slow or unreachable (never an SQL error).',
    `const breaker = new CircuitBreaker((sql, params) => ${query}, {`,
    '  timeout: false, // the driver has its own',
    '  errorThresholdPercentage: 50,',
    '  resetTimeout: 10_000,',
    '});',
  ];
}

const databaseAdvice: Advice = ({ name, timeoutMs }, system) => {
  if (system === 'mysql' || system === 'mariadb') {
    const serverLimit =
      system === 'mariadb'
        ? `SET SESSION max_statement_time = ${timeoutMs / 1000}`
        : `SET SESSION max_execution_time = ${timeoutMs}`;
    return {
      title: `Guard statements to ${name}: a ${timeoutMs} ms query timeout, connectTimeout, a circuit breaker`,
      detail:
        `mysql2 gives each query a client-side \`timeout\` and the pool a \`connectTimeout\`; the server can stop ` +
        `statements itself (\`${serverLimit}\`${system === 'mysql' ? ', SELECT only' : ''}). ` +
        `Retry reads a few times with backoff and jitter when the server was slow or unreachable. ${BREAKER_NOTE}` +
        'For reads that may be a little stale, serve a cached copy while it is open.',
      code: [
        "const mysql = require('mysql2/promise');",
        "const CircuitBreaker = require('opossum');",
        '',
        `const TIMEOUT_MS = ${timeoutMs};`,
        'const pool = mysql.createPool({ connectTimeout: 2_000 /* , host, user, database */ });',
        ...queryBreaker('withRetries(() => pool.query({ sql, timeout: TIMEOUT_MS }, params))'),
      ].join('\n'),
    };
  }
  return {
    title: `Guard statements to ${name}: statement_timeout ${timeoutMs} ms, connectionTimeoutMillis, a circuit breaker`,
    detail:
      '`statement_timeout` makes PostgreSQL cancel a statement that runs longer (set it per role with `ALTER ROLE … SET` ' +
      'or per pool as below; a report that needs longer runs `SET LOCAL statement_timeout` in its transaction), ' +
      '`lock_timeout` stops waits on row locks, `query_timeout` bounds the wait on the client side, and ' +
      '`connectionTimeoutMillis` fails fast when the server is unreachable or the pool is exhausted. Retry reads a ' +
      `few times with backoff and jitter when the server was slow or unreachable. ${BREAKER_NOTE}` +
      'For reads that may be a little stale, serve a cached copy while it is open.',
    code: [
      "const { Pool } = require('pg');",
      "const CircuitBreaker = require('opossum');",
      '',
      'const pool = new Pool({',
      `  statement_timeout: ${timeoutMs}, // the server cancels longer statements`,
      `  lock_timeout: ${timeoutMs},`,
      `  query_timeout: ${timeoutMs + 1_000}, // the client stops waiting if the server does not answer`,
      '  connectionTimeoutMillis: 2_000,',
      '});',
      ...queryBreaker('withRetries(() => pool.query(sql, params))'),
    ].join('\n'),
  };
};

const cacheAdvice: Advice = ({ name, timeoutMs }) => ({
  title: `Guard commands to ${name}: commandTimeout ${timeoutMs} ms, maxRetriesPerRequest, the cache as optional`,
  detail:
    'ioredis waits for a command as long as the connection lives and queues commands while it reconnects, 20 ' +
    'retries per command by default: `commandTimeout` bounds each command, `maxRetriesPerRequest` and ' +
    '`enableOfflineQueue: false` make a command fail fast while the server is away, and a `retryStrategy` with ' +
    'jitter spreads the reconnections. A cache is an optimisation: on a failed read, load from the source instead ' +
    'of failing the request (node-redis: `socket: { connectTimeout, reconnectStrategy }`).',
  code: [
    "const Redis = require('ioredis');",
    '',
    'const redis = new Redis({',
    `  commandTimeout: ${timeoutMs},`,
    '  connectTimeout: 2_000,',
    '  maxRetriesPerRequest: 1,',
    '  enableOfflineQueue: false,',
    '  retryStrategy: (times) => Math.min(2 ** times * 50, 2_000) + Math.random() * 100, // backoff with jitter',
    '});',
    '',
    '// The cache is optional: a failed read falls through to the source.',
    'async function cached(key, load, ttlSeconds = 60) {',
    '  const hit = await redis.get(key).catch(() => null);',
    '  if (hit !== null) return JSON.parse(hit);',
    '  const value = await load();',
    "  redis.set(key, JSON.stringify(value), 'EX', ttlSeconds).catch(() => {});",
    '  return value;',
    '}',
  ].join('\n'),
});

const queueAdvice: Advice = ({ name, timeoutMs }) => ({
  title: `Guard publishes to ${name}: a confirm channel with a ${timeoutMs} ms wait, heartbeats, reconnection with backoff`,
  detail:
    'A confirm channel tells the publisher whether the broker took each message (a nack or a closed channel is ' +
    'a failure to handle, not a message lost in silence); bound the wait for confirms, let heartbeats detect a ' +
    'dead connection, and reconnect with backoff and jitter. While the broker is away, keep the message (an ' +
    'outbox table written in the request’s transaction, published later) instead of failing the request.',
  code: [
    "const amqp = require('amqplib');",
    '',
    `const CONFIRM_TIMEOUT_MS = ${timeoutMs};`,
    "const connection = await amqp.connect('amqp://127.0.0.1?heartbeat=30', { timeout: 2_000 });",
    'const channel = await connection.createConfirmChannel();',
    '',
    'async function publish(exchange, routingKey, body) {',
    '  channel.publish(exchange, routingKey, Buffer.from(JSON.stringify(body)), { persistent: true });',
    '  await Promise.race([',
    '    channel.waitForConfirms(),',
    "    new Promise((_, reject) => setTimeout(() => reject(new Error('no confirm')), CONFIRM_TIMEOUT_MS)),",
    '  ]);',
    '}',
  ].join('\n'),
});

const ADVICE: Record<string, Advice> = {
  http: httpAdvice,
  database: databaseAdvice,
  cache: cacheAdvice,
  queue: queueAdvice,
};
