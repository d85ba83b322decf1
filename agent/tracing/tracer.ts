/**
 * The agent's tracer provider: OpenTelemetry's tracing API implemented for one purpose,
 * recording spans cheaply for the span processors (scrubbing, `db.operation.name`, the
 * export). It follows the SDK's tracer where an instrumentation can tell (sampling through
 * an SDK `Sampler`, suppressed tracing, root spans, links, non-recording spans for sampled-
 * out operations) and leaves out what costs every span without serving Chokepoint: span
 * metrics, attribute sanitising twice over, anchored clocks.
 *
 * Span and trace ids come from a pool of random bytes (`crypto.randomFillSync`), hex-encoded
 * a few hundred ids at a time instead of one `Buffer#toString` call each.
 */
import { randomFillSync } from 'node:crypto';
import {
  type Context,
  context,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  type Link,
  type Span,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  TraceFlags,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { type InstrumentationScope, isTracingSuppressed } from '@opentelemetry/core';
import {
  type Sampler,
  SamplingDecision,
  type SamplingResult,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { RecordingSpan, type SpanLimits, type SpanOwner } from './span.js';

const POOL_BYTES = 4096;
const ZERO_SPAN_ID = '0'.repeat(16);
const ZERO_TRACE_ID = '0'.repeat(32);
let idPool = '';
let idOffset = 0;

/** `length` random hex characters, never all zeros (an invalid id). */
function randomHex(length: number): string {
  for (;;) {
    if (idOffset + length > idPool.length) {
      idPool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES)).toString('hex');
      idOffset = 0;
    }
    const id = idPool.slice(idOffset, idOffset + length);
    idOffset += length;
    if (id !== ZERO_SPAN_ID && id !== ZERO_TRACE_ID) return id;
  }
}

export interface AgentTracerProviderOptions {
  resource: RecordingSpan['resource'];
  /** Default: the parent's decision, else sampled (OpenTelemetry's `parentbased_always_on`), decided without a sampler call. */
  sampler?: Sampler;
  limits: SpanLimits;
  spanProcessors: SpanProcessor[];
}

/**
 * @example
 * const provider = new AgentTracerProvider({ resource, sampler, limits, spanProcessors });
 * trace.setGlobalTracerProvider(provider);
 */
export class AgentTracerProvider implements TracerProvider, SpanOwner {
  readonly resource: RecordingSpan['resource'];
  readonly limits: SpanLimits;
  private readonly sampler: Sampler | undefined;
  private readonly processors: SpanProcessor[];
  private readonly tracers = new Map<string, AgentTracer>();

  constructor({ resource, sampler, limits, spanProcessors }: AgentTracerProviderOptions) {
    this.resource = resource;
    this.sampler = sampler;
    this.limits = limits;
    this.processors = spanProcessors;
  }

  getTracer(name: string, version?: string, options?: { schemaUrl?: string }): Tracer {
    const key = `${name}@${version ?? ''}:${options?.schemaUrl ?? ''}`;
    let tracer = this.tracers.get(key);
    if (tracer === undefined) {
      tracer = new AgentTracer(this, { name, version, schemaUrl: options?.schemaUrl }, this.sampler);
      this.tracers.set(key, tracer);
    }
    return tracer;
  }

  onStarting(span: RecordingSpan, parentContext: Context): void {
    for (const processor of this.processors) processor.onStart(span, parentContext);
  }

  onEnding(span: RecordingSpan): void {
    for (const processor of this.processors) processor.onEnding?.(span);
  }

  onEnded(span: RecordingSpan): void {
    for (const processor of this.processors) processor.onEnd(span);
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.processors.map((processor) => processor.forceFlush()));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.processors.map((processor) => processor.shutdown()));
  }
}

/** Shared by spans started without links, as the sampler is handed them: no array per span. */
const NO_LINKS: Link[] = Object.freeze([]) as unknown as Link[];
const SAMPLED: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });
const NOT_SAMPLED: SamplingResult = Object.freeze({ decision: SamplingDecision.NOT_RECORD });

/** The span context of the span in `startContext`, if valid; the agent's own spans are valid by construction. */
function validParentOf(startContext: Context): SpanContext | undefined {
  const span = trace.getSpan(startContext);
  if (span === undefined) return undefined;
  const parent = span.spanContext();
  return span instanceof RecordingSpan || isSpanContextValid(parent) ? parent : undefined;
}

class AgentTracer implements Tracer {
  constructor(
    private readonly owner: AgentTracerProvider,
    private readonly scope: InstrumentationScope,
    private readonly sampler: Sampler | undefined,
  ) {}

  startSpan(name: string, options: SpanOptions = {}, parentContext: Context = context.active()): Span {
    const startContext = options.root ? trace.deleteSpan(parentContext) : parentContext;
    if (isTracingSuppressed(startContext)) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    const validParent = validParentOf(startContext);
    const traceId = validParent?.traceId ?? randomHex(32);
    const kind = options.kind ?? SpanKind.INTERNAL;
    const links = options.links ?? NO_LINKS;
    let sampling: SamplingResult;
    if (this.sampler !== undefined) {
      sampling = this.sampler.shouldSample(
        startContext,
        traceId,
        name,
        kind,
        options.attributes ?? {},
        links,
      );
    } else {
      sampling =
        validParent === undefined || validParent.traceFlags & TraceFlags.SAMPLED ? SAMPLED : NOT_SAMPLED;
    }
    const spanContext: SpanContext = {
      traceId,
      spanId: randomHex(16),
      traceFlags:
        sampling.decision === SamplingDecision.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE,
      traceState: sampling.traceState ?? validParent?.traceState,
    };
    if (sampling.decision === SamplingDecision.NOT_RECORD) return trace.wrapSpanContext(spanContext);
    const span = new RecordingSpan(
      this.owner,
      this.scope,
      name,
      kind,
      spanContext,
      validParent,
      options.startTime,
    );
    if (options.attributes) span.setAttributes(options.attributes);
    if (sampling.attributes) span.setAttributes(sampling.attributes);
    if (links.length > 0) span.addLinks(links);
    this.owner.onStarting(span, startContext);
    return span;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    parentContext: Context,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    ...rest: [F] | [SpanOptions, F] | [SpanOptions, Context, F]
  ): ReturnType<F> {
    const fn = rest[rest.length - 1] as (span: Span) => ReturnType<F>;
    const options = rest.length > 1 ? (rest[0] as SpanOptions) : undefined;
    const parentContext = rest.length > 2 ? (rest[1] as Context) : context.active();
    const span = this.startSpan(name, options, parentContext);
    return context.with(trace.setSpan(parentContext, span), fn, undefined, span);
  }
}
