/**
 * The runtime side of the agent, loaded only when it starts: samples of the app process
 * reported to the collector every interval (with a CPU profile when the event loop stalls),
 * and the optional Prometheus endpoint.
 */
import { hostname } from 'node:os';
import type { Resource } from '@opentelemetry/resources';
import type { AgentConfig } from '../config.js';
import { createDropWarning } from '../export.js';
import { describeError, warn } from '../warn.js';
import { createHotPathProfiler } from './profiler.js';
import { startMetricsServer } from './prometheus.js';
import { startRuntimeReporter } from './reporter.js';
import { createRuntimeSampler, type SampleIdentity } from './sampler.js';

export interface RunningRuntime {
  stop(): Promise<void>;
}

/**
 * The process the samples describe, from the resource the spans carry.
 *
 * @example
 * sampleIdentity(resource); // { service: 'shop', serviceVersion: '1.4.0', instanceId: 'web-1:4242' }
 */
export function sampleIdentity(resource: Resource): SampleIdentity {
  const attributes = resource.attributes;
  const text = (name: string) => {
    const value = attributes[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  return {
    service: text('service.name') ?? 'unknown_service',
    serviceVersion: text('service.version'),
    instanceId: text('service.instance.id') ?? `${text('host.name') ?? hostname()}:${process.pid}`,
  };
}

/**
 * Starts what the configuration asks for; never throws (a failure costs one warning).
 *
 * @example
 * const runtime = startRuntime(config, resource);
 * await runtime.stop();
 */
export function startRuntime(config: AgentConfig, resource: Resource): RunningRuntime {
  const stops: Array<Promise<() => Promise<void> | void>> = [];
  if (config.runtimeIntervalMs > 0) {
    // Host detection settles asynchronously; the first sample is an interval away anyway.
    const identity = Promise.resolve(resource.waitForAsyncAttributes?.()).then(() =>
      sampleIdentity(resource),
    );
    stops.push(
      identity
        .then((who) => {
          const sampler = createRuntimeSampler(who);
          // Triggered by the samples themselves, and its summaries leave with them.
          const profiler = config.profile
            ? createHotPathProfiler({ onWarning: warn, debug: config.debug })
            : undefined;
          const reporter = startRuntimeReporter({
            sample: profiler ? async () => profiler.observe(await sampler.sample()) : sampler.sample,
            endpoint: config.runtimeEndpoint,
            // The same headers as span export, so a collector started with --token accepts both.
            headers: config.runtimeHeaders,
            intervalMs: config.runtimeIntervalMs,
            onDrop: createDropWarning({ endpoint: config.runtimeEndpoint, unit: 'runtime sample' }),
          });
          return () => {
            reporter.stop();
            profiler?.stop();
            sampler.stop();
          };
        })
        .catch((error: unknown) => {
          warn(`runtime sampling not started: ${describeError(error)}`);
          return () => {};
        }),
    );
  }
  if (config.metricsPort !== undefined) {
    const { metricsHost: host, metricsPort: port } = config;
    stops.push(
      startMetricsServer({ host, port }).then(
        (server) => {
          warn(`Prometheus metrics on ${server.url}`);
          return server.close;
        },
        (error: unknown) => {
          warn(`cannot serve metrics on ${host}:${port}: ${describeError(error)}`);
          return () => {};
        },
      ),
    );
  }
  return {
    async stop() {
      await Promise.all(stops.map(async (stopping) => (await stopping)()));
    },
  };
}
