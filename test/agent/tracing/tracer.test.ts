/**
 * The agent's tracer provider against what instrumentations rely on from OpenTelemetry's
 * SDK: sampling, suppression, parents, limits, status rules, times, and the processors'
 * hooks in order.
 */
import {
  context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { suppressTracing } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpanLimits } from '../../../agent/tracing/span.js';
import { AgentTracerProvider } from '../../../agent/tracing/tracer.js';

const defaultLimits: SpanLimits = {
  attributeCountLimit: 128,
  attributeValueLengthLimit: Number.POSITIVE_INFINITY,
  eventCountLimit: 128,
  linkCountLimit: 128,
  attributePerEventCountLimit: 128,
  attributePerLinkCountLimit: 128,
};

interface Traced {
  tracer: ReturnType<AgentTracerProvider['getTracer']>;
  ended: ReadableSpan[];
  calls: string[];
}

function traced(
  options: { sampler?: Sampler; limits?: Partial<SpanLimits>; onEnding?: SpanProcessor['onEnding'] } = {},
): Traced {
  const ended: ReadableSpan[] = [];
  const calls: string[] = [];
  const provider = new AgentTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout' }),
    sampler: options.sampler,
    limits: { ...defaultLimits, ...options.limits },
    spanProcessors: [
      {
        onStart: (span) => calls.push(`start ${span.name}`),
        onEnding: (span) => {
          calls.push(`ending ${span.name}`);
          options.onEnding?.(span);
        },
        onEnd: (span) => {
          calls.push(`end ${span.name}`);
          ended.push(span);
        },
        forceFlush: async () => {},
        shutdown: async () => {},
      },
    ],
  });
  return { tracer: provider.getTracer('test', '1.0.0'), ended, calls };
}

const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
});

describe('AgentTracerProvider spans', () => {
  it('record name, kind, attributes, scope and resource, and tell the processors in order', () => {
    const { tracer, ended, calls } = traced({
      onEnding: (span) => span.setAttribute('db.operation.name', 'SELECT'),
    });
    const span = tracer.startSpan('SELECT shop', {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system.name': 'postgresql', 'db.query.text': 'SELECT 1', ignored: undefined },
    });
    span.setAttribute('db.response.returned_rows', 1);
    span.end();
    span.setAttribute('late', true);

    expect(calls).toEqual(['start SELECT shop', 'ending SELECT shop', 'end SELECT shop']);
    const [record] = ended;
    expect(record?.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.query.text': 'SELECT 1',
      'db.response.returned_rows': 1,
      'db.operation.name': 'SELECT',
    });
    expect(record?.kind).toBe(SpanKind.CLIENT);
    expect(record?.instrumentationScope).toEqual({ name: 'test', version: '1.0.0', schemaUrl: undefined });
    expect(record?.resource.attributes['service.name']).toBe('checkout');
    expect(record?.spanContext().traceFlags).toBe(TraceFlags.SAMPLED);
    expect(record?.ended).toBe(true);
  });

  it('are children of the active span, share its trace, and start a new trace when told root', () => {
    const { tracer } = traced();
    const parent = tracer.startSpan('GET /orders');
    const child = context.with(trace.setSpan(context.active(), parent), () => tracer.startSpan('SELECT'));
    const root = context.with(trace.setSpan(context.active(), parent), () =>
      tracer.startSpan('job', { root: true }),
    );

    expect(child.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect((child as unknown as ReadableSpan).parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(root.spanContext().traceId).not.toBe(parent.spanContext().traceId);
    expect((root as unknown as ReadableSpan).parentSpanContext).toBeUndefined();
  });

  it('make startActiveSpan’s span the active one inside the callback', () => {
    const { tracer } = traced();
    const active = tracer.startActiveSpan('outer', (span: Span) => {
      span.end();
      return trace.getActiveSpan();
    });
    expect(active?.spanContext().spanId).toBeDefined();
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('are not recorded when tracing is suppressed or the sampler says no', () => {
    const suppressed = traced();
    const quiet = context.with(suppressTracing(ROOT_CONTEXT), () => suppressed.tracer.startSpan('export'));
    expect(quiet.isRecording()).toBe(false);

    for (const sampler of [new AlwaysOffSampler(), new TraceIdRatioBasedSampler(0)]) {
      const off = traced({ sampler });
      const span = off.tracer.startSpan('GET /');
      expect(span.isRecording()).toBe(false);
      expect(span.spanContext().traceFlags).toBe(TraceFlags.NONE);
      span.end();
      expect(off.ended).toEqual([]);
    }
  });

  it.each([
    ['the default', undefined],
    ['OpenTelemetry’s parent-based sampler', new ParentBasedSampler({ root: new AlwaysOnSampler() })],
  ])('follow a parent’s sampling decision, local or remote, under %s', (_name, sampler) => {
    const { tracer } = traced({ sampler });
    const remote = (flags: number) =>
      trace.setSpanContext(ROOT_CONTEXT, {
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: '00f067aa0ba902b7',
        traceFlags: flags,
        isRemote: true,
      });
    expect(tracer.startSpan('GET', {}, remote(TraceFlags.SAMPLED)).isRecording()).toBe(true);
    const unsampled = tracer.startSpan('GET', {}, remote(TraceFlags.NONE));
    expect(unsampled.isRecording()).toBe(false);
    expect(unsampled.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const underUnsampled = tracer.startSpan('SELECT', {}, trace.setSpan(ROOT_CONTEXT, unsampled));
    expect(underUnsampled.isRecording()).toBe(false);
    const invalidParent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0'.repeat(32),
      spanId: '0'.repeat(16),
      traceFlags: 0,
    });
    expect(tracer.startSpan('GET', {}, invalidParent).isRecording()).toBe(true);
  });

  it('get distinct, valid ids', () => {
    const { tracer } = traced();
    const ids = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const { traceId, spanId } = tracer.startSpan('x').spanContext();
      expect(traceId).toMatch(/^[\da-f]{32}$/);
      expect(spanId).toMatch(/^[\da-f]{16}$/);
      ids.add(traceId).add(spanId);
    }
    expect(ids.size).toBe(4_000);
  });
});

describe('limits', () => {
  it('drop attributes beyond the count, cut long strings, and skip invalid values', () => {
    const { tracer, ended } = traced({ limits: { attributeCountLimit: 2, attributeValueLengthLimit: 4 } });
    const tags = ['alpha', 'be'];
    const span = tracer.startSpan('x', { attributes: { a: 'abcdefgh', b: tags } });
    tags.push('pushed later');
    span.setAttribute('c', 1);
    span.setAttribute('a', 'replaced');
    span.setAttribute('d', { nested: true } as never);
    span.end();

    expect(ended[0]?.attributes).toEqual({ a: 'repl', b: ['alph', 'be'] });
    expect(ended[0]?.droppedAttributesCount).toBe(1);
  });

  it('keep the newest events and links, counting the dropped ones', () => {
    const { tracer, ended } = traced({
      limits: { eventCountLimit: 2, linkCountLimit: 1, attributePerEventCountLimit: 1 },
    });
    const other = tracer.startSpan('other').spanContext();
    const span = tracer.startSpan('x', {
      links: [{ context: other }, { context: other, attributes: { why: 'retry' } }],
    });
    span.addEvent('one');
    span.addEvent('two', { a: 1, b: 2 });
    span.addEvent('three');
    span.end();

    const [record] = ended;
    expect(record?.events.map((event) => event.name)).toEqual(['two', 'three']);
    expect(record?.events[0]).toMatchObject({ attributes: { a: 1 }, droppedAttributesCount: 1 });
    expect(record?.droppedEventsCount).toBe(1);
    expect(record?.links).toEqual([{ context: other, attributes: { why: 'retry' } }]);
    expect(record?.droppedLinksCount).toBe(1);
  });
});

describe('status, name and end', () => {
  it('keep an ERROR’s message, let OK win for good, and ignore UNSET', () => {
    const { tracer, ended } = traced();
    const failed = tracer.startSpan('failed');
    failed.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    failed.setStatus({ code: SpanStatusCode.UNSET });
    failed.end();
    const fine = tracer.startSpan('fine');
    fine.setStatus({ code: SpanStatusCode.OK, message: 'dropped: only errors keep one' });
    fine.setStatus({ code: SpanStatusCode.ERROR, message: 'too late' });
    fine.end();

    expect(ended.map((span) => span.status)).toEqual([
      { code: SpanStatusCode.ERROR, message: 'boom' },
      { code: SpanStatusCode.OK },
    ]);
  });

  it('record exceptions as events the way the SDK does', () => {
    const { tracer, ended } = traced();
    const span = tracer.startSpan('x');
    const error = Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
    span.recordException(error);
    span.recordException('plain message');
    span.end();

    expect(ended[0]?.events.map((event) => event.attributes)).toEqual([
      {
        'exception.type': 'ECONNRESET',
        'exception.message': 'connection reset',
        'exception.stacktrace': error.stack,
      },
      { 'exception.message': 'plain message' },
    ]);
  });

  it('end once, renamed only before, with times from the wall clock and a monotonic duration', async () => {
    const { tracer, ended } = traced();
    const before = Date.now();
    const span = tracer.startSpan('GET');
    span.updateName('GET /orders/:id');
    await new Promise((resolve) => setTimeout(resolve, 30));
    span.end();
    span.end();
    span.updateName('renamed after the end');

    expect(ended).toHaveLength(1);
    const [record] = ended;
    expect(record?.name).toBe('GET /orders/:id');
    const startMs = (record?.startTime[0] ?? 0) * 1000 + (record?.startTime[1] ?? 0) / 1e6;
    expect(startMs).toBeGreaterThanOrEqual(before);
    const [seconds = 0, nanos = 0] = record?.duration ?? [];
    expect(seconds * 1000 + nanos / 1e6).toBeGreaterThanOrEqual(25);
  });

  it('take the times given, in any of the API’s forms, and never end before they start', () => {
    const { tracer, ended } = traced();
    tracer.startSpan('given', { startTime: new Date(1_700_000_000_000) }).end([1_700_000_001, 500_000_000]);
    tracer.startSpan('backwards', { startTime: 1_700_000_000_000 }).end(1_600_000_000_000);

    expect(ended.map((span) => [span.startTime, span.endTime])).toEqual([
      [
        [1_700_000_000, 0],
        [1_700_000_001, 500_000_000],
      ],
      [
        [1_700_000_000, 0],
        [1_700_000_000, 0],
      ],
    ]);
  });
});
