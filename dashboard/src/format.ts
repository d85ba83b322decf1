/**
 * Numbers as people read them, always with their unit. Pure functions of their input
 * (the clock is a parameter), so every view formats the same way and tests need no DOM.
 */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

const KIND_LABELS: Record<string, string> = {
  slow_query: 'Slow query',
  n_plus_one: 'N+1 queries',
  n_plus_one_http: 'N+1 HTTP calls',
  cache_hit_ratio: 'Cache hit ratio',
  queue_lag: 'Queue lag',
  slow_endpoint: 'Slow endpoint',
  event_loop_blocked: 'Event loop blocked',
  gc_pressure: 'GC pressure',
  connection_pool: 'Connection pool',
  dependency_resilience: 'Dependency resilience',
  offload_candidate: 'Work to offload',
  static_assets: 'Static files',
  hot_path_cpu: 'CPU hot path',
};

const RANGE_LABELS: Record<string, string> = { '15m': '15 min', '1h': '1 h', '24h': '24 h', '7d': '7 d' };

/**
 * A duration in the unit that keeps it short: `0.42 ms`, `7.5 ms`, `340 ms`, `1.25 s`, `2.5 min`.
 *
 * @example
 * formatDuration(1250) // '1.25 s'
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms === 0) return '0 ms';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/**
 * A finding's impact, always in ms of wall time per minute so findings compare at a glance.
 *
 * @example
 * formatImpact(12345.6) // '12,346 ms/min'
 */
export function formatImpact(msPerMinute: number): string {
  if (!Number.isFinite(msPerMinute)) return '—';
  return `${(msPerMinute < 10 ? oneDecimal : integer).format(msPerMinute)} ms/min`;
}

/** `1,234` */
export function formatCount(value: number): string {
  return Number.isFinite(value) ? integer.format(value) : '—';
}

/** A 0–1 share as a percentage: `42%`, `<1%` for tiny non-zero shares. */
export function formatShare(share: number): string {
  if (!Number.isFinite(share)) return '—';
  if (share > 0 && share < 0.01) return '<1%';
  return `${Math.round(share * 100)}%`;
}

/** How many times something repeats: `8×`, `7.5×`. */
export function formatRepeats(times: number): string {
  return Number.isFinite(times) ? `${oneDecimal.format(times)}×` : '—';
}

/**
 * How long ago an ISO 8601 timestamp was, relative to `now` (epoch ms).
 *
 * @example
 * formatAgo('2024-05-01T12:00:00Z', Date.parse('2024-05-01T12:05:00Z')) // '5 min ago'
 */
export function formatAgo(iso: string, now: number): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '—';
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** A finding kind for humans; kinds this dashboard does not know yet still read well. */
export function kindLabel(kind: string): string {
  const known = KIND_LABELS[kind];
  if (known) return known;
  const words = kind.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * A rate per minute: `1,234/min`, `2.5/min`, `0/min`.
 *
 * @example
 * formatRate(367.98) // '368/min'
 */
export function formatRate(perMinute: number): string {
  if (!Number.isFinite(perMinute)) return '—';
  return `${(perMinute < 10 ? oneDecimal : integer).format(perMinute)}/min`;
}

/** Megabytes of memory: `43 MB`, `7.5 MB`, `1.2 GB`. */
export function formatMegabytes(mb: number): string {
  if (!Number.isFinite(mb)) return '—';
  if (mb >= 1024) return `${(mb / 1024).toFixed(1)} GB`;
  return `${(mb < 10 ? oneDecimal : integer).format(mb)} MB`;
}

/** A time range for humans: `15 min`, `24 h`. */
export function rangeLabel(range: string): string {
  return RANGE_LABELS[range] ?? range;
}

/**
 * A moment on a chart's time axis: the time of day, with the day for ranges longer than one.
 *
 * @example
 * formatClock(Date.parse('2024-05-01T12:05:00'), 3_600_000) // '12:05'
 */
export function formatClock(epochMs: number, rangeMs: number): string {
  const date = new Date(epochMs);
  const time = date.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  if (rangeMs <= 24 * 60 * 60_000) return time;
  return `${date.toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric' })} ${time}`;
}

/** Text cut to `length` characters with an ellipsis, for chart labels (the full text stays in tooltips). */
export function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
