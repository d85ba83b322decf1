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
