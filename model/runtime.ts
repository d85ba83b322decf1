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
  /**
   * A short CPU profile the agent took while the event loop stalled (`CHOKEPOINT_PROFILE`),
   * summarised: attached to the first sample after it finished, absent otherwise.
   */
  cpuProfile?: CpuProfileSummary;
}

/** A place in the code: never source text or argument values. */
export interface ProfileFrame {
  /** `(anonymous)` for a function without a name. */
  functionName: string;
  /** File path relative to the app's directory (`~/…` under the home directory), `node:…` for Node's own modules, `''` for native code. */
  url: string;
  /** 1-based line of the function's start; 0 when unknown (native code). */
  line: number;
  /** `name@version` when the file is in node_modules. */
  package?: string;
}

/** A function the profile sampled, with the time it ran itself (self) and with its callees (total). */
export interface ProfileFunction extends ProfileFrame {
  selfMs: number;
  totalMs: number;
  /** The callers it was reached through most, nearest first (at most 6). */
  callers: ProfileFrame[];
}

/**
 * What the agent keeps of a CPU profile: the samples taken while the event loop stalled,
 * summed by function (at most 20, by self time) and by node_modules package (at most 10).
 */
export interface CpuProfileSummary {
  /** When the profile started (Unix epoch ms) and how long it ran. */
  startMs: number;
  durationMs: number;
  samplingIntervalUs: number;
  /** The stalls the profile saw (event-loop ticks that ran late), and their total length. */
  stalls: number;
  stallMs: number;
  /** Time covered by the samples taken inside stalls: what `selfMs` are parts of. */
  sampledMs: number;
  /** How long starting the profiler held the event loop (V8 walks the heap for compiled code). */
  startPauseMs: number;
  functions: ProfileFunction[];
  packages: Array<{ name: string; selfMs: number }>;
}

export interface RuntimeReport {
  samples: RuntimeSample[];
}
