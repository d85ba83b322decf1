/**
 * The agent's OTLP encoding against OpenTelemetry's own serializer: the same spans, both
 * encodings decoded by the collector's decoder, must read the same.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { type EncodedScopeSpans, encodeRequest, encodeSpan } from '../../../agent/otlp/encode.js';
import { ProtobufWriter } from '../../../agent/otlp/protobuf-writer.js';
import { decodeProtobufTraceRequest } from '../../../collector/receive/otlp-protobuf.js';
import type { SpanRecord } from '../../../model/index.js';

const resource = resourceFromAttributes({
  'service.name': 'checkout',
  'service.version': '1.4.0',
  'host.name': 'web-1',
  'process.pid': 4242,
  'process.command_args': ['node', 'server.js'],
});

/** Spans of every shape the SDK makes, ended, from two instrumentation scopes. */
function recordSpans(): ReadableSpan[] {
  const ended: ReadableSpan[] = [];
  const provider = new BasicTracerProvider({
    resource,
    spanProcessors: [
      {
        onStart() {},
        onEnd: (span) => ended.push(span),
        forceFlush: async () => {},
        shutdown: async () => {},
      },
    ],
  });
  const http = provider.getTracer('chokepoint/instrumentation-http-server', '0.1.0');
  const db = provider.getTracer('@opentelemetry/instrumentation-pg', '0.76.0', {
    schemaUrl: 'https://opentelemetry.io/schemas/1.27.0',
  });

  const remote = new W3CTraceContextPropagator().extract(
    ROOT_CONTEXT,
    {
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'vendor=opaque,other=1',
    },
    { get: (carrier, key) => carrier[key], keys: (carrier) => Object.keys(carrier) },
  );
  const request = http.startSpan('GET /orders/:id', { kind: SpanKind.SERVER }, remote);
  request.setAttributes({
    'http.request.method': 'GET',
    'http.route': '/orders/:id',
    'http.response.status_code': 200,
    'url.path': `/orders/${'7'.repeat(150)}`,
    'user_agent.original': 'café ☕ 😀',
    'chokepoint.ratio': 0.25,
    'chokepoint.big': 2 ** 40,
    'chokepoint.negative': -42,
    'chokepoint.very_negative': -(2 ** 40),
    'chokepoint.flag': false,
    'chokepoint.tags': ['a', 'b'],
    'chokepoint.codes': [200, 404],
    'chokepoint.switches': [true, false],
    'chokepoint.empty': [],
  });
  const inRequest = trace.setSpan(remote, request);
  const query = db.startSpan(
    'SELECT shop',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system.name': 'postgresql',
        'db.query.text': `SELECT * FROM orders WHERE note = 'é${'x'.repeat(300)}'`,
      },
      links: [{ context: request.spanContext(), attributes: { 'link.reason': 'batch' } }],
    },
    inRequest,
  );
  query.addEvent('rows fetched', { 'db.response.returned_rows': 3 });
  query.recordException(new TypeError('connection reset'));
  query.setStatus({ code: SpanStatusCode.ERROR, message: 'connection reset' });
  query.end();
  db.startSpan('pg.connect', { kind: SpanKind.INTERNAL }, inRequest).end();
  http.startSpan('GET', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET' } }).end();
  request.end();
  // An unsampled parent's child is not recorded: nothing to encode, as upstream.
  return ended;
}

function ourEncoding(spans: ReadableSpan[]): Uint8Array {
  const byScope = new Map<ReadableSpan['instrumentationScope'], ProtobufWriter>();
  for (const span of spans) {
    let writer = byScope.get(span.instrumentationScope);
    if (!writer) {
      writer = new ProtobufWriter(64);
      byScope.set(span.instrumentationScope, writer);
    }
    encodeSpan(writer, span);
  }
  const scopes: EncodedScopeSpans[] = [...byScope].map(([scope, writer]) => ({
    scope,
    spans: writer.bytes(),
  }));
  return encodeRequest([{ resource: { attributes: resource.attributes }, scopes }]);
}

const bySpanId = (a: SpanRecord, b: SpanRecord) => a.spanId.localeCompare(b.spanId);

describe('encodeSpan and encodeRequest', () => {
  it('read, through the collector’s decoder, exactly as OpenTelemetry’s own serializer', () => {
    const spans = recordSpans();
    expect(spans).toHaveLength(4);
    const upstream = ProtobufTraceSerializer.serializeRequest(spans);
    if (!upstream) throw new Error('otlp-transformer serialised nothing');

    const ours = decodeProtobufTraceRequest(ourEncoding(spans)).sort(bySpanId);
    const theirs = decodeProtobufTraceRequest(upstream).sort(bySpanId);
    expect(ours).toEqual(theirs);

    // What the comparison covers, spelled out: remote parent, events, links, status, every value type.
    const request = ours.find((span) => span.name === 'GET /orders/:id');
    expect(request?.parentSpanId).toBe('00f067aa0ba902b7');
    expect(request?.attributes['user_agent.original']).toBe('café ☕ 😀');
    expect(request?.attributes['chokepoint.very_negative']).toBe(-(2 ** 40));
    const query = ours.find((span) => span.name === 'SELECT shop');
    expect(query?.events.map((event) => event.name)).toEqual(['rows fetched', 'exception']);
    expect(query?.links).toHaveLength(1);
    expect(query?.statusMessage).toBe('connection reset');
    expect(query?.scopeVersion).toBe('0.76.0');
    expect(ours[0]?.resource.serviceName).toBe('checkout');
  });

  it('is smaller than OpenTelemetry’s, which spells out zero counts', () => {
    const spans = recordSpans();
    expect(ourEncoding(spans).length).toBeLessThan(
      ProtobufTraceSerializer.serializeRequest(spans)?.length ?? 0,
    );
  });
});

describe('spans under a propagated context', () => {
  it('keep the trace id and parent of the caller', () => {
    const spans: ReadableSpan[] = [];
    const provider = new BasicTracerProvider({
      spanProcessors: [
        {
          onStart() {},
          onEnd: (span) => spans.push(span),
          forceFlush: async () => {},
          shutdown: async () => {},
        },
      ],
    });
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    try {
      const parent = propagation.extract(context.active(), {
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      });
      provider.getTracer('t').startSpan('child', {}, parent).end();
    } finally {
      propagation.disable();
    }
    const [decoded] = decodeProtobufTraceRequest(ourEncoding(spans));
    expect(decoded?.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(decoded?.parentSpanId).toBe('b7ad6b7169203331');
  });
});
