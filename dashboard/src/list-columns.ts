/**
 * What each table view shows: its columns (label, unit, how a cell reads and sorts, which
 * ones carry a sparkline) and which findings a row leads to. Pure data and functions, so
 * the table component stays generic and the choices here are tested without a browser.
 */
import type {
  CacheRow,
  EndpointRow,
  FindingSummary,
  ListName,
  ListRows,
  QueryRow,
  QueueRow,
  RowSeries,
  RuntimeRow,
} from './api-types.js';
import {
  formatCount,
  formatDuration,
  formatImpact,
  formatMegabytes,
  formatRate,
  formatShare,
} from './format.js';
import type { SortValue } from './tables.js';

export interface Column<Row> {
  /** Names the column in the URL (`sort=p95Ms`). */
  key: string;
  label: string;
  /** What the column means, with its unit: the header's tooltip and accessible description. */
  description?: string;
  /** How the column sorts; a column without it (a sparkline) does not sort. */
  value?: (row: Row) => SortValue;
  text?: (row: Row) => string;
  /** Code-like text (a statement, a route): monospace, wraps anywhere. */
  mono?: boolean;
  numeric?: boolean;
  /** The filter box searches this column's text. */
  searchable?: boolean;
  sparkline?: {
    values: (row: Row) => Array<number | null>;
    format: (value: number) => string;
    label: string;
  };
  /** The findings the row leads to, shown as links. */
  findings?: (row: Row) => FindingSummary[];
}

export interface ListContext {
  findings: FindingSummary[];
  /** No service is selected: rows of several services share the table, so it names theirs. */
  allServices: boolean;
}

type Columns = { [N in ListName]: Array<Column<ListRows[N][number]>> };

const optional = (value: number | null | undefined, format: (value: number) => string) =>
  value === null || value === undefined ? '—' : format(value);

const series = (row: { series?: RowSeries }, measure: string) => row.series?.[measure] ?? [];

function serviceColumn<Row extends { service: string }>(context: ListContext): Array<Column<Row>> {
  if (!context.allServices) return [];
  return [
    {
      key: 'service',
      label: 'Service',
      value: (row) => row.service,
      text: (row) => row.service,
      searchable: true,
    },
  ];
}

function findingsColumn<Row extends { service: string }>(
  context: ListContext,
  matches: (finding: FindingSummary, row: Row) => boolean,
): Column<Row> {
  return {
    key: 'findings',
    label: 'Findings',
    description: 'Bottlenecks found here: open one for its fix',
    value: (row) => findingsOf(context, row, matches).reduce((total, finding) => total + finding.impact, 0),
    numeric: true,
    findings: (row) => findingsOf(context, row, matches),
  };
}

function findingsOf<Row extends { service: string }>(
  context: ListContext,
  row: Row,
  matches: (finding: FindingSummary, row: Row) => boolean,
): FindingSummary[] {
  return context.findings.filter((finding) => finding.service === row.service && matches(finding, row));
}

function latencyColumns<Row extends { p50Ms: number; p95Ms: number; p99Ms: number }>(): Array<Column<Row>> {
  return (['p50Ms', 'p95Ms', 'p99Ms'] as const).map((key) => ({
    key,
    label: key.slice(0, 3),
    description: `${key.slice(0, 3)} latency`,
    value: (row: Row) => row[key],
    text: (row: Row) => formatDuration(row[key]),
    numeric: true,
  }));
}

function routesOf(evidence: Record<string, unknown>): string[] {
  const routes = evidence.routes;
  if (!Array.isArray(routes)) return [];
  return routes.flatMap((entry) =>
    typeof entry === 'object' && entry !== null && typeof (entry as { route?: unknown }).route === 'string'
      ? [(entry as { route: string }).route]
      : [],
  );
}

const endpointColumns = (context: ListContext): Array<Column<EndpointRow>> => [
  {
    key: 'route',
    label: 'Route',
    value: (row) => row.route,
    text: (row) => row.route,
    mono: true,
    searchable: true,
  },
  ...serviceColumn<EndpointRow>(context),
  {
    key: 'requestsPerMin',
    label: 'Requests',
    description: 'requests per minute',
    value: (row) => row.requestsPerMin,
    text: (row) => formatRate(row.requestsPerMin),
    numeric: true,
  },
  ...latencyColumns<EndpointRow>(),
  {
    key: 'errors',
    label: 'Errors',
    description: 'share of requests that failed (5xx or error status)',
    value: (row) => (row.count > 0 ? row.errors / row.count : 0),
    text: (row) => formatShare(row.count > 0 ? row.errors / row.count : 0),
    numeric: true,
  },
  {
    key: 'msPerMin',
    label: 'Time',
    description: 'time spent serving the route, ms per minute',
    value: (row) => row.msPerMin,
    text: (row) => formatImpact(row.msPerMin),
    numeric: true,
  },
  {
    key: 'p95Trend',
    label: 'p95 over time',
    sparkline: { values: (row) => series(row, 'p95Ms'), format: formatDuration, label: 'p95' },
  },
  findingsColumn<EndpointRow>(
    context,
    (finding, row) => finding.key === row.route || routesOf(finding.evidence).includes(row.route),
  ),
];

const queryColumns = (context: ListContext): Array<Column<QueryRow>> => [
  {
    key: 'fingerprint',
    label: 'Statement',
    description: 'normalised statement: literals are replaced by ?',
    value: (row) => row.fingerprint,
    text: (row) => row.fingerprint,
    mono: true,
    searchable: true,
  },
  {
    key: 'system',
    label: 'Database',
    value: (row) => row.system,
    text: (row) => row.system,
    searchable: true,
  },
  ...serviceColumn<QueryRow>(context),
  {
    key: 'callsPerMin',
    label: 'Calls',
    description: 'executions per minute',
    value: (row) => row.callsPerMin,
    text: (row) => formatRate(row.callsPerMin),
    numeric: true,
  },
  ...latencyColumns<QueryRow>(),
  {
    key: 'msPerMin',
    label: 'Time',
    description: 'time spent running the statement, ms per minute',
    value: (row) => row.msPerMin,
    text: (row) => formatImpact(row.msPerMin),
    numeric: true,
  },
  {
    key: 'routes',
    label: 'Top route',
    value: (row) => row.routes[0]?.route ?? null,
    text: (row) => row.routes[0]?.route ?? '—',
    mono: true,
    searchable: true,
  },
  {
    key: 'p95Trend',
    label: 'p95 over time',
    sparkline: { values: (row) => series(row, 'p95Ms'), format: formatDuration, label: 'p95' },
  },
  findingsColumn<QueryRow>(context, (finding, row) => finding.evidence.fingerprintId === row.fingerprintId),
];

const cacheColumns = (context: ListContext): Array<Column<CacheRow>> => [
  {
    key: 'keyPattern',
    label: 'Key pattern',
    description: 'cache keys with their variable parts folded',
    value: (row) => row.keyPattern,
    text: (row) => row.keyPattern,
    mono: true,
    searchable: true,
  },
  { key: 'system', label: 'Cache', value: (row) => row.system, text: (row) => row.system, searchable: true },
  ...serviceColumn<CacheRow>(context),
  {
    key: 'lookupsPerMin',
    label: 'Lookups',
    description: 'reads per minute (a multi-key read counts each key)',
    value: (row) => row.lookupsPerMin,
    text: (row) => formatRate(row.lookupsPerMin),
    numeric: true,
  },
  {
    key: 'hitRatio',
    label: 'Hit ratio',
    value: (row) => row.hitRatio,
    text: (row) => optional(row.hitRatio, formatShare),
    numeric: true,
  },
  {
    key: 'misses',
    label: 'Misses',
    value: (row) => row.misses,
    text: (row) => formatCount(row.misses),
    numeric: true,
  },
  {
    key: 'writes',
    label: 'Writes',
    value: (row) => row.writes,
    text: (row) => formatCount(row.writes),
    numeric: true,
  },
  {
    key: 'ttl',
    label: 'TTL',
    description: 'the expiry most writes set',
    value: (row) => row.ttlsSeconds[0]?.ttlSeconds ?? null,
    text: (row) => optional(row.ttlsSeconds[0]?.ttlSeconds, (seconds) => formatDuration(seconds * 1000)),
    numeric: true,
  },
  {
    key: 'hitRatioTrend',
    label: 'Hit ratio over time',
    sparkline: { values: (row) => series(row, 'hitRatio'), format: formatShare, label: 'hit ratio' },
  },
  findingsColumn<CacheRow>(context, (finding, row) => finding.key === `${row.system} ${row.keyPattern}`),
];

const queueColumns = (context: ListContext): Array<Column<QueueRow>> => [
  {
    key: 'destination',
    label: 'Queue',
    value: (row) => row.destination,
    text: (row) => row.destination,
    mono: true,
    searchable: true,
  },
  { key: 'system', label: 'System', value: (row) => row.system, text: (row) => row.system, searchable: true },
  ...serviceColumn<QueueRow>(context),
  {
    key: 'publishedPerMin',
    label: 'Published',
    description: 'messages published per minute',
    value: (row) => row.publishedPerMin,
    text: (row) => formatRate(row.publishedPerMin),
    numeric: true,
  },
  {
    key: 'consumedPerMin',
    label: 'Consumed',
    description: 'messages consumed per minute',
    value: (row) => row.consumedPerMin,
    text: (row) => formatRate(row.consumedPerMin),
    numeric: true,
  },
  {
    key: 'lagP50Ms',
    label: 'Lag p50',
    description: 'wait between publish and consume, median',
    value: (row) => row.lagP50Ms,
    text: (row) => optional(row.lagP50Ms, formatDuration),
    numeric: true,
  },
  {
    key: 'lagP95Ms',
    label: 'Lag p95',
    description: 'wait between publish and consume, 95th percentile',
    value: (row) => row.lagP95Ms,
    text: (row) => optional(row.lagP95Ms, formatDuration),
    numeric: true,
  },
  {
    key: 'processingP95Ms',
    label: 'Processing p95',
    description: 'time to handle one message, 95th percentile',
    value: (row) => row.processingP95Ms,
    text: (row) => optional(row.processingP95Ms, formatDuration),
    numeric: true,
  },
  {
    key: 'lagTrend',
    label: 'Lag over time',
    sparkline: { values: (row) => series(row, 'lagP95Ms'), format: formatDuration, label: 'lag p95' },
  },
  findingsColumn<QueueRow>(context, (finding, row) => finding.key === `${row.system} ${row.destination}`),
];

const runtimeColumns = (context: ListContext): Array<Column<RuntimeRow>> => [
  {
    key: 'instanceId',
    label: 'Instance',
    description: 'one process: service.instance.id, else host:pid',
    value: (row) => row.instanceId,
    text: (row) => row.instanceId,
    mono: true,
    searchable: true,
  },
  ...serviceColumn<RuntimeRow>(context),
  {
    key: 'serviceVersion',
    label: 'Version',
    value: (row) => row.serviceVersion,
    text: (row) => row.serviceVersion ?? '—',
    searchable: true,
  },
  {
    key: 'maxDelayMs',
    label: 'Loop delay, max',
    description: 'longest event-loop delay beyond the sampling resolution',
    value: (row) => row.maxDelayMs,
    text: (row) => formatDuration(row.maxDelayMs),
    numeric: true,
  },
  {
    key: 'blockedMsPerMin',
    label: 'Blocked',
    description: 'estimated time the event loop was blocked, ms per minute',
    value: (row) => row.blockedMsPerMin,
    text: (row) => formatImpact(row.blockedMsPerMin),
    numeric: true,
  },
  {
    key: 'gcPauseMsPerMin',
    label: 'GC pauses',
    description: 'time paused in garbage collection, ms per minute',
    value: (row) => row.gcPauseMsPerMin,
    text: (row) => formatImpact(row.gcPauseMsPerMin),
    numeric: true,
  },
  {
    key: 'heapUsedMaxMb',
    label: 'Heap, max',
    value: (row) => row.heapUsedMaxMb,
    text: (row) => formatMegabytes(row.heapUsedMaxMb),
    numeric: true,
  },
  {
    key: 'cpuMsPerMin',
    label: 'CPU',
    description: 'CPU time, ms per minute (60,000 is one core)',
    value: (row) => row.cpuMsPerMin,
    text: (row) => formatImpact(row.cpuMsPerMin),
    numeric: true,
  },
  {
    key: 'delayTrend',
    label: 'Loop delay over time',
    sparkline: {
      values: (row) => series(row, 'maxDelayMs'),
      format: formatDuration,
      label: 'max event-loop delay',
    },
  },
  {
    key: 'gcTrend',
    label: 'GC over time',
    sparkline: {
      values: (row) => series(row, 'gcPauseMsPerMin'),
      format: formatImpact,
      label: 'GC pause per minute',
    },
  },
  {
    key: 'heapTrend',
    label: 'Heap over time',
    sparkline: { values: (row) => series(row, 'heapUsedMaxMb'), format: formatMegabytes, label: 'heap used' },
  },
  findingsColumn<RuntimeRow>(context, (finding, row) => {
    const instances = finding.evidence.instances;
    return (
      Array.isArray(instances) &&
      instances.some(
        (instance) => (instance as { instanceId?: unknown } | null)?.instanceId === row.instanceId,
      )
    );
  }),
];

const COLUMNS: { [N in ListName]: (context: ListContext) => Columns[N] } = {
  endpoints: endpointColumns,
  queries: queryColumns,
  caches: cacheColumns,
  queues: queueColumns,
  runtime: runtimeColumns,
};

/**
 * The columns of one table view.
 *
 * @example
 * listColumns('queries', { findings, allServices: false }).map((column) => column.label)
 * // ['Statement', 'Database', 'Calls', 'p50', 'p95', 'p99', 'Time', 'Top route', 'p95 over time', 'Findings']
 */
export function listColumns<N extends ListName>(name: N, context: ListContext): Columns[N] {
  return COLUMNS[name](context);
}

/** A row's identity within its table, so a live refresh updates rows in place. */
export function rowKey(name: ListName, row: ListRows[ListName][number]): string {
  const fields = row as unknown as Record<string, unknown>;
  const key = {
    endpoints: fields.route,
    queries: fields.fingerprintId,
    caches: `${fields.system} ${fields.keyPattern}`,
    queues: `${fields.system} ${fields.destination}`,
    runtime: fields.instanceId,
  }[name];
  return `${row.service}\u0000${String(key)}`;
}

/** The headings of the table views. */
export const LIST_TITLES: Readonly<Record<ListName, { title: string; about: string }>> = {
  endpoints: {
    title: 'Endpoints',
    about: 'Routes by time spent serving them, with where a request’s time goes.',
  },
  queries: {
    title: 'Queries',
    about: 'Statements by time spent running them, normalised: literals are replaced by ?.',
  },
  caches: { title: 'Caches', about: 'Cache key patterns by misses, with their hit ratio and expiry.' },
  queues: {
    title: 'Queues',
    about: 'Queues and topics by how long messages wait before a consumer starts on them.',
  },
  runtime: {
    title: 'Runtime',
    about: 'Each app process: event-loop delay, garbage collection, memory and CPU.',
  },
};
