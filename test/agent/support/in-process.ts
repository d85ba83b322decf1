/**
 * Real drivers through the agent's instrumentations, inside the test process: the
 * instrumentations `createInstrumentations` builds (upstream ones with the agent's hooks,
 * and the agent's own), the agent's span processors, and an in-memory exporter. What the
 * collector would make of the spans comes from the real path: OTLP protobuf encoding
 * (otlp-transformer, as the agent's exporter sends), the collector's decoder, then its
 * `normalizeSpan`.
 *
 * Create it before requiring the drivers, and require them with its `require`: the
 * instrumentations patch modules as they load.
 */
import { createRequire } from 'node:module';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { InMemorySpanExporter, SimpleSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { DbOperationSpanProcessor } from '../../../agent/db-operation.js';
import { createInstrumentations } from '../../../agent/instrumentations/index.js';
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
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({
    spanProcessors: [new DbOperationSpanProcessor(), ...processors, new SimpleSpanProcessor(exporter)],
  });
  provider.register();
  const instrumentations = createInstrumentations(names);
  for (const instrumentation of instrumentations) instrumentation.setTracerProvider(provider);

  const records = () => {
    const spans = exporter.getFinishedSpans();
    if (spans.length === 0) return [];
    const bytes = ProtobufTraceSerializer.serializeRequest(spans);
    if (!bytes) throw new Error('otlp-transformer could not serialise the spans');
    return decodeProtobufTraceRequest(bytes);
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
    reset: () => exporter.reset(),
    async shutdown() {
      for (const instrumentation of instrumentations) instrumentation.disable();
      await provider.shutdown();
    },
  };
}
