/**
 * Real drivers through the agent's instrumentations, inside the test process: the
 * instrumentations `createInstrumentations` builds (upstream ones with the agent's hooks,
 * and the agent's own), the agent's tracer provider and span processors, W3C propagation,
 * and an in-memory list of ended spans. What the collector would make of the spans comes
 * from the real path: the agent's OTLP protobuf encoding, the collector's decoder, then its
 * `normalizeSpan`.
 *
 * Create it before requiring the drivers, and require them with its `require`: the
 * instrumentations patch modules as they load.
 */
import { createRequire } from 'node:module';
import { context, propagation, TraceFlags, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  ParentBasedSampler,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { DbOperationSpanProcessor } from '../../../agent/db-operation.js';
import { createInstrumentations } from '../../../agent/instrumentations/index.js';
import { type EncodedScopeSpans, encodeRequest, encodeSpan } from '../../../agent/otlp/encode.js';
import { ProtobufWriter } from '../../../agent/otlp/protobuf-writer.js';
import { AgentTracerProvider } from '../../../agent/tracing/tracer.js';
import { normalizeSpan } from '../../../collector/normalize/index.js';
import { decodeProtobufTraceRequest } from '../../../collector/receive/otlp-protobuf.js';
import type { Operation, SpanRecord } from '../../../model/index.js';

export interface InProcessTracing {
  /** `require` from the repository's test folder, through the instrumentations' hooks. */
  require: NodeJS.Require;
  instrumentations: Instrumentation[];
  /** The finished spans as the collector decodes them. */
  records(): SpanRecord[];
  /** The finished spans as the collector normalises them, in the same order as `records()`. */
  operations(): Operation[];
  /** Waits until `predicate` holds for the records (spans end asynchronously); rejects after `timeoutMs`. */
  waitFor(predicate: (records: SpanRecord[]) => boolean, timeoutMs?: number): Promise<SpanRecord[]>;
  reset(): void;
  shutdown(): Promise<void>;
}

/**
 * @example
 * const tracing = traceInProcess(['pg']);
 * const { Client } = tracing.require('pg');
 */
export function traceInProcess(names: string[], processors: SpanProcessor[] = []): InProcessTracing {
  let ended: ReadableSpan[] = [];
  const collect: SpanProcessor = {
    onStart() {},
    // As the export processor: spans left unsampled are not exported.
    onEnd: (span) => {
      if (span.spanContext().traceFlags & TraceFlags.SAMPLED) ended.push(span);
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const resource = resourceFromAttributes({ 'service.name': 'in-process' });
  const provider = new AgentTracerProvider({
    resource,
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    limits: {
      attributeCountLimit: 128,
      attributeValueLengthLimit: Number.POSITIVE_INFINITY,
      eventCountLimit: 128,
      linkCountLimit: 128,
      attributePerEventCountLimit: 128,
      attributePerLinkCountLimit: 128,
    },
    spanProcessors: [new DbOperationSpanProcessor(), ...processors, collect],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(provider);
  const instrumentations = createInstrumentations(names);
  for (const instrumentation of instrumentations) instrumentation.setTracerProvider(provider);

  const records = () => {
    if (ended.length === 0) return [];
    const byScope = new Map<ReadableSpan['instrumentationScope'], ProtobufWriter>();
    for (const span of ended) {
      let writer = byScope.get(span.instrumentationScope);
      if (writer === undefined) {
        writer = new ProtobufWriter();
        byScope.set(span.instrumentationScope, writer);
      }
      encodeSpan(writer, span);
    }
    const scopes: EncodedScopeSpans[] = [...byScope].map(([scope, writer]) => ({
      scope,
      spans: writer.bytes(),
    }));
    return decodeProtobufTraceRequest(
      encodeRequest([{ resource: { attributes: resource.attributes }, scopes }]),
    );
  };
  return {
    require: createRequire(__filename),
    instrumentations,
    records,
    operations: () => records().map(normalizeSpan),
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = records();
        if (predicate(current)) return current;
        if (Date.now() > deadline) {
          throw new Error(
            `spans not finished in ${timeoutMs} ms; got: ${current.map((span) => span.name).join(', ')}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    reset: () => {
      ended = [];
    },
    async shutdown() {
      for (const instrumentation of instrumentations) instrumentation.disable();
      await provider.shutdown();
    },
  };
}
