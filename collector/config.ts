/**
 * The collector's settings: one table that drives the flags, their `CHOKEPOINT_*`
 * environment variables, the defaults and `--help`. A flag beats its variable;
 * a bad value of either is a usage error that names the setting.
 */
import { type DetectionConfig, defaultDetectionConfig } from './detect/types.js';

export interface CollectorOptions {
  host: string;
  port: number;
  otlpPort: number;
  db: string;
  slowQueryMs: number;
  nPlusOneMin: number;
  slowEndpointMs: number;
  queueLagMs: number;
  windowMinutes: number;
  retentionDays: number;
  /** Per-minute aggregates older than this are rolled up into hourly ones. */
  rollupAfterHours: number;
  maxBodyMb: number;
  /** How often pending traces are completed and detection runs. */
  detectIntervalMs: number;
  /** Query fingerprints with their own `/metrics` series; the rest share `fingerprint_id="other"`. */
  metricsTopQueries: number;
  /** Bearer token required on `/v1/*`, `/api/*` (but `/api/health`) and `/metrics`; `''`: no auth. */
  token: string;
  dashboardDir: string;
  /** No startup lines on stdout (tests, embedding). */
  quiet: boolean;
  /** Detection thresholds set by an embedder (`chokepoint check`), over the ones above and the defaults. */
  detection: Partial<DetectionConfig>;
}

type Kind = 'string' | 'port' | 'positiveInt' | 'positiveNumber' | 'ratio' | 'token';

/** A detection threshold set by its own flag: `detection.poolWaitShare` lands in `options.detection`. */
type DetectionSetting = `detection.${keyof DetectionConfig}`;

interface Setting {
  name: keyof CollectorOptions | DetectionSetting;
  flag: string;
  kind: Kind;
  help: string;
}

export const SETTINGS: readonly Setting[] = [
  { name: 'host', flag: 'host', kind: 'string', help: 'address both servers bind to' },
  {
    name: 'port',
    flag: 'port',
    kind: 'port',
    help: 'dashboard, JSON API and /metrics port (0: any free port)',
  },
  { name: 'otlpPort', flag: 'otlp-port', kind: 'port', help: 'OTLP/HTTP receiver port (0: any free port)' },
  { name: 'db', flag: 'db', kind: 'string', help: 'SQLite database file' },
  {
    name: 'slowQueryMs',
    flag: 'slow-query-ms',
    kind: 'positiveNumber',
    help: 'slow_query fires at this p95 (ms)',
  },
  {
    name: 'nPlusOneMin',
    flag: 'n-plus-one-min',
    kind: 'positiveInt',
    help: 'n_plus_one fires at this many repeats under one parent',
  },
  {
    name: 'slowEndpointMs',
    flag: 'slow-endpoint-ms',
    kind: 'positiveNumber',
    help: "slow_endpoint fires at this p95 of a route's requests (ms)",
  },
  {
    name: 'queueLagMs',
    flag: 'queue-lag-ms',
    kind: 'positiveNumber',
    help: 'queue_lag fires at this p95 wait between publish and consume (ms)',
  },
  {
    name: 'detection.poolWaitShare',
    flag: 'pool-wait-share',
    kind: 'ratio',
    help: "connection_pool fires when waiting for a pool connection is this share of requests' time (0-1)",
  },
  {
    name: 'detection.poolOpenShare',
    flag: 'pool-open-share',
    kind: 'ratio',
    help: 'connection_pool fires when this share of requests open a new connection (0-1)',
  },
  {
    name: 'detection.dependencyErrorRate',
    flag: 'dependency-error-rate',
    kind: 'ratio',
    help: 'dependency_resilience fires when this share of calls to a dependency fail (0-1)',
  },
  {
    name: 'detection.dependencyHangMs',
    flag: 'dependency-hang-ms',
    kind: 'positiveNumber',
    help: 'dependency_resilience counts a call lasting this long as hung (ms)',
  },
  {
    name: 'detection.offloadMinMsPerRequest',
    flag: 'offload-min-ms',
    kind: 'positiveNumber',
    help: 'offload_candidate fires when side work takes this long per request (ms)',
  },
  {
    name: 'detection.staticAssetsMinShare',
    flag: 'static-min-share',
    kind: 'ratio',
    help: "static_assets fires when static files are this share of a service's requests (0-1)",
  },
  {
    name: 'windowMinutes',
    flag: 'window-minutes',
    kind: 'positiveNumber',
    help: 'detection looks at this trailing window',
  },
  {
    name: 'retentionDays',
    flag: 'retention-days',
    kind: 'positiveNumber',
    help: 'aggregates older than this are deleted',
  },
  {
    name: 'rollupAfterHours',
    flag: 'rollup-after-hours',
    kind: 'positiveNumber',
    help: 'per-minute aggregates older than this are merged into hourly ones',
  },
  {
    name: 'maxBodyMb',
    flag: 'max-body-mb',
    kind: 'positiveNumber',
    help: 'largest OTLP request accepted, compressed or not (MiB)',
  },
  {
    name: 'detectIntervalMs',
    flag: 'detect-interval-ms',
    kind: 'positiveInt',
    help: 'how often detection runs (ms)',
  },
  {
    name: 'metricsTopQueries',
    flag: 'metrics-top-queries',
    kind: 'positiveInt',
    help: 'query fingerprints with their own /metrics series, by time (the rest: fingerprint_id="other")',
  },
  {
    name: 'token',
    flag: 'token',
    kind: 'token',
    help: 'require Authorization: Bearer <token> on /v1/*, /api/* and /metrics; prefer the env variable',
  },
];

export function defaultCollectorOptions(): CollectorOptions {
  return {
    host: '127.0.0.1',
    port: 7070,
    otlpPort: 4318,
    db: './chokepoint.db',
    slowQueryMs: 100,
    nPlusOneMin: 5,
    slowEndpointMs: 500,
    queueLagMs: 1_000,
    windowMinutes: 15,
    retentionDays: 7,
    rollupAfterHours: 2,
    maxBodyMb: 16,
    detectIntervalMs: 2_000,
    metricsTopQueries: 100,
    token: '',
    dashboardDir: '',
    quiet: false,
    detection: {},
  };
}

export class UsageError extends Error {
  override name = 'UsageError';
}

/** `otlp-port` → `CHOKEPOINT_OTLP_PORT` */
export function envName(flag: string): string {
  return `CHOKEPOINT_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * Parses `--flag value` / `--flag=value` arguments over `CHOKEPOINT_*` variables over defaults.
 *
 * @example
 * parseCollectorArgs(['--port', '0'], { CHOKEPOINT_DB: '/tmp/c.db' }) // { port: 0, db: '/tmp/c.db', … }
 */
export function parseCollectorArgs(argv: readonly string[], env: NodeJS.ProcessEnv): CollectorOptions {
  const options = defaultCollectorOptions();
  const byFlag = new Map(SETTINGS.map((setting) => [setting.flag, setting]));
  const assign = (setting: Setting, raw: string, source: string) => {
    const value = convert(setting, raw, source);
    const threshold = detectionField(setting);
    if (threshold) options.detection = { ...options.detection, [threshold]: value };
    else (options as unknown as Record<string, unknown>)[setting.name] = value;
  };
  for (const setting of SETTINGS) {
    const raw = env[envName(setting.flag)];
    if (raw !== undefined && raw !== '') assign(setting, raw, envName(setting.flag));
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const [flag, inline] = splitOnce(arg.slice(2), '=');
    const setting = byFlag.get(flag);
    if (!setting) throw new UsageError(`unknown flag --${flag} (see --help)`);
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw new UsageError(`--${flag} needs a value`);
    assign(setting, raw, `--${flag}`);
  }
  return options;
}

export function collectorHelp(): string {
  const defaults = defaultCollectorOptions();
  const lines = SETTINGS.map((s) => {
    const left = `  --${s.flag} <${s.kind === 'string' || s.kind === 'token' ? 'value' : 'n'}>`.padEnd(30);
    const threshold = detectionField(s);
    const value = threshold ? defaultDetectionConfig[threshold] : defaults[s.name as keyof CollectorOptions];
    return `${left}${s.help} (default ${String(value) || 'none'}; env ${envName(s.flag)})`;
  });
  return ['Usage: chokepoint collector [flags]', '', 'Flags:', ...lines].join('\n');
}

/** The DetectionConfig field a setting sets, if it is a detection threshold. */
function detectionField(setting: Setting): keyof DetectionConfig | undefined {
  return setting.name.startsWith('detection.')
    ? (setting.name.slice('detection.'.length) as keyof DetectionConfig)
    : undefined;
}

function convert(setting: Setting, raw: string, source: string): string | number {
  if (setting.kind === 'string') return raw;
  if (setting.kind === 'token') {
    // The value is a secret: the message never repeats it.
    if (!/^[\x21-\x7e]+$/.test(raw)) {
      throw new UsageError(`${source} is not valid: expected printable ASCII without spaces`);
    }
    return raw;
  }
  const value = Number(raw);
  const fail = (expected: string) =>
    new UsageError(`${source}=${JSON.stringify(raw)} is not valid: expected ${expected}`);
  if (raw.trim() === '' || !Number.isFinite(value)) throw fail('a number');
  if (setting.kind === 'port' && (!Number.isInteger(value) || value < 0 || value > 65535)) {
    throw fail('a port from 0 to 65535');
  }
  if (setting.kind === 'positiveInt' && (!Number.isInteger(value) || value < 1))
    throw fail('a whole number ≥ 1');
  if (setting.kind === 'positiveNumber' && !(value > 0)) throw fail('a number > 0');
  if (setting.kind === 'ratio' && !(value > 0 && value <= 1)) throw fail('a share above 0 and at most 1');
  return value;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}
