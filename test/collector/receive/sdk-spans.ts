/**
 * Real spans from the OpenTelemetry SDK, and the `SpanRecord` each must decode to.
 * Serialising them with otlp-transformer gives the exact bytes the agent's exporter sends.
 */
import { type Attributes, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { expect } from 'vitest';
import type { AttributeValue, SpanRecord } from '../../../model/index.js';

/**
 * Values the SDK's attribute API refuses but OTLP's AnyValue carries (bytes, kvlists,
 * nested and mixed arrays, empty values). The serialisers encode whatever a span holds,
 * so one span is given them to cover every AnyValue member.
 */
const ANY_VALUE_ATTRIBUTES = {
  'payload.bytes': Uint8Array.of(0x00, 0x7f, 0x80, 0xff),
  'payload.map': { retries: 3, ratio: 0.25, ok: true, label: 'naïve', nested: { tags: ['a', 'b'] } },
  'payload.matrix': [
    [1, 2],
    [3, 4],
  ],
  'payload.mixed': ['one', 2, 2.5, false, null],
  'payload.empty': null,
} as unknown as Attributes;

/** Spans from two resources (one without `service.name`) and three scopes. */
export function recordSdkSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const checkout = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'checkout',
      'service.version': '1.4.2',
      'deployment.environment.name': 'test',
      'host.cpu.count': 2,
    }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const worker = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'host.name': 'worker-1' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const httpTracer = checkout.getTracer('@opentelemetry/instrumentation-http', '0.223.0');
  const pgTracer = checkout.getTracer('@opentelemetry/instrumentation-pg', '0.60.0');
  const jobTracer = worker.getTracer('jobs');

  const server = httpTracer.startSpan(
    'GET /orders/:id',
    {
      kind: SpanKind.SERVER,
      startTime: [1_700_000_000, 123_456_789],
      attributes: {
        'http.request.method': 'GET',
        'http.route': '/orders/:id',
        'http.response.status_code': 200,
        'server.port': 8080,
        'chokepoint.sample.ratio': 0.125,
        'chokepoint.sampled': true,
        'chokepoint.negative': -42,
        'chokepoint.large': 2 ** 53 - 1,
        'chokepoint.unicode': 'Grüße, 世界 🚀',
        'chokepoint.empty': '',
        'http.request.header.accept': ['application/json', 'text/html'],
        'chokepoint.ports': [80, 443],
        'chokepoint.flags': [true, false],
      },
    },
    ROOT_CONTEXT,
  );
  const serverContext = trace.setSpan(ROOT_CONTEXT, server);

  const query = pgTracer.startSpan(
    'SELECT orders',
    {
      kind: SpanKind.CLIENT,
      startTime: [1_700_000_000, 200_000_001],
      attributes: { 'db.system.name': 'postgresql', 'db.query.text': 'SELECT * FROM orders WHERE id = $1' },
    },
    serverContext,
  );
  query.addEvent(
    'exception',
    { 'exception.type': 'DatabaseError', 'exception.escaped': false },
    [1_700_000_000, 250_000_000],
  );
  query.addEvent('retry', [1_700_000_000, 260_000_000]);
  query.setStatus({ code: SpanStatusCode.ERROR, message: 'relation "orders" does not exist' });
  query.end([1_700_000_000, 300_999_999]);

  const publish = httpTracer.startSpan('orders publish', { kind: SpanKind.PRODUCER }, serverContext);
  publish.end();

  server.setStatus({ code: SpanStatusCode.OK });
  server.end([1_700_000_000, 400_000_000]);

  const job = jobTracer.startSpan(
    'process order',
    {
      kind: SpanKind.CONSUMER,
      links: [
        { context: server.spanContext(), attributes: { 'messaging.operation.type': 'process' } },
        { context: query.spanContext() },
      ],
    },
    ROOT_CONTEXT,
  );
  const step = jobTracer.startSpan(
    'load order',
    { kind: SpanKind.INTERNAL },
    trace.setSpan(ROOT_CONTEXT, job),
  );
  step.end();
  job.end();

  const spans = exporter.getFinishedSpans();
  const serverIndex = spans.findIndex((span) => span.name === 'GET /orders/:id');
  spans[serverIndex] = withAttributes(spans[serverIndex] as ReadableSpan, ANY_VALUE_ATTRIBUTES);
  return spans;
}

/** A copy of `span` with extra attributes, keeping every other field the SDK recorded. */
function withAttributes(span: ReadableSpan, extra: Attributes): ReadableSpan {
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status,
    attributes: { ...span.attributes, ...extra },
    links: span.links,
    events: span.events,
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/**
 * The record `span` must decode to. Times are compared to a microsecond's thousandth:
 * a double holding epoch milliseconds cannot keep every nanosecond.
 */
export function expectedRecord(span: ReadableSpan): SpanRecord {
  const resourceAttributes = expectedAttributes(span.resource.attributes);
  const serviceName = resourceAttributes['service.name'];
  const serviceVersion = resourceAttributes['service.version'];
  return {
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? '',
    name: span.name,
    kind: (span.kind + 1) as SpanRecord['kind'],
    startTimeMs: closeToMs(span.startTime),
    endTimeMs: closeToMs(span.endTime),
    attributes: expectedAttributes(span.attributes),
    statusCode: span.status.code,
    statusMessage: span.status.message ?? '',
    events: span.events.map((event) => ({
      name: event.name,
      timeMs: closeToMs(event.time),
      attributes: expectedAttributes(event.attributes ?? {}),
    })),
    links: span.links.map((link) => ({
      traceId: link.context.traceId,
      spanId: link.context.spanId,
      attributes: expectedAttributes(link.attributes ?? {}),
    })),
    resource: {
      serviceName: typeof serviceName === 'string' ? serviceName : 'unknown_service',
      ...(typeof serviceVersion === 'string' ? { serviceVersion } : {}),
      attributes: resourceAttributes,
    },
    scopeName: span.instrumentationScope.name,
    scopeVersion: span.instrumentationScope.version ?? '',
  };
}

function closeToMs([seconds, nanos]: [number, number]): number {
  return expect.closeTo(seconds * 1000 + nanos / 1e6, 3);
}

function expectedAttributes(attributes: object): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(attributes).map(([key, value]) => [key, expectedValue(value)]));
}

function expectedValue(value: unknown): AttributeValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (Array.isArray(value)) return value.map(expectedValue);
  if (typeof value === 'object') return expectedAttributes(value);
  return value as AttributeValue;
}

/** Decoded spans keyed by span id: encoders group by resource and scope, so order differs. */
export function bySpanId(records: SpanRecord[]): Map<string, SpanRecord> {
  return new Map(records.map((record) => [record.spanId, record]));
}
