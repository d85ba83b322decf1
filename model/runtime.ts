/**
 * Runtime samples: what the agent measures about the app process itself (event
 * loop, GC, memory, CPU) every interval, sent as JSON to the collector's
 * `POST /v1/runtime` (on the OTLP port). One sample covers one interval of one process.
 */

export interface RuntimeSample {
  service: string;
  serviceVersion?: string;
  /** Identifies the process: `service.instance.id`, else `host:pid`. */
  instanceId: string;
  /** End of the interval, Unix epoch milliseconds. */
  timeMs: number;
  intervalMs: number;
  /** Event-loop delay over the interval (perf_hooks.monitorEventLoopDelay, as prom-client reads it). */
  eventLoopLag: { minMs: number; meanMs: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number };
  /** Garbage collection during the interval. */
  gc: {
    count: number;
    pauseMs: number;
    maxPauseMs: number;
    byKind: Record<string, { count: number; pauseMs: number }>;
  };
  memory: { rssBytes: number; heapUsedBytes: number; heapTotalBytes: number; externalBytes: number };
  /** CPU time the process used during the interval. */
  cpu: { userMs: number; systemMs: number };
  activeHandles?: number;
}

export interface RuntimeReport {
  samples: RuntimeSample[];
}
