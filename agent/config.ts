/**
 * Agent settings. Programmatic options win, then the environment (`CHOKEPOINT_*` and the
 * standard `OTEL_*` variables the agent applies itself), then defaults. A bad value never
 * throws: it becomes one warning (`ignoring CHOKEPOINT_X=…: expected …`) and the default.
 *
 * The other `OTEL_*` variables (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
 * `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_PROPAGATORS`,
 * `OTEL_TRACES_SAMPLER` …) are read where they apply (sdk.ts, OpenTelemetry's tracer
 * provider and OTLP transport); the ones OpenTelemetry would only complain about on its
 * muted diagnostic channel are checked here so the user hears of them.
 */
import type { BatchSettings } from './export.js';
import { SCRUB_MODES, type ScrubMode } from './scrub.js';
import type { SpanLimits } from './tracing/span.js';

export interface AgentOptions {
  /** Do nothing at all. `CHOKEPOINT_DISABLED`, `OTEL_SDK_DISABLED` or `OTEL_TRACES_EXPORTER=none`. Default `false`. */
  disabled: boolean;
  /** Print OpenTelemetry's own diagnostics and the agent's choices on stderr. `CHOKEPOINT_DEBUG`. Default `false`. */
  debug: boolean;
  /**
   * Scrub statements before they leave the process. `CHOKEPOINT_SCRUB`: `none`, `sql`
   * (literals → `?`), `redis` (arguments after the key dropped, ids in keys folded) or `all`.
   * Default `none`: the collector scrubs before anything is stored.
   */
  scrub: ScrubMode;
  /**
   * OTLP/HTTP traces URL. Default `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else
   * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, else `http://127.0.0.1:4318/v1/traces`.
   */
  endpoint: string;
  /** `service.name`. Default `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES`, else the app's package.json name. */
  serviceName?: string;
  /** `service.version`. Default `OTEL_RESOURCE_ATTRIBUTES`, else the app's package.json version. */
  serviceVersion?: string;
  /**
   * Most spans waiting for export; beyond it new spans are dropped and counted. `OTEL_BSP_MAX_QUEUE_SIZE`.
   * Default 8192: spans wait encoded, a few hundred bytes each, so this bounds the queue to
   * a few megabytes, less than OpenTelemetry's default of 2048 span objects took.
   */
  maxQueueSize: number;
  /** Longest wait for the last export on SIGTERM, SIGINT, `beforeExit` and `shutdown()`. Default 2000 ms. */
  flushTimeoutMs: number;
  /**
   * How often a runtime sample (event loop, GC, memory, CPU) goes to the collector's
   * `/v1/runtime`. `CHOKEPOINT_RUNTIME_INTERVAL_MS`; `0` turns sampling off. Default 10 000 ms.
   */
  runtimeIntervalMs: number;
  /**
   * Serve the runtime metrics as Prometheus text on `http://<metricsHost>:<port>/metrics`.
   * `CHOKEPOINT_METRICS_PORT`; `0` picks a free port. Default: not served.
   */
  metricsPort?: number;
  /** Address the metrics server binds to. `CHOKEPOINT_METRICS_HOST`. Default `127.0.0.1`. */
  metricsHost: string;
  /**
   * Ask the database for the plan of slow `SELECT`, `UPDATE` and `DELETE` statements (never
   * `ANALYZE`: nothing is run), off the request path, for index advice. `CHOKEPOINT_EXPLAIN`.
   * Default `true`.
   */
  explain: boolean;
  /** Statements at least this slow are planned. `CHOKEPOINT_EXPLAIN_THRESHOLD_MS`. Default 100 ms. */
  explainThresholdMs: number;
  /** A statement is planned again at most this often. `CHOKEPOINT_EXPLAIN_INTERVAL_MS`. Default 300 000 ms. */
  explainIntervalMs: number;
  /**
   * Take a short CPU profile when runtime samples show the event loop stalling, and send the
   * functions it ran during stalls (hot_path_cpu findings). `CHOKEPOINT_PROFILE`: `on`, `off`
   * or `auto`. Default `auto`: on unless `NODE_ENV=production`.
   */
  profile: boolean;
}

/** Everything the agent runs with: the options, settled, plus what only the environment sets. */
export interface AgentConfig extends AgentOptions {
  /** Where runtime samples go: the collector's `/v1/runtime`, beside `/v1/traces`. */
  runtimeEndpoint: string;
  /** `OTEL_EXPORTER_OTLP_HEADERS`, sent with runtime samples as span export sends them (e.g. a bearer token). */
  runtimeHeaders: Record<string, string>;
  batch: BatchSettings;
  /** From `OTEL_NODE_RESOURCE_DETECTORS`, in the order they apply (later ones win). */
  resourceDetectors: ResourceDetectorName[];
  /** `OTEL_TRACES_SAMPLER`, and its `OTEL_TRACES_SAMPLER_ARG` for the ratio-based ones. */
  sampler: { name: SamplerName; ratio: number };
  /** `OTEL_SPAN_*_LIMIT` (and `OTEL_ATTRIBUTE_*_LIMIT`), with OpenTelemetry's defaults. */
  spanLimits: SpanLimits;
}

export type Environment = Readonly<Record<string, string | undefined>>;

const DEFAULT_COLLECTOR = 'http://127.0.0.1:4318';
const TRACES_PATH = 'v1/traces';
const RUNTIME_PATH = 'v1/runtime';
/** The samplers of `OTEL_TRACES_SAMPLER`, as OpenTelemetry names them. */
export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];
/** The local resource detectors; `env` last so that the user's own attributes win. */
export const RESOURCE_DETECTOR_NAMES = ['host', 'os', 'process', 'serviceinstance', 'env'] as const;
export type ResourceDetectorName = (typeof RESOURCE_DETECTOR_NAMES)[number];
/** Cloud detectors are left out: they probe metadata endpoints and warn on every start elsewhere. */
const DEFAULT_RESOURCE_DETECTORS: ResourceDetectorName[] = ['host', 'os', 'process', 'env'];

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

type Parse<T> = (raw: string) => T | undefined;

const parseBoolean: Parse<boolean> = (raw) => {
  const word = raw.toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  return FALSE_WORDS.includes(word) ? false : undefined;
};

const parsePositiveInteger: Parse<number> = (raw) => {
  const value = Number(raw);
  return Number.isInteger(value) && value > 0 ? value : undefined;
};

const parseNonNegativeInteger: Parse<number> = (raw) => {
  const value = Number(raw);
  return Number.isInteger(value) && value >= 0 ? value : undefined;
};

const parsePort: Parse<number> = (raw) => {
  const value = Number(raw);
  return Number.isInteger(value) && value >= 0 && value <= 65_535 ? value : undefined;
};

const parsePositiveNumber: Parse<number> = (raw) => {
  const value = Number(raw);
  return Number.isFinite(value) && value > 0 ? value : undefined;
};

const parseProfile: Parse<boolean | 'auto'> = (raw) =>
  raw.toLowerCase() === 'auto' ? 'auto' : parseBoolean(raw);

const parseRatio: Parse<number> = (raw) => {
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 && value <= 1 ? value : undefined;
};

const parseHttpUrl: Parse<string> = (raw) => {
  if (!URL.canParse(raw)) return undefined;
  const { protocol } = new URL(raw);
  return protocol === 'http:' || protocol === 'https:' ? raw : undefined;
};

const isDetectorName = (name: string): name is ResourceDetectorName =>
  (RESOURCE_DETECTOR_NAMES as readonly string[]).includes(name);

const parseDetectors: Parse<ResourceDetectorName[]> = (raw) => {
  const names = raw.split(',').map((name) => name.trim());
  if (names.includes('none')) return [];
  if (names.includes('all')) return [...RESOURCE_DETECTOR_NAMES];
  return names.every(isDetectorName)
    ? RESOURCE_DETECTOR_NAMES.filter((name) => names.includes(name))
    : undefined;
};

function oneOf<T extends string>(values: readonly T[]): Parse<T> {
  return (raw) => values.find((value) => value === raw);
}

/** `OTEL_EXPORTER_OTLP_ENDPOINT` is a base URL: the signal's path goes after it. */
function signalUrl(base: string, path: string): string {
  return base.endsWith('/') ? `${base}${path}` : `${base}/${path}`;
}

/** Beside the traces URL: `…/v1/traces` becomes `…/v1/runtime`; any other path, the server's `/v1/runtime`. */
function runtimeUrlBeside(tracesUrl: string): string {
  if (tracesUrl.endsWith(`/${TRACES_PATH}`))
    return `${tracesUrl.slice(0, -TRACES_PATH.length)}${RUNTIME_PATH}`;
  return new URL(`/${RUNTIME_PATH}`, tracesUrl).href;
}

/**
 * Settles the agent's configuration from options and environment, collecting a warning
 * for every value it had to ignore.
 *
 * @example
 * const { config, warnings } = resolveConfig({}, process.env);
 * for (const warning of warnings) warn(warning);
 */
export function resolveConfig(
  options: Partial<AgentOptions>,
  env: Environment,
): { config: AgentConfig; warnings: string[] } {
  const warnings: string[] = [];
  function read<T>(name: string, parse: Parse<T>, expected: string): T | undefined {
    const raw = env[name]?.trim();
    if (!raw) return undefined;
    const value = parse(raw);
    if (value === undefined) warnings.push(`ignoring ${name}=${raw.slice(0, 200)}: expected ${expected}`);
    return value;
  }
  const boolean = (name: string) => read(name, parseBoolean, 'true or false') ?? false;
  const positiveInteger = (name: string) => read(name, parsePositiveInteger, 'a positive integer');

  const tracesExporter = read('OTEL_TRACES_EXPORTER', oneOf(['otlp', 'none']), 'otlp or none');
  const chokepointDisabled = boolean('CHOKEPOINT_DISABLED');
  const sdkDisabled = boolean('OTEL_SDK_DISABLED');
  const debug = boolean('CHOKEPOINT_DEBUG');
  const scrub = read('CHOKEPOINT_SCRUB', oneOf(SCRUB_MODES), 'none, sql, redis or all') ?? 'none';

  const tracesEndpoint = read('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', parseHttpUrl, 'an http(s) URL');
  const baseEndpoint = read('OTEL_EXPORTER_OTLP_ENDPOINT', parseHttpUrl, 'an http(s) URL');
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    read(name, oneOf(['http/protobuf']), 'http/protobuf, the only protocol the agent speaks');
  }
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT']) {
    read(name, parsePositiveNumber, 'a positive number of milliseconds');
  }
  const sampler = {
    name: read('OTEL_TRACES_SAMPLER', oneOf(SAMPLERS), SAMPLERS.join(', ')) ?? 'parentbased_always_on',
    ratio: read('OTEL_TRACES_SAMPLER_ARG', parseRatio, 'a number from 0 to 1') ?? 1,
  };
  const limit = (names: string[], fallback: number) => {
    for (const name of names) {
      const value = read(name, parseNonNegativeInteger, 'a non-negative integer');
      if (value !== undefined) return value;
    }
    return fallback;
  };
  const spanLimits: SpanLimits = {
    attributeCountLimit: limit(['OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', 'OTEL_ATTRIBUTE_COUNT_LIMIT'], 128),
    attributeValueLengthLimit: limit(
      ['OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'],
      Number.POSITIVE_INFINITY,
    ),
    eventCountLimit: limit(['OTEL_SPAN_EVENT_COUNT_LIMIT'], 128),
    linkCountLimit: limit(['OTEL_SPAN_LINK_COUNT_LIMIT'], 128),
    attributePerEventCountLimit: limit(
      ['OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT', 'OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT'],
      128,
    ),
    attributePerLinkCountLimit: limit(
      ['OTEL_LINK_ATTRIBUTE_COUNT_LIMIT', 'OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT'],
      128,
    ),
  };

  const runtimeIntervalMs = read(
    'CHOKEPOINT_RUNTIME_INTERVAL_MS',
    parseNonNegativeInteger,
    '0 (off) or a positive integer',
  );
  const metricsPort = read('CHOKEPOINT_METRICS_PORT', parsePort, 'a port number from 0 to 65535');
  const metricsHost = env.CHOKEPOINT_METRICS_HOST?.trim() || undefined;
  const explain = read('CHOKEPOINT_EXPLAIN', parseBoolean, 'true or false');
  const explainThresholdMs = read(
    'CHOKEPOINT_EXPLAIN_THRESHOLD_MS',
    parseNonNegativeInteger,
    'a non-negative integer of milliseconds',
  );
  const explainIntervalMs = read(
    'CHOKEPOINT_EXPLAIN_INTERVAL_MS',
    parseNonNegativeInteger,
    'a non-negative integer of milliseconds',
  );
  const profile = read('CHOKEPOINT_PROFILE', parseProfile, 'on, off or auto') ?? 'auto';

  const settled: AgentOptions = {
    disabled: chokepointDisabled || sdkDisabled || tracesExporter === 'none',
    debug,
    scrub,
    endpoint: tracesEndpoint ?? signalUrl(baseEndpoint ?? DEFAULT_COLLECTOR, TRACES_PATH),
    maxQueueSize: positiveInteger('OTEL_BSP_MAX_QUEUE_SIZE') ?? 8192,
    flushTimeoutMs: 2000,
    runtimeIntervalMs: runtimeIntervalMs ?? 10_000,
    metricsPort,
    metricsHost: metricsHost ?? '127.0.0.1',
    explain: explain ?? true,
    explainThresholdMs: explainThresholdMs ?? 100,
    explainIntervalMs: explainIntervalMs ?? 300_000,
    // Starting a profile pauses the app for a moment (V8 walks the heap): production opts in.
    profile: profile === 'auto' ? env.NODE_ENV?.trim() !== 'production' : profile,
    ...withoutUndefined(options),
  };
  // The base endpoint names the collector for every signal; a traces URL alone (or given in code) says where it is.
  const runtimeEndpoint =
    options.endpoint === undefined && (baseEndpoint !== undefined || tracesEndpoint === undefined)
      ? signalUrl(baseEndpoint ?? DEFAULT_COLLECTOR, RUNTIME_PATH)
      : runtimeUrlBeside(settled.endpoint);
  let exportBatchSize = positiveInteger('OTEL_BSP_MAX_EXPORT_BATCH_SIZE');
  if (exportBatchSize !== undefined && exportBatchSize > settled.maxQueueSize) {
    warnings.push(
      `ignoring OTEL_BSP_MAX_EXPORT_BATCH_SIZE=${exportBatchSize}: expected at most the queue bound, ${settled.maxQueueSize} spans`,
    );
    exportBatchSize = undefined;
  }
  const batch: BatchSettings = {
    maxQueueSize: settled.maxQueueSize,
    // Each export is an HTTP request costing the app about 0.4 ms of CPU: 2048 spans share it
    // four times better than OpenTelemetry's default of 512. A batch never outgrows the queue.
    maxExportBatchSize: exportBatchSize ?? Math.min(2048, settled.maxQueueSize),
    scheduledDelayMillis: positiveInteger('OTEL_BSP_SCHEDULE_DELAY') ?? 5000,
    exportTimeoutMillis: positiveInteger('OTEL_BSP_EXPORT_TIMEOUT') ?? 30_000,
  };
  const resourceDetectors =
    read(
      'OTEL_NODE_RESOURCE_DETECTORS',
      parseDetectors,
      `a comma-separated list of ${RESOURCE_DETECTOR_NAMES.join(', ')}, all or none`,
    ) ?? DEFAULT_RESOURCE_DETECTORS;
  // OpenTelemetry's own parser, as span export reads the variable; loaded only for an agent that
  // starts: a disabled one must not load any of OpenTelemetry.
  const runtimeHeaders = settled.disabled
    ? {}
    : (require('@opentelemetry/core') as typeof import('@opentelemetry/core')).parseKeyPairsIntoRecord(
        env.OTEL_EXPORTER_OTLP_HEADERS,
      );
  return {
    config: { ...settled, runtimeEndpoint, runtimeHeaders, batch, resourceDetectors, sampler, spanLimits },
    warnings,
  };
}

/** `start({ endpoint: undefined })` means "no opinion", not "no endpoint". */
function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/**
 * Whether the environment turns the agent off, without warnings: the ESM entry point
 * asks before registering its loader hook, and `start()` warns later.
 */
export function isDisabledByEnvironment(env: Environment): boolean {
  const on = (name: string) => parseBoolean(env[name]?.trim() ?? '') === true;
  return on('CHOKEPOINT_DISABLED') || on('OTEL_SDK_DISABLED') || env.OTEL_TRACES_EXPORTER?.trim() === 'none';
}
