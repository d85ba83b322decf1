/**
 * The OpenTelemetry side of the agent, loaded only when it starts: the agent's tracer
 * provider (tracing/) with the chosen instrumentations, `db.operation.name` where they leave it out, plans
 * of slow statements (explain/), optional scrubbing, and the bounded OTLP/HTTP protobuf export; W3C trace context and baggage
 * propagation, the async-local-storage context manager.
 *
 * Only that is loaded: NodeSDK, which would also load the metrics and logs SDKs and their
 * exporters, costs the app's start-up more than the rest of the agent. It is loaded after
 * all when the environment asks for what only it provides: a metrics or logs exporter
 * (`OTEL_METRICS_EXPORTER`, `OTEL_LOGS_EXPORTER`) or another propagator (`OTEL_PROPAGATORS`
 * naming `b3`, `jaeger` …).
 */
import { format } from 'node:util';
import {
  context,
  type DiagLogger,
  DiagLogLevel,
  diag,
  propagation,
  type TextMapPropagator,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  diagLogLevelFromString,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import type { AgentConfig, Environment, SamplerName } from './config.js';
import { DbOperationSpanProcessor } from './db-operation.js';
import { ExplainInstrumentation, ExplainSpanProcessor } from './explain/index.js';
import { createDropWarning, OtlpExportSpanProcessor } from './export.js';
import { createInstrumentations, enabledInstrumentations } from './instrumentations/index.js';
import { createResource } from './resource.js';
import { ScrubSpanProcessor } from './scrub.js';
import { AgentTracerProvider } from './tracing/tracer.js';
import { AGENT_NAME, AGENT_VERSION } from './version.js';
import { warn } from './warn.js';

function writeToStderr(level: string) {
  return (message: string, ...args: unknown[]) => {
    process.stderr.write(`opentelemetry ${level}: ${format(message, ...args)}\n`);
  };
}

/** OpenTelemetry's diagnostics on stderr, beside the agent's own lines: the app's stdout stays the app's. */
const stderrLogger: DiagLogger = {
  error: writeToStderr('error'),
  warn: writeToStderr('warn'),
  info: writeToStderr('info'),
  debug: writeToStderr('debug'),
  verbose: writeToStderr('verbose'),
};

export interface RunningSdk {
  /** What every span is exported with: the app's service, host and process. */
  resource: Resource;
  /** Exports what is queued. */
  flush(): Promise<void>;
  /** Exports what is queued and stops. */
  shutdown(): Promise<void>;
  /** Reports what is still queued or in flight as dropped: the caller stopped waiting after `waitedMs`. */
  abandon(waitedMs: number): void;
}

/**
 * Builds and starts the SDK. Throws if OpenTelemetry cannot start; the caller warns.
 *
 * @example
 * const sdk = startSdk(config, process.env);
 * await sdk.shutdown();
 */
export function startSdk(config: AgentConfig, env: Environment): RunningSdk {
  const logLevel =
    diagLogLevelFromString(env.OTEL_LOG_LEVEL) ?? (config.debug ? DiagLogLevel.DEBUG : undefined);
  if (logLevel !== undefined) diag.setLogger(stderrLogger, logLevel);

  const { names, warnings } = enabledInstrumentations(env);
  for (const warning of warnings) warn(warning);
  const exportProcessor = new OtlpExportSpanProcessor({
    ...config.batch,
    url: config.endpoint,
    onDrop: createDropWarning({ endpoint: config.endpoint }),
  });
  // Before scrubbing: the plan processor reads statements as they were sent.
  const explainProcessor = config.explain
    ? new ExplainSpanProcessor({
        thresholdMs: config.explainThresholdMs,
        intervalMs: config.explainIntervalMs,
        scrub: config.scrub === 'sql' || config.scrub === 'all',
      })
    : undefined;
  const spanProcessors: SpanProcessor[] = [
    new DbOperationSpanProcessor(),
    ...(explainProcessor ? [explainProcessor] : []),
    ...(config.scrub === 'none' ? [] : [new ScrubSpanProcessor(config.scrub)]),
    exportProcessor,
  ];
  const resource = createResource({
    serviceName: config.serviceName,
    serviceVersion: config.serviceVersion,
    detectors: config.resourceDetectors,
  }).merge(
    resourceFromAttributes({
      'telemetry.distro.name': AGENT_NAME,
      'telemetry.distro.version': AGENT_VERSION,
    }),
  );

  const propagators = w3cPropagators(env.OTEL_PROPAGATORS);
  // NodeSDK, when wanted, sets the context manager and the propagator itself.
  const otherSignals =
    propagators === undefined || wantsOtherSignals(env) ? startNodeSdk(resource, env) : undefined;
  if (otherSignals === undefined) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    if (propagators) propagation.setGlobalPropagator(propagators);
  }
  const tracerProvider = new AgentTracerProvider({
    resource,
    sampler: createSampler(config.sampler.name, config.sampler.ratio),
    limits: config.spanLimits,
    spanProcessors,
  });
  trace.setGlobalTracerProvider(tracerProvider);
  // Given the provider itself, instrumentations skip the global proxy on every span they start.
  const instrumentations = createInstrumentations(names);
  // Built after upstream's: its pg and mysql2 wrappers must go around theirs.
  if (explainProcessor) {
    instrumentations.push(
      new ExplainInstrumentation({ drivers: { pg: names.includes('pg'), mysql2: names.includes('mysql2') } }),
    );
  }
  const removeInstrumentations = registerInstrumentations({ instrumentations, tracerProvider });
  if (config.debug) {
    warn(`exporting to ${config.endpoint}; instrumentations: ${names.join(', ')}`);
  }
  return {
    resource,
    flush: () => exportProcessor.forceFlush(),
    async shutdown() {
      removeInstrumentations();
      await Promise.all([tracerProvider.shutdown(), otherSignals?.shutdown()]);
    },
    abandon: (waitedMs) => exportProcessor.abandon(waitedMs),
  };
}

/**
 * The sampler `OTEL_TRACES_SAMPLER` names, built as OpenTelemetry's SDK builds it; none for
 * the default, `parentbased_always_on`, which the agent's tracer decides by itself.
 */
function createSampler(name: SamplerName, ratio: number): Sampler | undefined {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    case 'parentbased_always_on':
      return undefined;
  }
}

const W3C_PROPAGATORS: Readonly<Record<string, () => TextMapPropagator>> = {
  tracecontext: () => new W3CTraceContextPropagator(),
  baggage: () => new W3CBaggagePropagator(),
};

/**
 * The propagator `OTEL_PROPAGATORS` asks for, when it names only W3C ones (the default:
 * `tracecontext,baggage`); `null` for `none`; `undefined` when it names another, which
 * NodeSDK builds.
 */
function w3cPropagators(setting: string | undefined): TextMapPropagator | null | undefined {
  const names = (setting ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.includes('none')) return null;
  const factories = (names.length === 0 ? ['tracecontext', 'baggage'] : names).map(
    (name) => W3C_PROPAGATORS[name],
  );
  if (!factories.every((factory) => factory !== undefined)) return undefined;
  return new CompositePropagator({ propagators: factories.map((create) => create()) });
}

/** Whether the environment asks for metrics or logs to be exported. */
function wantsOtherSignals(env: Environment): boolean {
  return ['OTEL_METRICS_EXPORTER', 'OTEL_LOGS_EXPORTER'].some((name) => {
    const value = env[name]?.trim();
    return value !== undefined && value !== '' && value !== 'none';
  });
}

/**
 * NodeSDK for what the environment asks beyond W3C-propagated traces: the context
 * manager, the propagators of `OTEL_PROPAGATORS`, and metrics and logs exporters. It
 * registers no tracer provider: spans stay the agent's.
 */
function startNodeSdk(resource: Resource, env: Environment): { shutdown(): Promise<void> } {
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    spanProcessors: [],
    // Present-but-empty lists keep NodeSDK from building the OTLP exporters nobody asked for.
    ...(env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
    ...(env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
  });
  sdk.start();
  return sdk;
}
