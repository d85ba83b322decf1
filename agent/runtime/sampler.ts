/**
 * Runtime samples of the app process: prom-client's default metrics, collected into a
 * registry of the agent's own (the app's global registry and its own prom-client use stay
 * untouched) and turned, every interval, into one `RuntimeSample` of deltas.
 *
 * - event loop: prom-client's `monitorEventLoopDelay` percentiles, which it resets on every
 *   collection, so each sample covers its interval only. Like prom-client, the values
 *   include the 10 ms sampling resolution: an idle loop reads about 10 ms;
 * - CPU: prom-client's counters, as deltas; memory and active handles: gauges, as read;
 * - GC: a `PerformanceObserver` of the sampler's own. prom-client's GC histogram takes
 *   the first entry of each observer callback only, and under allocation pressure Node
 *   batches several (measured here: 50 of 89 collections counted); its buckets cannot
 *   give the longest pause either.
 */
import { type PerformanceEntry, PerformanceObserver, constants as perf } from 'node:perf_hooks';
import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';
import type { RuntimeSample } from '../../model/runtime.js';

/** The delay histogram's sampling period (prom-client's default); every reading includes it. */
export const EVENT_LOOP_RESOLUTION_MS = 10;

/** Who the samples are about. */
export interface SampleIdentity {
  service: string;
  serviceVersion?: string;
  /** `service.instance.id`, else `host:pid`. */
  instanceId: string;
}

export interface RuntimeSamplerOptions extends SampleIdentity {
  now?: () => number;
}

const GC_KINDS: Readonly<Record<number, string>> = {
  [perf.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perf.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perf.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perf.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

type GcTotals = RuntimeSample['gc'];

function emptyGc(): GcTotals {
  return { count: 0, pauseMs: 0, maxPauseMs: 0, byKind: {} };
}

/** prom-client metric values by name; a metric with several label sets (heap spaces, GC kinds) sums them. */
function valuesByName(metrics: MetricObjectWithValues<MetricValue<string>>[]): Map<string, number> {
  const values = new Map<string, number>();
  for (const metric of metrics) {
    values.set(
      metric.name,
      metric.values.reduce((sum, { value }) => sum + value, 0),
    );
  }
  return values;
}

export interface RuntimeSampler {
  /** The sample of the interval since the previous one (or since the sampler started). */
  sample(): Promise<RuntimeSample>;
  /** Stops observing GC. prom-client's own observers live as long as the process. */
  stop(): void;
}

/**
 * Starts sampling: CPU and GC count from now on.
 *
 * @example
 * const sampler = createRuntimeSampler({ service: 'shop', instanceId: 'web-1:4242' });
 * const sample = await sampler.sample();
 */
export function createRuntimeSampler(options: RuntimeSamplerOptions): RuntimeSampler {
  const { now = Date.now, ...identity } = options;
  // Loaded here: an agent with runtime sampling off never loads prom-client.
  const promClient = require('prom-client') as typeof import('prom-client');
  const registry: Registry = new promClient.Registry();
  promClient.collectDefaultMetrics({
    register: registry,
    eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS,
  });

  let gc = emptyGc();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) recordGc(gc, entry);
  });
  observer.observe({ entryTypes: ['gc'] });

  let lastTimeMs = now();
  let lastCpu = { user: 0, system: 0 };

  return {
    async sample() {
      // Read after the delay histogram's own timer has had a turn. Its reset forgets a stall
      // the timer has not recorded yet: read from an immediate right after a blocked
      // timer callback, a 300 ms stall was in neither this sample nor the next (measured).
      // The wait also lets the interval's last GC entries, reported from an immediate, arrive.
      await new Promise((resolve) => setTimeout(resolve, EVENT_LOOP_RESOLUTION_MS + 1));
      const values = valuesByName(await registry.getMetricsAsJSON());
      const timeMs = now();
      const read = (name: string) => values.get(name) ?? 0;
      const ms = (name: string) => read(name) * 1000;
      const cpu = {
        user: read('process_cpu_user_seconds_total'),
        system: read('process_cpu_system_seconds_total'),
      };
      // Entries not yet delivered to the callback belong to this interval too.
      for (const entry of observer.takeRecords()) recordGc(gc, entry);
      const interval = gc;
      gc = emptyGc();
      const sample: RuntimeSample = {
        ...identity,
        timeMs,
        intervalMs: timeMs - lastTimeMs,
        // An interval without a single reading reads as no delay, not prom-client's NaN mean
        // and unset minimum. (The histogram's reset restarts its baseline: a stall that starts
        // within one resolution period after a read is not seen, in any sample.)
        eventLoopLag: Number.isFinite(read('nodejs_eventloop_lag_mean_seconds'))
          ? {
              minMs: ms('nodejs_eventloop_lag_min_seconds'),
              meanMs: ms('nodejs_eventloop_lag_mean_seconds'),
              p50Ms: ms('nodejs_eventloop_lag_p50_seconds'),
              p90Ms: ms('nodejs_eventloop_lag_p90_seconds'),
              p99Ms: ms('nodejs_eventloop_lag_p99_seconds'),
              maxMs: ms('nodejs_eventloop_lag_max_seconds'),
            }
          : { minMs: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0 },
        gc: interval,
        memory: {
          rssBytes: read('process_resident_memory_bytes'),
          heapUsedBytes: read('nodejs_heap_size_used_bytes'),
          heapTotalBytes: read('nodejs_heap_size_total_bytes'),
          externalBytes: read('nodejs_external_memory_bytes'),
        },
        cpu: { userMs: (cpu.user - lastCpu.user) * 1000, systemMs: (cpu.system - lastCpu.system) * 1000 },
        activeHandles: read('nodejs_active_handles_total'),
      };
      lastTimeMs = timeMs;
      lastCpu = cpu;
      return sample;
    },
    stop() {
      observer.disconnect();
    },
  };
}

function recordGc(totals: GcTotals, entry: PerformanceEntry): void {
  const { detail } = entry as PerformanceEntry & { detail?: { kind?: number } };
  const kind = GC_KINDS[detail?.kind ?? -1] ?? 'other';
  const pauseMs = entry.duration;
  totals.count += 1;
  totals.pauseMs += pauseMs;
  totals.maxPauseMs = Math.max(totals.maxPauseMs, pauseMs);
  const byKind = totals.byKind[kind] ?? { count: 0, pauseMs: 0 };
  byKind.count += 1;
  byKind.pauseMs += pauseMs;
  totals.byKind[kind] = byKind;
}
