/**
 * Demo-like traffic for the metrics suites, built with the OTLP fixture builders: a slow
 * query, an N+1 loop, cache hits and misses, a queue message with lag, failures, requests
 * waiting for a pool connection (one opening a new connection), a payments dependency that
 * answers 503 then succeeds on the retry, and runtime samples from two app instances. Secrets are planted where real apps leak them (SQL
 * literals, cache keys, URLs) so tests can check none reaches `/metrics`.
 *
 * @example
 * for (const request of demoTraffic()) await postTraces(collector.otlpUrl, request);
 * collector.pipeline.ingestRuntime(runtimeSamples(Date.now()));
 */

import type { RuntimeSample } from '../../model/index.js';
import { SpanKind } from '../../model/span.js';
import {
  connectionTrace,
  dbQuerySpan,
  type ExportTraceServiceRequest,
  exportRequest,
  httpServerSpan,
  newTraceId,
  nPlusOneTrace,
  otlpSpan,
  outboundCallsTrace,
  slowQueryTrace,
} from '../support/otlp-fixtures.js';

export const PLANTED = {
  email: 'ann.secret@example.com',
  token: '5f0c2d1e-9b7a-4c3e-8f21-6d4b3a2c1e0f',
  userId: '987654321',
  card: '4111111111111111',
} as const;

/** One round of traffic from the `shop` service and its `worker`, ending now. */
export function demoTraffic(): ExportTraceServiceRequest[] {
  const now = Date.now();
  const startMs = now - 400;
  const shop = [
    ...slowQueryTrace({
      route: '/orders/:id',
      statement: `SELECT * FROM orders WHERE customer_email = '${PLANTED.email}' AND card = '${PLANTED.card}'`,
      queryMs: 180,
      startMs,
    }),
    ...nPlusOneTrace({
      route: '/orders',
      statement: (index) => `SELECT sku FROM order_items WHERE order_id = ${Number(PLANTED.userId) + index}`,
      repeats: 8,
      startMs,
    }),
    ...cacheTrace(startMs),
    ...failingTrace(startMs),
    ...poolTraces(startMs),
    ...paymentTrace(startMs),
  ];
  const { publish, consume } = queueSpans(startMs);
  return [exportRequest('shop', [...shop, ...publish]), exportRequest('worker', consume)];
}

/** A product page that reads its cache: a hit, a miss, and a multi-key read of both. */
function cacheTrace(startMs: number) {
  const traceId = newTraceId();
  const request = httpServerSpan({ traceId, route: '/products/:id', startMs, durationMs: 20 });
  const redis = (statement: string, attributes: Record<string, number | boolean>, offset: number) =>
    otlpSpan({
      traceId,
      parentSpanId: request.spanId,
      name: statement.split(' ')[0] as string,
      kind: SpanKind.CLIENT,
      startMs: startMs + offset,
      durationMs: 0.4,
      attributes: { 'db.system.name': 'redis', 'db.query.text': statement, ...attributes },
    });
  return [
    request,
    redis(`GET session:${PLANTED.token}`, { 'chokepoint.cache.hit': true }, 1),
    redis(`GET user:${PLANTED.userId}:profile`, { 'chokepoint.cache.hit': false }, 2),
    redis(
      `MGET user:${PLANTED.userId}:profile user:${Number(PLANTED.userId) + 1}:profile`,
      { 'chokepoint.cache.hits': 1, 'chokepoint.cache.misses': 1 },
      3,
    ),
    redis(`SET user:${PLANTED.userId}:profile ${PLANTED.email} EX 60`, {}, 4),
  ];
}

/** A checkout that fails: its statement errors and the request answers 500. */
function failingTrace(startMs: number) {
  const traceId = newTraceId();
  const request = httpServerSpan({
    traceId,
    route: `/checkout/${PLANTED.userId}`,
    method: 'POST',
    statusCode: 500,
    startMs,
    durationMs: 30,
  });
  const statement = dbQuerySpan({
    traceId,
    parentSpanId: request.spanId,
    statement: `UPDATE carts SET status = 'paid' WHERE user_id = ${PLANTED.userId}`,
    startMs: startMs + 1,
    durationMs: 12,
    error: true,
  });
  return [request, statement];
}

/** Two carts queued behind busy pool connections; the second checkout also opens a new connection. */
function poolTraces(startMs: number) {
  // The N+1's statement: no new fingerprint, so the statement series stay as they are.
  const statement = `SELECT sku FROM order_items WHERE order_id = ${PLANTED.userId}`;
  return [
    ...connectionTrace({ route: '/cart', waitMs: 40, queryMs: 10, statement, startMs }),
    ...connectionTrace({
      route: '/cart',
      waitMs: 40,
      openMs: 8,
      queryMs: 10,
      statement,
      startMs: startMs + 60,
    }),
  ];
}

/** A payment whose charge fails with a 503 (an error, as the client instrumentation marks it), then succeeds. */
function paymentTrace(startMs: number) {
  const url = `https://payments.internal:8443/charges/${PLANTED.card}?token=${PLANTED.token}`;
  return outboundCallsTrace({
    route: '/pay',
    method: 'POST',
    calls: [
      { url, method: 'POST', durationMs: 30, statusCode: 503, error: true },
      { url, method: 'POST', durationMs: 20 },
    ],
    startMs,
  });
}

/** `shop` publishes an order message; `worker` consumes it 1.5 s after it was published. */
function queueSpans(startMs: number) {
  const traceId = newTraceId();
  const messaging = { 'messaging.system': 'rabbitmq', 'messaging.destination.name': 'orders' };
  const publish = otlpSpan({
    traceId,
    name: 'orders publish',
    kind: SpanKind.PRODUCER,
    startMs: startMs - 1_500,
    durationMs: 1,
    attributes: { ...messaging, 'messaging.operation.type': 'send', 'messaging.message.id': PLANTED.token },
  });
  const consume = otlpSpan({
    traceId,
    parentSpanId: publish.spanId,
    name: 'orders process',
    kind: SpanKind.CONSUMER,
    startMs,
    durationMs: 8,
    attributes: {
      ...messaging,
      'messaging.operation.type': 'process',
      'chokepoint.messaging.publish_time_ms': startMs - 1_500,
    },
  });
  return { publish: [publish], consume: [consume] };
}

/** One interval's runtime samples from two instances of `shop`. */
export function runtimeSamples(timeMs: number): RuntimeSample[] {
  return ['shop-1:101', 'shop-2:202'].map((instanceId, index) => ({
    service: 'shop',
    instanceId,
    timeMs,
    intervalMs: 500,
    eventLoopLag: {
      minMs: 0.5,
      meanMs: 2,
      p50Ms: 1.5,
      p90Ms: 6,
      p99Ms: 20 + index * 30,
      maxMs: 80 + index * 40,
    },
    gc: { count: 2, pauseMs: 3 + index, maxPauseMs: 2, byKind: { minor: { count: 2, pauseMs: 3 + index } } },
    memory: {
      rssBytes: 120e6 + index * 10e6,
      heapUsedBytes: 40e6 + index * 5e6,
      heapTotalBytes: 60e6,
      externalBytes: 2e6,
    },
    cpu: { userMs: 120, systemMs: 30 },
  }));
}

/** A request the receiver must refuse (400), so the rejection series has data. */
export async function postMalformed(otlpUrl: string): Promise<number> {
  const response = await fetch(`${otlpUrl}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"resourceSpans": [',
  });
  await response.arrayBuffer();
  return response.status;
}
