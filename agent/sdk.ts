/**
 * The OpenTelemetry side of the agent, loaded only when it starts: NodeSDK with the chosen
 * instrumentations, `db.operation.name` where they leave it out, optional scrubbing, and
 * the bounded OTLP/HTTP protobuf export. Metrics
 * and logs exporters stay off unless `OTEL_METRICS_EXPORTER` / `OTEL_LOGS_EXPORTER` ask.
 */
import { format } from 'node:util';
import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { AgentConfig, Environment } from './config.js';
import { DbOperationSpanProcessor } from './db-operation.js';
import { BoundedBatchSpanProcessor, createDropWarning } from './export.js';
import { createInstrumentations, enabledInstrumentations } from './instrumentations/index.js';
import { createResource } from './resource.js';
import { ScrubSpanProcessor } from './scrub.js';
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
  // OTEL_LOG_LEVEL is NodeSDK's own switch; setting a logger here too would make it complain.
  if (config.debug && !env.OTEL_LOG_LEVEL) diag.setLogger(stderrLogger, DiagLogLevel.DEBUG);

  const { names, warnings } = enabledInstrumentations(env);
  for (const warning of warnings) warn(warning);
  const exportProcessor = new BoundedBatchSpanProcessor({
    ...config.batch,
    exporter: new OTLPTraceExporter({ url: config.endpoint }),
    onDrop: createDropWarning({ endpoint: config.endpoint }),
  });
  const spanProcessors: SpanProcessor[] = [
    new DbOperationSpanProcessor(),
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

  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    instrumentations: createInstrumentations(names),
    spanProcessors,
    // Present-but-empty lists keep NodeSDK from building its default OTLP exporters.
    ...(env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
    ...(env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
  });
  sdk.start();
  if (config.debug) {
    warn(`exporting to ${config.endpoint}; instrumentations: ${names.join(', ')}`);
  }
  return {
    resource,
    flush: () => exportProcessor.forceFlush(),
    shutdown: () => sdk.shutdown(),
    abandon: (waitedMs) => exportProcessor.abandon(waitedMs),
  };
}
