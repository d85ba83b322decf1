/**
 * Builders for OTLP/HTTP JSON trace exports (`ExportTraceServiceRequest`), for tests that
 * feed a real collector without running an instrumented app. They follow the OTLP/JSON
 * encoding: ids are lowercase hex, times are nanosecond strings, int64 values are strings.
 * Attribute names follow the stable OTel semantic conventions.
 *
 * @example
 * const spans = nPlusOneTrace({ route: '/orders', statement: 'SELECT * FROM items WHERE order_id = 7', repeats: 8 });
 * await postTraces(collector.otlpUrl, exportRequest('shop', spans));
 */
import { randomBytes } from 'node:crypto';
import type { RuntimeSample } from '../../model/runtime.js';
import { SpanKind, StatusCode } from '../../model/span.js';

export type OtlpAnyValue =
  | { stringValue: string }
  | { intValue: string }
  | { doubleValue: number }
  | { boolValue: boolean }
  | { arrayValue: { values: OtlpAnyValue[] } };

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: SpanKind;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpKeyValue[];
  status: { code: StatusCode; message?: string };
}

export interface ExportTraceServiceRequest {
  resourceSpans: Array<{
    resource: { attributes: OtlpKeyValue[] };
    scopeSpans: Array<{ scope: { name: string; version: string }; spans: OtlpSpan[] }>;
  }>;
}

export type AttributeInput = string | number | boolean | string[];

export interface SpanInput {
  traceId: string;
  spanId?: string;
  /** Omitted or `''` for a root span. */
  parentSpanId?: string;
  name: string;
  kind?: SpanKind;
  /** Unix epoch milliseconds; defaults to now. */
  startMs?: number;
  durationMs: number;
  attributes?: Record<string, AttributeInput>;
  error?: boolean;
}

export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}

export function newSpanId(): string {
  return randomBytes(8).toString('hex');
}

/** Attributes as OTLP key/values: integers become `intValue` strings, as OTLP/JSON encodes int64. */
export function otlpAttributes(attributes: Record<string, AttributeInput>): OtlpKeyValue[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: otlpValue(value) }));
}

export function otlpSpan(input: SpanInput): OtlpSpan {
  const startMs = input.startMs ?? Date.now();
  return {
    traceId: input.traceId,
    spanId: input.spanId ?? newSpanId(),
    parentSpanId: input.parentSpanId ?? '',
    name: input.name,
    kind: input.kind ?? SpanKind.INTERNAL,
    startTimeUnixNano: unixNano(startMs),
    endTimeUnixNano: unixNano(startMs + input.durationMs),
    attributes: otlpAttributes(input.attributes ?? {}),
    status: input.error ? { code: StatusCode.ERROR, message: 'failed' } : { code: StatusCode.UNSET },
  };
}

/** An inbound HTTP request, as the http instrumentation records it (a SERVER span). */
export function httpServerSpan(
  input: Omit<SpanInput, 'name' | 'kind'> & { route: string; method?: string; statusCode?: number },
): OtlpSpan {
  const method = input.method ?? 'GET';
  return otlpSpan({
    ...input,
    name: `${method} ${input.route}`,
    kind: SpanKind.SERVER,
    attributes: {
      'http.request.method': method,
      'http.route': input.route,
      'http.response.status_code': input.statusCode ?? 200,
      ...input.attributes,
    },
  });
}

/** A database statement, as the pg/mysql2 instrumentations record it (a CLIENT span). */
export function dbQuerySpan(
  input: Omit<SpanInput, 'name' | 'kind'> & { statement: string; system?: string; namespace?: string },
): OtlpSpan {
  const system = input.system ?? 'postgresql';
  const operation = input.statement.trim().split(/\s+/, 1)[0]?.toUpperCase() ?? 'QUERY';
  return otlpSpan({
    ...input,
    name: `${operation} ${input.namespace ?? 'test'}`,
    kind: SpanKind.CLIENT,
    attributes: {
      'db.system.name': system,
      'db.namespace': input.namespace ?? 'test',
      'db.query.text': input.statement,
      ...input.attributes,
    },
  });
}

/**
 * One request whose handler runs one statement, taking `queryMs` of its `durationMs`.
 *
 * @example
 * slowQueryTrace({ route: '/orders/:id', statement: 'SELECT * FROM orders WHERE id = 1', queryMs: 180 });
 */
export function slowQueryTrace(options: {
  route: string;
  statement: string;
  queryMs: number;
  method?: string;
  system?: string;
  startMs?: number;
}): OtlpSpan[] {
  const traceId = newTraceId();
  const startMs = options.startMs ?? Date.now() - options.queryMs - 10;
  const request = httpServerSpan({
    traceId,
    route: options.route,
    method: options.method,
    startMs,
    durationMs: options.queryMs + 5,
  });
  const query = dbQuerySpan({
    traceId,
    parentSpanId: request.spanId,
    statement: options.statement,
    system: options.system,
    startMs: startMs + 2,
    durationMs: options.queryMs,
  });
  return [request, query];
}

/**
 * One request whose handler runs a statement `repeats` times, one after the other (N+1).
 * `statement` may be a function of the repeat index, to vary literals as a real loop does.
 */
export function nPlusOneTrace(options: {
  route: string;
  statement: string | ((index: number) => string);
  repeats: number;
  queryMs?: number;
  method?: string;
  system?: string;
  startMs?: number;
}): OtlpSpan[] {
  const traceId = newTraceId();
  const queryMs = options.queryMs ?? 3;
  const durationMs = options.repeats * (queryMs + 1) + 5;
  const startMs = options.startMs ?? Date.now() - durationMs - 10;
  const request = httpServerSpan({
    traceId,
    route: options.route,
    method: options.method,
    startMs,
    durationMs,
  });
  const queries = Array.from({ length: options.repeats }, (_, index) =>
    dbQuerySpan({
      traceId,
      parentSpanId: request.spanId,
      statement: typeof options.statement === 'function' ? options.statement(index) : options.statement,
      system: options.system,
      startMs: startMs + 2 + index * (queryMs + 1),
      durationMs: queryMs,
    }),
  );
  return [request, ...queries];
}

/** A Redis command, as the agent's ioredis/node-redis hooks record it (a CLIENT span). */
export function cacheCommandSpan(
  input: Omit<SpanInput, 'name' | 'kind'> & { statement: string; hit?: boolean; ttlSeconds?: number },
): OtlpSpan {
  const command = input.statement.trim().split(/\s+/, 1)[0]?.toUpperCase() ?? 'GET';
  return otlpSpan({
    ...input,
    name: command.toLowerCase(),
    kind: SpanKind.CLIENT,
    attributes: {
      'db.system.name': 'redis',
      'db.query.text': input.statement,
      'db.operation.name': command,
      ...(input.hit === undefined ? {} : { 'chokepoint.cache.hit': input.hit }),
      ...(input.ttlSeconds === undefined ? {} : { 'chokepoint.cache.ttl_seconds': input.ttlSeconds }),
      ...input.attributes,
    },
  });
}

/**
 * One request reading `key` through cache-aside: `GET key`, and on a miss the statement,
 * then `SET key … EX ttlSeconds`.
 *
 * @example
 * cacheAsideTrace({ route: '/products/:id', key: 'product:42', hit: false, statement: 'SELECT * FROM products WHERE id = 42' });
 */
export function cacheAsideTrace(options: {
  route: string;
  key: string;
  hit: boolean;
  statement: string;
  queryMs?: number;
  ttlSeconds?: number;
  startMs?: number;
}): OtlpSpan[] {
  const traceId = newTraceId();
  const queryMs = options.queryMs ?? 20;
  const durationMs = options.hit ? 4 : queryMs + 8;
  const startMs = options.startMs ?? Date.now() - durationMs - 10;
  const request = httpServerSpan({ traceId, route: options.route, startMs, durationMs });
  const child = { traceId, parentSpanId: request.spanId };
  const get = cacheCommandSpan({
    ...child,
    statement: `GET ${options.key}`,
    hit: options.hit,
    startMs: startMs + 1,
    durationMs: 1,
  });
  if (options.hit) return [request, get];
  return [
    request,
    get,
    dbQuerySpan({ ...child, statement: options.statement, startMs: startMs + 3, durationMs: queryMs }),
    cacheCommandSpan({
      ...child,
      statement: `SET ${options.key} ? EX ${options.ttlSeconds ?? 5}`,
      ttlSeconds: options.ttlSeconds ?? 5,
      startMs: startMs + queryMs + 4,
      durationMs: 1,
    }),
  ];
}

/** An outbound HTTP call, as the http and undici instrumentations record it (a CLIENT span). */
export function httpClientSpan(
  input: Omit<SpanInput, 'name' | 'kind'> & { url: string; method?: string; statusCode?: number },
): OtlpSpan {
  const method = input.method ?? 'GET';
  const url = new URL(input.url);
  return otlpSpan({
    ...input,
    name: method,
    kind: SpanKind.CLIENT,
    attributes: {
      'http.request.method': method,
      'url.full': input.url,
      'server.address': url.hostname,
      'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      'http.response.status_code': input.statusCode ?? 200,
      ...input.attributes,
    },
  });
}

/**
 * One request calling an HTTP service `repeats` times, one call after the other (HTTP N+1).
 *
 * @example
 * httpFanOutTrace({ route: '/orders', url: (index) => `http://users.internal:8080/users/${index}`, repeats: 6 });
 */
export function httpFanOutTrace(options: {
  route: string;
  url: (index: number) => string;
  repeats: number;
  callMs?: number;
  startMs?: number;
}): OtlpSpan[] {
  const traceId = newTraceId();
  const callMs = options.callMs ?? 12;
  const durationMs = options.repeats * (callMs + 1) + 5;
  const startMs = options.startMs ?? Date.now() - durationMs - 10;
  const request = httpServerSpan({ traceId, route: options.route, startMs, durationMs });
  const calls = Array.from({ length: options.repeats }, (_, index) =>
    httpClientSpan({
      traceId,
      parentSpanId: request.spanId,
      url: options.url(index),
      startMs: startMs + 2 + index * (callMs + 1),
      durationMs: callMs,
    }),
  );
  return [request, ...calls];
}

/**
 * A request publishing a message to a RabbitMQ queue (default exchange) and its consumer,
 * which starts `lagMs` after the publish — both in one trace, as amqplib's instrumentation
 * links them, the consumer carrying the publish time the agent stamps.
 */
export function queueTrace(options: {
  route: string;
  queue: string;
  lagMs: number;
  processingMs?: number;
  startMs?: number;
}): OtlpSpan[] {
  const traceId = newTraceId();
  const processingMs = options.processingMs ?? 30;
  const startMs = options.startMs ?? Date.now() - options.lagMs - processingMs - 20;
  const request = httpServerSpan({ traceId, route: options.route, method: 'POST', startMs, durationMs: 6 });
  const messaging = {
    'messaging.system': 'rabbitmq',
    'messaging.destination.name': '',
    'messaging.rabbitmq.destination.routing_key': options.queue,
  };
  const publishMs = startMs + 2;
  const publish = otlpSpan({
    traceId,
    parentSpanId: request.spanId,
    name: 'publish',
    kind: SpanKind.PRODUCER,
    startMs: publishMs,
    durationMs: 1,
    attributes: { ...messaging, 'messaging.operation.type': 'send' },
  });
  const consume = otlpSpan({
    traceId,
    parentSpanId: publish.spanId,
    name: `${options.queue} process`,
    kind: SpanKind.CONSUMER,
    startMs: publishMs + options.lagMs,
    durationMs: processingMs,
    attributes: {
      ...messaging,
      'messaging.operation.type': 'process',
      'chokepoint.messaging.publish_time_ms': publishMs,
    },
  });
  return [request, publish, consume];
}

/**
 * A request that acquires a database connection, then runs one statement: from a pool (a
 * `pg-pool.connect` checkout of `waitMs`, as instrumentation-pg records it, with a `pg.connect`
 * nested at its end when the pool opens a connection for `openMs`), or, with `pooled: false`,
 * by opening its own (`new Client()` + `connect()`: a `pg.connect` of `openMs`).
 *
 * @example
 * connectionTrace({ route: '/orders', waitMs: 60, queryMs: 20 }); // 60 ms queued behind busy connections
 * connectionTrace({ route: '/report', pooled: false, openMs: 25, queryMs: 10 }); // a connection per request
 */
export function connectionTrace(options: {
  route: string;
  queryMs: number;
  waitMs?: number;
  openMs?: number;
  pooled?: boolean;
  statement?: string;
  startMs?: number;
}): OtlpSpan[] {
  const traceId = newTraceId();
  const pooled = options.pooled ?? true;
  const acquireMs = pooled ? (options.waitMs ?? 0) : (options.openMs ?? 0);
  const durationMs = acquireMs + options.queryMs + 10;
  const startMs = options.startMs ?? Date.now() - durationMs - 10;
  const request = httpServerSpan({ traceId, route: options.route, startMs, durationMs });
  const postgres = { 'db.system.name': 'postgresql', 'server.address': '127.0.0.1', 'server.port': 5432 };
  const open = (parentSpanId: string, openMs: number) =>
    otlpSpan({
      traceId,
      parentSpanId,
      name: 'pg.connect',
      kind: SpanKind.CLIENT,
      startMs: startMs + 2 + acquireMs - openMs,
      durationMs: openMs,
      attributes: postgres,
    });
  const connection: OtlpSpan[] = [];
  if (pooled) {
    const checkout = otlpSpan({
      traceId,
      parentSpanId: request.spanId,
      name: 'pg-pool.connect',
      startMs: startMs + 2,
      durationMs: acquireMs,
      attributes: postgres,
    });
    connection.push(checkout);
    if (options.openMs !== undefined) connection.push(open(checkout.spanId, options.openMs));
  } else connection.push(open(request.spanId, acquireMs));
  const statement = dbQuerySpan({
    traceId,
    parentSpanId: request.spanId,
    statement: options.statement ?? 'SELECT * FROM orders WHERE id = 42',
    startMs: startMs + 3 + acquireMs,
    durationMs: options.queryMs,
    attributes: { 'server.address': '127.0.0.1', 'server.port': 5432 },
  });
  return [request, ...connection, statement];
}

/**
 * A request making outbound HTTP calls one after the other: a call that fails answers
 * `statusCode` (a 5xx) or, with `error` and no status, never answers (a timeout or a refused
 * connection).
 *
 * @example
 * outboundCallsTrace({ route: '/checkout', calls: [{ url: 'http://payments.internal/charges/7', durationMs: 40, statusCode: 503 }] });
 */
export function outboundCallsTrace(options: {
  route: string;
  method?: string;
  calls: Array<{ url: string; method?: string; durationMs: number; statusCode?: number; error?: boolean }>;
  /** The request's own time after its calls. */
  afterMs?: number;
  startMs?: number;
}): OtlpSpan[] {
  const traceId = newTraceId();
  const durationMs =
    options.calls.reduce((sum, call) => sum + call.durationMs + 1, 2) + (options.afterMs ?? 2);
  const startMs = options.startMs ?? Date.now() - durationMs - 10;
  const request = httpServerSpan({
    traceId,
    route: options.route,
    method: options.method,
    startMs,
    durationMs,
  });
  let at = startMs + 2;
  const calls = options.calls.map((call) => {
    const span = httpClientSpan({
      traceId,
      parentSpanId: request.spanId,
      url: call.url,
      method: call.method,
      startMs: at,
      durationMs: call.durationMs,
      statusCode: call.statusCode,
      error: call.error,
    });
    if (call.error && call.statusCode === undefined) {
      span.attributes = span.attributes.filter((attribute) => attribute.key !== 'http.response.status_code');
    }
    at += call.durationMs + 1;
    return span;
  });
  return [request, ...calls];
}

/** A runtime sample as the agent sends it every interval: an idle loop unless told otherwise. */
export function runtimeSample(
  fields: Partial<RuntimeSample> & { service: string; timeMs: number },
): RuntimeSample {
  return {
    instanceId: `${fields.service}-host:4242`,
    intervalMs: 10_000,
    eventLoopLag: { minMs: 9.8, meanMs: 10.3, p50Ms: 10.2, p90Ms: 10.5, p99Ms: 10.9, maxMs: 11.4 },
    gc: { count: 6, pauseMs: 9, maxPauseMs: 3, byKind: { minor: { count: 6, pauseMs: 9 } } },
    memory: {
      rssBytes: 180 * 2 ** 20,
      heapUsedBytes: 60 * 2 ** 20,
      heapTotalBytes: 90 * 2 ** 20,
      externalBytes: 2 ** 20,
    },
    cpu: { userMs: 900, systemMs: 120 },
    ...fields,
  };
}

/** POSTs runtime samples as JSON to `<otlpUrl>/v1/runtime`; throws unless the collector accepts them. */
export async function postRuntime(otlpUrl: string, samples: RuntimeSample[]): Promise<void> {
  const response = await fetch(`${otlpUrl}/v1/runtime`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ samples }),
  });
  if (!response.ok) throw new Error(`POST /v1/runtime answered ${response.status}: ${await response.text()}`);
}

/** Wraps spans from one service into an export request. */
export function exportRequest(
  serviceName: string,
  spans: OtlpSpan[],
  resourceAttributes: Record<string, AttributeInput> = {},
): ExportTraceServiceRequest {
  return {
    resourceSpans: [
      {
        resource: { attributes: otlpAttributes({ 'service.name': serviceName, ...resourceAttributes }) },
        scopeSpans: [{ scope: { name: 'chokepoint-test-fixtures', version: '1.0.0' }, spans }],
      },
    ],
  };
}

/** POSTs an export request as OTLP/HTTP JSON to `<otlpUrl>/v1/traces`; throws unless the collector accepts it. */
export async function postTraces(otlpUrl: string, request: ExportTraceServiceRequest): Promise<void> {
  const response = await fetch(`${otlpUrl}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  if (!response.ok) throw new Error(`POST /v1/traces answered ${response.status}: ${await response.text()}`);
}

function otlpValue(value: AttributeInput): OtlpAnyValue {
  if (Array.isArray(value)) return { arrayValue: { values: value.map((item) => ({ stringValue: item })) } };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
}

/** Epoch ms (fractional) as an exact nanosecond string: multiplying by 1e6 in floating point would round. */
function unixNano(ms: number): string {
  const whole = Math.floor(ms);
  return (BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6))).toString();
}
