/**
 * What the apps do, as Prometheus series: a pipeline observer that turns each assembled
 * trace's operations into request, query, connection, cache, queue and dependency metrics,
 * and relays the agents' runtime samples per service instance. Operations are normalised before they get here,
 * so label values are routes, fingerprints and key patterns — never a raw path, literal,
 * key or id. Every label set built from traffic is capped (see label-limits.ts).
 *
 * @example
 * const metrics = createCollectorMetrics(store, () => pipeline.pendingTraces);
 * const pipeline = new Pipeline(store, { observers: [createPrometheusObserver(metrics.registry)] });
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type {
  CacheCommandOperation,
  DbConnectOperation,
  DbQueryOperation,
  HttpServerOperation,
  Operation,
  QueueMessageOperation,
  RuntimeSample,
} from '../../model/index.js';
import type { AssembledTrace } from '../assemble/trace.js';
import type { Occurrence } from '../detect/types.js';
import type { PipelineObserver } from '../pipeline.js';
import { LabelCap, OTHER, type TopEntry, TopKeys } from './label-limits.js';
import { SeriesCounter, SeriesHistogram } from './series-metrics.js';

export interface PrometheusObserverOptions {
  /** Query fingerprints with their own series: the top N by recent total time; the rest read `other`. */
  topFingerprints: number;
  /** Most values of each other traffic-built label set (routes, key patterns, queues, commands, dependencies, instances). */
  maxLabelValues: number;
  /** How often the top fingerprints are re-ranked. */
  rankIntervalMs: number;
  /** Ranking weighs a fingerprint's time by its age: it halves every this many milliseconds. */
  rankHalfLifeMs: number;
  /** Runtime series of an instance that sent nothing for this long are removed. */
  runtimeTtlMs: number;
  clock: () => number;
}

export const defaultPrometheusObserverOptions: PrometheusObserverOptions = {
  topFingerprints: 100,
  maxLabelValues: 200,
  rankIntervalMs: 60_000,
  rankHalfLifeMs: 30 * 60_000,
  runtimeTtlMs: 5 * 60_000,
  clock: Date.now,
};

/** OpenTelemetry's HTTP semantic conventions' duration buckets (seconds). */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** Index lookups take well under a millisecond, full scans seconds. */
const DB_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** A cache round trip on a healthy network is 0.1–2 ms. */
const CACHE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** A cache round trip is under a millisecond; an outbound call that hangs runs to a 30 s timeout. */
const DEPENDENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
/** Queue lag runs from milliseconds (keeping up) to hours (a backlog). */
const LAG_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

/** RFC 9110 methods; anything else is `_OTHER`, as the OpenTelemetry conventions say. */
const HTTP_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
]);

const NO_LABELS = {};

/** The longest fingerprint text carried in `chokepoint_db_query_info`. */
const MAX_FINGERPRINT_LABEL = 300;

/**
 * Most (service, fingerprint) slots held: fingerprints are not capped (the long tail reads
 * `other`), so past this the slots are dropped and made again as statements arrive.
 */
const MAX_QUERY_SLOTS = 10_000;

/**
 * Registers the application series on `registry` and returns the observer that feeds them.
 *
 * @example
 * const observer = createPrometheusObserver(registry, { topFingerprints: 50 });
 * new Pipeline(store, { observers: [observer] });
 */
export function createPrometheusObserver(
  registry: Registry,
  options: Partial<PrometheusObserverOptions> = {},
): PipelineObserver {
  return new PrometheusObserver(registry, { ...defaultPrometheusObserverOptions, ...options });
}

interface FingerprintInfo {
  service: string;
  fingerprintId: string;
  system: string;
  fingerprint: string;
}

/** A series' key and labels, made once per label set rather than per operation. */
interface Slot<L extends string> {
  key: string;
  labels: Record<L, string>;
}

/** One (service, fingerprint): its own series, and its entry in the top N (valued with what its info series says). */
interface QuerySlot extends Slot<'service' | 'fingerprint_id'> {
  top: TopEntry<FingerprintInfo>;
}

/** One (service, key pattern), or the service's `other`: its hit and miss series. */
interface LookupSlot {
  hit: Slot<'service' | 'key_pattern' | 'outcome'>;
  miss: Slot<'service' | 'key_pattern' | 'outcome'>;
}

/**
 * One service's slots, by the label values under the service: an operation finds its service's
 * once and then its own by strings it already holds, where joining them into one key would
 * build and hash a new string per operation. Admitted label sets are never dropped (their caps
 * bound them); fingerprints are not capped, so their slots are (MAX_QUERY_SLOTS).
 */
interface ServiceSlots {
  /** By method, then route. */
  requests: Map<string, Map<string, Slot<'service' | 'method' | 'route'>>>;
  queries: Map<string, QuerySlot>;
  otherQueries: Slot<'service' | 'fingerprint_id'>;
  commands: Map<string, Slot<'service' | 'command'>>;
  lookups: Map<string, LookupSlot>;
  /** By system, then host. */
  dependencies: Map<string, Map<string, Slot<'service' | 'system' | 'host'>>>;
  occurrences: Map<string, Slot<'service' | 'kind'>>;
}

function serviceSlots(service: string): ServiceSlots {
  return {
    requests: new Map(),
    queries: new Map(),
    otherQueries: { key: `${service}\u0000${OTHER}`, labels: { service, fingerprint_id: OTHER } },
    commands: new Map(),
    lookups: new Map(),
    dependencies: new Map(),
    occurrences: new Map(),
  };
}

/** The map under `key` in `map`, made empty on first use. */
function inner<V>(map: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let found = map.get(key);
  if (!found) {
    found = new Map();
    map.set(key, found);
  }
  return found;
}

/**
 * The slot of a label value met for the first time under its parents (`prefix` joins them):
 * its own when `cap` admits `prefix + value`, else the parents' `other`, made by `make` from the
 * label value it gets and its series key, and kept under that value. Callers look the value up
 * first themselves, so traffic already seen costs one lookup and no closure.
 */
function admittedSlot<S>(
  byValue: Map<string, S>,
  value: string,
  cap: LabelCap,
  prefix: string,
  make: (name: string, key: string) => S,
): S {
  const name = cap.admits(prefix + value) ? value : OTHER;
  let slot = byValue.get(name);
  if (!slot) {
    slot = make(name, prefix + name);
    byValue.set(name, slot);
  }
  return slot;
}

/** The latest view of one app process, from its runtime samples. */
interface InstanceState {
  service: string;
  instance: string;
  /** Collector time of the last sample: an instance's own clock may be off. */
  lastSeenMs: number;
  sampleTimeMs: number;
  eventLoopLagP99Seconds?: number;
  eventLoopLagMaxSeconds?: number;
  heapUsedBytes?: number;
  heapTotalBytes?: number;
  rssBytes?: number;
  gcPauseSeconds: number;
  gcCollections: number;
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
}

/** Fields relayed as gauges (the newest sample's level) and as counters (summed over samples). */
type InstanceLevel =
  | 'eventLoopLagP99Seconds'
  | 'eventLoopLagMaxSeconds'
  | 'heapUsedBytes'
  | 'heapTotalBytes'
  | 'rssBytes';
type InstanceTotal = 'gcPauseSeconds' | 'gcCollections';

class PrometheusObserver implements PipelineObserver {
  private readonly tracesAssembled: SeriesCounter<never>;
  private readonly runtimeSamplesReceived: Counter;
  private readonly patternOccurrences: SeriesCounter<'service' | 'kind'>;
  private readonly requestDuration: SeriesHistogram<'service' | 'method' | 'route'>;
  private readonly requestErrors: SeriesCounter<'service' | 'method' | 'route'>;
  private readonly queryDuration: SeriesHistogram<'service' | 'fingerprint_id'>;
  private readonly queryCalls: SeriesCounter<'service' | 'fingerprint_id'>;
  private readonly queryErrors: SeriesCounter<'service' | 'fingerprint_id'>;
  private readonly queryInfo: Gauge<'service' | 'fingerprint_id' | 'system' | 'fingerprint'>;
  private readonly cacheLookups: SeriesCounter<'service' | 'key_pattern' | 'outcome'>;
  private readonly cacheCommandDuration: SeriesHistogram<'service' | 'command'>;
  private readonly queueMessages: Counter<'service' | 'system' | 'destination' | 'role'>;
  private readonly queueLag: Histogram<'service' | 'system' | 'destination'>;
  private readonly connectionWait: Counter<'service' | 'db_system'>;
  private readonly connectionsOpened: Counter<'service' | 'db_system'>;
  private readonly dependencyCalls: SeriesCounter<'service' | 'system' | 'host'>;
  private readonly dependencyErrors: SeriesCounter<'service' | 'system' | 'host'>;
  private readonly dependencyDuration: SeriesHistogram<'service' | 'system' | 'host'>;

  private readonly routes: LabelCap;
  private readonly keyPatterns: LabelCap;
  private readonly commands: LabelCap;
  private readonly destinations: LabelCap;
  private readonly dependencies: LabelCap;
  private readonly topFingerprints: TopKeys<FingerprintInfo>;
  private readonly slotsByService = new Map<string, ServiceSlots>();
  /** The last service's slots: a trace's operations mostly share one. */
  private lastService: string | undefined;
  private lastSlots: ServiceSlots | undefined;
  private querySlotCount = 0;
  private readonly instances = new Map<string, InstanceState>();
  private lastRankMs: number;

  constructor(
    registry: Registry,
    private readonly options: PrometheusObserverOptions,
  ) {
    const registers = [registry];
    const now = options.clock();
    this.routes = new LabelCap(options.maxLabelValues);
    this.keyPatterns = new LabelCap(options.maxLabelValues);
    this.commands = new LabelCap(options.maxLabelValues);
    this.destinations = new LabelCap(options.maxLabelValues);
    this.dependencies = new LabelCap(options.maxLabelValues);
    this.topFingerprints = new TopKeys(options.topFingerprints, options.rankHalfLifeMs, now);
    this.lastRankMs = now;

    // One shape per kind of series: what differs between families is their name, help and labels.
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers });
    const histogram = <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
      buckets: number[],
    ) => new Histogram<L>({ name, help, labelNames, buckets, registers });
    // Written per operation: series looked up by the key the caller holds (see series-metrics.ts).
    const seriesCounter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new SeriesCounter<L>({ name, help, labelNames, registers });
    const seriesHistogram = <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
      buckets: number[],
    ) => new SeriesHistogram<L>({ name, help, labelNames, buckets, registers });

    this.tracesAssembled = seriesCounter(
      'chokepoint_collector_traces_assembled_total',
      'Traces assembled and inspected by the detectors.',
      [],
    );
    // Unlabelled: it reads 0 before the first trace, as a prom-client counter does.
    this.tracesAssembled.series('', NO_LABELS);
    this.runtimeSamplesReceived = counter(
      'chokepoint_collector_runtime_samples_received_total',
      'Runtime samples received from agents.',
    );
    this.patternOccurrences = seriesCounter(
      'chokepoint_pattern_occurrences_total',
      'Traces in which a per-trace detector found its pattern (an N+1 loop, …), by kind.',
      ['service', 'kind'],
    );
    const request = ['service', 'method', 'route'] as const;
    this.requestDuration = seriesHistogram(
      'chokepoint_http_server_request_duration_seconds',
      'Duration of inbound HTTP requests, by templated route.',
      request,
      HTTP_BUCKETS,
    );
    this.requestErrors = seriesCounter(
      'chokepoint_http_server_request_errors_total',
      'Inbound HTTP requests that failed (5xx or error status), by templated route.',
      request,
    );
    const fingerprint = ['service', 'fingerprint_id'] as const;
    this.queryDuration = seriesHistogram(
      'chokepoint_db_query_duration_seconds',
      'Duration of database statements, by fingerprint (top N by time; the rest are "other").',
      fingerprint,
      DB_BUCKETS,
    );
    this.queryCalls = seriesCounter(
      'chokepoint_db_queries_total',
      'Database statements run, by fingerprint (top N by time; the rest are "other").',
      fingerprint,
    );
    this.queryErrors = seriesCounter(
      'chokepoint_db_query_errors_total',
      'Database statements that failed, by fingerprint (top N by time; the rest are "other").',
      fingerprint,
    );
    this.queryInfo = new Gauge({
      name: 'chokepoint_db_query_info',
      help: 'The normalised statement behind each fingerprint_id with its own series (always 1).',
      labelNames: ['service', 'fingerprint_id', 'system', 'fingerprint'] as const,
      registers,
    });
    const dbSystem = ['service', 'db_system'] as const;
    this.connectionWait = counter(
      'chokepoint_db_connection_wait_seconds_total',
      'Time spent acquiring database connections: pool checkouts and connects (one inside a checkout counts once).',
      dbSystem,
    );
    this.connectionsOpened = counter(
      'chokepoint_db_connections_opened_total',
      'New database connections opened (not checked out of a pool).',
      dbSystem,
    );
    this.cacheLookups = seriesCounter(
      'chokepoint_cache_lookups_total',
      'Cache key lookups by key pattern and outcome (hit or miss).',
      ['service', 'key_pattern', 'outcome'],
    );
    this.cacheCommandDuration = seriesHistogram(
      'chokepoint_cache_command_duration_seconds',
      'Duration of cache commands, by command.',
      ['service', 'command'],
      CACHE_BUCKETS,
    );
    this.queueMessages = counter(
      'chokepoint_queue_messages_total',
      'Messages published and consumed, by queue.',
      ['service', 'system', 'destination', 'role'],
    );
    this.queueLag = histogram(
      'chokepoint_queue_lag_seconds',
      'Time from publishing a message to its consumer starting on it, by queue.',
      ['service', 'system', 'destination'],
      LAG_BUCKETS,
    );
    const dependency = ['service', 'system', 'host'] as const;
    this.dependencyCalls = seriesCounter(
      'chokepoint_dependency_calls_total',
      'Outbound calls by dependency: HTTP calls (system "http"), statements, connections opened, cache commands, publishes.',
      dependency,
    );
    this.dependencyErrors = seriesCounter(
      'chokepoint_dependency_errors_total',
      'Outbound calls that failed (error status or HTTP 5xx), by dependency.',
      dependency,
    );
    this.dependencyDuration = seriesHistogram(
      'chokepoint_dependency_call_duration_seconds',
      'Duration of outbound calls, by dependency.',
      dependency,
      DEPENDENCY_BUCKETS,
    );
    this.registerRuntime(registers);
  }

  onTrace(trace: AssembledTrace, occurrences: readonly Occurrence[]): void {
    this.tracesAssembled.series('', NO_LABELS).inc();
    this.rerankWhenDue();
    for (const operation of trace.operations) {
      const slots = this.slotsOf(operation.service);
      switch (operation.type) {
        case 'http_server':
          this.recordRequest(operation, slots);
          break;
        case 'db_query':
          this.recordQuery(operation, slots);
          break;
        case 'cache_command':
          this.recordCacheCommand(operation, slots);
          break;
        case 'queue_message':
          this.recordMessage(operation);
          break;
        case 'db_connect':
          this.recordConnect(operation, trace);
          break;
      }
      this.recordDependencyCall(operation, slots);
    }
    for (const { service, kind } of occurrences) {
      const { occurrences: slotsByKind } = this.slotsOf(service);
      let slot = slotsByKind.get(kind);
      if (!slot) {
        slot = { key: `${service}\u0000${kind}`, labels: { service, kind } };
        slotsByKind.set(kind, slot);
      }
      this.patternOccurrences.series(slot.key, slot.labels).inc();
    }
  }

  private slotsOf(service: string): ServiceSlots {
    if (service === this.lastService) return this.lastSlots as ServiceSlots;
    let slots = this.slotsByService.get(service);
    if (!slots) {
      slots = serviceSlots(service);
      this.slotsByService.set(service, slots);
    }
    this.lastService = service;
    this.lastSlots = slots;
    return slots;
  }

  onRuntime(samples: readonly RuntimeSample[]): void {
    this.runtimeSamplesReceived.inc(samples.length);
    const now = this.options.clock();
    for (const sample of samples) this.recordSample(sample, now);
  }

  private recordRequest(operation: HttpServerOperation, slots: ServiceSlots): void {
    const { service, route } = operation;
    const method = HTTP_METHODS.has(operation.method) ? operation.method : '_OTHER';
    const byRoute = inner(slots.requests, method);
    const slot =
      byRoute.get(route) ??
      admittedSlot(byRoute, route, this.routes, `${service}\u0000${method}\u0000`, (name, key) => ({
        key,
        labels: { service, method, route: name },
      }));
    this.requestDuration.series(slot.key, slot.labels).observe(operation.durationMs / 1000);
    if (operation.error) this.requestErrors.series(slot.key, slot.labels).inc();
  }

  private recordQuery(operation: DbQueryOperation, slots: ServiceSlots): void {
    const slot = this.querySlot(operation, slots);
    const members = this.topFingerprints.memberCount;
    const member = this.topFingerprints.addTo(slot.top, operation.durationMs);
    // Between rankings the top only grows: it grew when this fingerprint joined it.
    if (member && this.topFingerprints.memberCount > members)
      this.queryInfo.set(infoLabels(slot.top.value), 1);
    const series = member ? slot : slots.otherQueries;
    this.queryDuration.series(series.key, series.labels).observe(operation.durationMs / 1000);
    this.queryCalls.series(series.key, series.labels).inc();
    if (operation.error) this.queryErrors.series(series.key, series.labels).inc();
  }

  private querySlot(operation: DbQueryOperation, slots: ServiceSlots): QuerySlot {
    const { service, fingerprintId } = operation;
    let slot = slots.queries.get(fingerprintId);
    if (!slot) {
      if (this.querySlotCount >= MAX_QUERY_SLOTS) {
        for (const { queries } of this.slotsByService.values()) queries.clear();
        this.querySlotCount = 0;
      }
      const key = `${service}\u0000${fingerprintId}`;
      const info = { service, fingerprintId, system: operation.system, fingerprint: operation.fingerprint };
      slot = {
        key,
        labels: { service, fingerprint_id: fingerprintId },
        top: this.topFingerprints.entry(key, info),
      };
      slots.queries.set(fingerprintId, slot);
      this.querySlotCount += 1;
    }
    return slot;
  }

  private recordCacheCommand(operation: CacheCommandOperation, slots: ServiceSlots): void {
    const { service } = operation;
    const command =
      slots.commands.get(operation.command) ??
      admittedSlot(slots.commands, operation.command, this.commands, `${service}\u0000`, (name, key) => ({
        key,
        labels: { service, command: name },
      }));
    this.cacheCommandDuration.series(command.key, command.labels).observe(operation.durationMs / 1000);
    if (operation.hit === undefined && operation.hits === undefined && operation.misses === undefined) return;
    // Multi-key reads count each key; single-key reads carry one outcome.
    const hits = operation.hits ?? (operation.hit === true ? 1 : 0);
    const misses = operation.misses ?? (operation.hit === false ? 1 : 0);
    const pattern = operation.keyPattern ?? 'unknown';
    const lookups =
      slots.lookups.get(pattern) ??
      admittedSlot(slots.lookups, pattern, this.keyPatterns, `${service}\u0000`, (name, key) => ({
        hit: { key: `${key}\u0000hit`, labels: { service, key_pattern: name, outcome: 'hit' } },
        miss: { key: `${key}\u0000miss`, labels: { service, key_pattern: name, outcome: 'miss' } },
      }));
    this.cacheLookups.series(lookups.hit.key, lookups.hit.labels).inc(Math.max(0, hits));
    this.cacheLookups.series(lookups.miss.key, lookups.miss.labels).inc(Math.max(0, misses));
  }

  private recordMessage(operation: QueueMessageOperation): void {
    const { service, system } = operation;
    const admitted = this.destinations.admits(`${service}\u0000${system}\u0000${operation.destination}`);
    const destination = admitted ? operation.destination : OTHER;
    this.queueMessages.inc({ service, system, destination, role: operation.role });
    if (operation.role !== 'consume' || operation.publishTimeMs === undefined) return;
    const lagMs = operation.startTimeMs - operation.publishTimeMs;
    // A consumer's clock running behind its publisher's would make lag negative: it is zero.
    if (Number.isFinite(lagMs))
      this.queueLag.observe({ service, system, destination }, Math.max(0, lagMs) / 1000);
  }

  /** A connect inside a pool checkout is the pool opening a connection: its time is the checkout's. */
  private recordConnect(operation: DbConnectOperation, trace: AssembledTrace): void {
    const labels = { service: operation.service, db_system: operation.system };
    const inCheckout = insideCheckout(operation, trace);
    if (!inCheckout) this.connectionWait.inc(labels, operation.durationMs / 1000);
    // 0 for a checkout: the series exists from the first connect, so a rate of it reads 0, not nothing.
    this.connectionsOpened.inc(labels, inCheckout || operation.opensConnection === true ? 1 : 0);
  }

  /** An outbound call, counted against the dependency it reached (see dependencyOf). */
  private recordDependencyCall(operation: Operation, slots: ServiceSlots): void {
    const system = dependencySystemOf(operation);
    if (system === undefined) return;
    const { service } = operation;
    const host = dependencyHostOf(operation, system);
    const byHost = inner(slots.dependencies, system);
    const slot =
      byHost.get(host) ??
      admittedSlot(byHost, host, this.dependencies, `${service}\u0000${system}\u0000`, (name, key) => ({
        key,
        labels: { service, system, host: name },
      }));
    this.dependencyCalls.series(slot.key, slot.labels).inc();
    this.dependencyDuration.series(slot.key, slot.labels).observe(operation.durationMs / 1000);
    if (operation.error || (operation.type === 'http_client' && (operation.statusCode ?? 0) >= 500))
      this.dependencyErrors.series(slot.key, slot.labels).inc();
  }

  /** Re-ranks the fingerprints once per interval: the demoted lose their series, the promoted gain one. */
  private rerankWhenDue(): void {
    const now = this.options.clock();
    if (now - this.lastRankMs < this.options.rankIntervalMs) return;
    this.lastRankMs = now;
    const { promoted, demoted } = this.topFingerprints.rerank(now);
    for (const info of demoted) {
      const series = `${info.service}\u0000${info.fingerprintId}`;
      this.queryDuration.remove(series);
      this.queryCalls.remove(series);
      this.queryErrors.remove(series);
      this.queryInfo.remove(infoLabels(info));
    }
    for (const info of promoted) this.queryInfo.set(infoLabels(info), 1);
  }

  private recordSample(sample: RuntimeSample, now: number): void {
    const service = nonEmpty(sample.service) ?? 'unknown_service';
    const instance = nonEmpty(sample.instanceId) ?? 'unknown';
    const id = `${service}\u0000${instance}`;
    let state = this.instances.get(id);
    if (!state) {
      if (this.instances.size >= this.options.maxLabelValues) this.forgetLeastRecentInstance();
      state = {
        service,
        instance,
        lastSeenMs: now,
        sampleTimeMs: Number.NEGATIVE_INFINITY,
        gcPauseSeconds: 0,
        gcCollections: 0,
        cpuUserSeconds: 0,
        cpuSystemSeconds: 0,
      };
      this.instances.set(id, state);
    }
    state.lastSeenMs = now;
    // Totals add up every interval; levels keep the newest sample's, whatever order samples arrive in.
    state.gcPauseSeconds += (amount(sample.gc?.pauseMs) ?? 0) / 1000;
    state.gcCollections += amount(sample.gc?.count) ?? 0;
    state.cpuUserSeconds += (amount(sample.cpu?.userMs) ?? 0) / 1000;
    state.cpuSystemSeconds += (amount(sample.cpu?.systemMs) ?? 0) / 1000;
    const sampleTimeMs = amount(sample.timeMs) ?? now;
    if (sampleTimeMs < state.sampleTimeMs) return;
    state.sampleTimeMs = sampleTimeMs;
    const seconds = (ms: unknown) => {
      const value = amount(ms);
      return value === undefined ? undefined : value / 1000;
    };
    state.eventLoopLagP99Seconds = seconds(sample.eventLoopLag?.p99Ms) ?? state.eventLoopLagP99Seconds;
    state.eventLoopLagMaxSeconds = seconds(sample.eventLoopLag?.maxMs) ?? state.eventLoopLagMaxSeconds;
    state.heapUsedBytes = amount(sample.memory?.heapUsedBytes) ?? state.heapUsedBytes;
    state.heapTotalBytes = amount(sample.memory?.heapTotalBytes) ?? state.heapTotalBytes;
    state.rssBytes = amount(sample.memory?.rssBytes) ?? state.rssBytes;
  }

  private forgetLeastRecentInstance(): void {
    let oldest: [string, InstanceState] | undefined;
    for (const entry of this.instances)
      if (!oldest || entry[1].lastSeenMs < oldest[1].lastSeenMs) oldest = entry;
    if (oldest) this.instances.delete(oldest[0]);
  }

  /** Instances heard from within the TTL; the others are forgotten, and their series go with them. */
  private liveInstances(): InstanceState[] {
    const cutoff = this.options.clock() - this.options.runtimeTtlMs;
    for (const [id, state] of this.instances) if (state.lastSeenMs < cutoff) this.instances.delete(id);
    return [...this.instances.values()];
  }

  /** Runtime series are built at scrape time from the instances' state, so stale instances vanish. */
  private registerRuntime(registers: Registry[]): void {
    const labelNames = ['service', 'service_instance'] as const;
    const liveInstances = () => this.liveInstances();
    const gauge = (name: string, help: string, field: InstanceLevel) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const state of liveInstances()) {
            const value = state[field];
            if (value !== undefined)
              this.set({ service: state.service, service_instance: state.instance }, value);
          }
        },
      });
    const counter = (name: string, help: string, field: InstanceTotal) =>
      new Counter({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const state of liveInstances()) {
            this.inc({ service: state.service, service_instance: state.instance }, state[field]);
          }
        },
      });
    gauge(
      'chokepoint_runtime_event_loop_lag_p99_seconds',
      "Event-loop delay p99 over the agent's last interval.",
      'eventLoopLagP99Seconds',
    );
    gauge(
      'chokepoint_runtime_event_loop_lag_max_seconds',
      "Longest event-loop delay in the agent's last interval.",
      'eventLoopLagMaxSeconds',
    );
    counter(
      'chokepoint_runtime_gc_pause_seconds_total',
      'Time the app spent paused in garbage collection.',
      'gcPauseSeconds',
    );
    counter('chokepoint_runtime_gc_collections_total', 'Garbage collections the app ran.', 'gcCollections');
    gauge('chokepoint_runtime_heap_used_bytes', 'V8 heap in use.', 'heapUsedBytes');
    gauge('chokepoint_runtime_heap_total_bytes', 'V8 heap reserved.', 'heapTotalBytes');
    gauge('chokepoint_runtime_rss_bytes', 'Resident set size of the app process.', 'rssBytes');
    new Counter({
      name: 'chokepoint_runtime_cpu_seconds_total',
      help: 'CPU time the app process used, by mode (user, system).',
      labelNames: [...labelNames, 'mode'] as const,
      registers,
      collect() {
        this.reset();
        for (const state of liveInstances()) {
          const labels = { service: state.service, service_instance: state.instance };
          this.inc({ ...labels, mode: 'user' }, state.cpuUserSeconds);
          this.inc({ ...labels, mode: 'system' }, state.cpuSystemSeconds);
        }
      },
    });
  }
}

function insideCheckout(operation: DbConnectOperation, trace: AssembledTrace): boolean {
  return trace.get(operation.parentSpanId)?.type === 'db_connect';
}

/**
 * The system of the dependency an operation calls, as dependency_resilience counts them: an
 * outbound HTTP call (system `http`; its host is its `host[:port]`), a statement, a connection
 * opened, a cache command or a publish (their system; their host is the server when the span
 * names one, else the system again). A pool checkout is the app's own queue, and consuming a
 * message is work done, not a call.
 */
function dependencySystemOf(operation: Operation): string | undefined {
  switch (operation.type) {
    case 'http_client':
      return 'http';
    case 'db_connect':
      return operation.opensConnection === true ? operation.system : undefined;
    case 'queue_message':
      return operation.role === 'publish' ? operation.system : undefined;
    case 'db_query':
    case 'cache_command':
      return operation.system;
    default:
      return undefined;
  }
}

/** The host of the dependency an operation calls (given its system): see dependencySystemOf. */
function dependencyHostOf(operation: Operation, system: string): string {
  if (operation.type === 'http_client') return operation.host || 'unknown';
  return ('host' in operation ? operation.host : undefined) ?? system;
}

function infoLabels(info: FingerprintInfo) {
  const fingerprint =
    info.fingerprint.length > MAX_FINGERPRINT_LABEL
      ? `${info.fingerprint.slice(0, MAX_FINGERPRINT_LABEL - 1)}…`
      : info.fingerprint;
  return { service: info.service, fingerprint_id: info.fingerprintId, system: info.system, fingerprint };
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A sample's number when it is a usable amount: finite and not negative (samples arrive as JSON). */
function amount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
