/**
 * The observer's series from hand-built operations (edge cases: caps, re-ranking, clock
 * skew, malformed runtime samples), read back through the text exposition as Prometheus
 * scrapes it. Real spans from real drivers go through it in test/metrics/.
 */
import { Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createPrometheusObserver,
  type PrometheusObserverOptions,
} from '../../../collector/api/prometheus-observer.js';
import { AssembledTrace } from '../../../collector/assemble/trace.js';
import type { Occurrence } from '../../../collector/detect/types.js';
import type { PipelineObserver } from '../../../collector/pipeline.js';
import type {
  CacheCommandOperation,
  DbConnectOperation,
  Operation,
  QueueMessageOperation,
  RuntimeSample,
} from '../../../model/index.js';
import { httpCall, query, queueMessage, request, spanId } from '../../support/operations.js';
import { parseExposition, type Sample, samplesOf, sampleValue } from '../../support/prometheus-text.js';

const T0 = 1_700_000_000_000;
let now: number;
let registry: Registry;

function observer(options: Partial<PrometheusObserverOptions> = {}): PipelineObserver {
  return createPrometheusObserver(registry, { clock: () => now, ...options });
}

function trace(...operations: Operation[]): AssembledTrace {
  return new AssembledTrace(operations[0]?.traceId ?? 't', operations);
}

async function scrape(): Promise<Sample[]> {
  return parseExposition(await registry.metrics());
}

function cacheCommand(
  parent: Operation,
  fields: Partial<CacheCommandOperation> & { command: string },
): CacheCommandOperation {
  return {
    type: 'cache_command',
    service: parent.service,
    traceId: parent.traceId,
    spanId: spanId(),
    parentSpanId: parent.spanId,
    startTimeMs: parent.startTimeMs,
    durationMs: 1,
    error: false,
    system: 'redis',
    ...fields,
  };
}

function message(fields: Partial<QueueMessageOperation> & Pick<QueueMessageOperation, 'role'>) {
  const operation: QueueMessageOperation = {
    type: 'queue_message',
    service: 'worker',
    traceId: 'q',
    spanId: spanId(),
    parentSpanId: '',
    startTimeMs: T0,
    durationMs: 2,
    error: false,
    system: 'rabbitmq',
    destination: 'orders',
    ...fields,
  };
  return operation;
}

function runtimeSample(fields: Partial<RuntimeSample> = {}): RuntimeSample {
  return {
    service: 'shop',
    instanceId: 'host-a:101',
    timeMs: now,
    intervalMs: 10_000,
    eventLoopLag: { minMs: 1, meanMs: 2, p50Ms: 2, p90Ms: 4, p99Ms: 12, maxMs: 40 },
    gc: { count: 3, pauseMs: 6, maxPauseMs: 4, byKind: { minor: { count: 3, pauseMs: 6 } } },
    memory: { rssBytes: 90e6, heapUsedBytes: 30e6, heapTotalBytes: 50e6, externalBytes: 1e6 },
    cpu: { userMs: 250, systemMs: 50 },
    ...fields,
  };
}

beforeEach(() => {
  now = T0;
  registry = new Registry();
});

describe('HTTP requests', () => {
  it('times requests per templated route in seconds and counts failures', async () => {
    const tap = observer();
    tap.onTrace?.(trace(request('a', { route: '/orders/:id', durationMs: 40 })), []);
    tap.onTrace?.(
      trace(request('b', { route: '/orders/:id', durationMs: 300, error: true, statusCode: 503 })),
      [],
    );
    const samples = await scrape();
    const labels = { service: 'shop', method: 'GET', route: '/orders/:id' };
    expect(sampleValue(samples, 'chokepoint_http_server_request_duration_seconds_count', labels)).toBe(2);
    expect(sampleValue(samples, 'chokepoint_http_server_request_duration_seconds_sum', labels)).toBeCloseTo(
      0.34,
    );
    expect(
      sampleValue(samples, 'chokepoint_http_server_request_duration_seconds_bucket', {
        ...labels,
        le: '0.05',
      }),
    ).toBe(1);
    expect(sampleValue(samples, 'chokepoint_http_server_request_errors_total', labels)).toBe(1);
  });

  it('folds unknown methods into _OTHER and routes past the cap into "other"', async () => {
    const tap = observer({ maxLabelValues: 2 });
    for (const route of ['/a', '/b', '/c', '/d']) tap.onTrace?.(trace(request(route, { route })), []);
    tap.onTrace?.(trace(request('x', { route: '/a', method: 'PURGE-CACHE' })), []);
    const samples = await scrape();
    const counts = samplesOf(samples, 'chokepoint_http_server_request_duration_seconds_count');
    expect(counts.map((sample) => [sample.labels.method, sample.labels.route, sample.value])).toEqual([
      ['GET', '/a', 1],
      ['GET', '/b', 1],
      ['GET', 'other', 2],
      ['_OTHER', 'other', 1],
    ]);
  });
});

describe('database statements', () => {
  const parent = request('p', { route: '/orders' });
  const statement = (fingerprint: string, durationMs: number, error = false) =>
    query(parent, { fingerprint, durationMs, error, fingerprintId: fingerprint.replace(/\W+/g, '-') });

  it('times each fingerprint, counts calls and errors, and names it in an info series', async () => {
    observer().onTrace?.(
      trace(
        parent,
        statement('select * from orders where id = ?', 2),
        statement('select * from orders where id = ?', 8, true),
      ),
      [],
    );
    const samples = await scrape();
    const labels = { service: 'shop', fingerprint_id: 'select-from-orders-where-id-' };
    expect(sampleValue(samples, 'chokepoint_db_query_duration_seconds_count', labels)).toBe(2);
    expect(sampleValue(samples, 'chokepoint_db_query_duration_seconds_sum', labels)).toBeCloseTo(0.01);
    expect(sampleValue(samples, 'chokepoint_db_queries_total', labels)).toBe(2);
    expect(sampleValue(samples, 'chokepoint_db_query_errors_total', labels)).toBe(1);
    expect(samplesOf(samples, 'chokepoint_db_query_info')).toEqual([
      {
        name: 'chokepoint_db_query_info',
        labels: { ...labels, system: 'postgresql', fingerprint: 'select * from orders where id = ?' },
        value: 1,
      },
    ]);
  });

  it('keeps the top N fingerprints by time; the rest share fingerprint_id="other" with no info series', async () => {
    const tap = observer({ topFingerprints: 2 });
    tap.onTrace?.(
      trace(parent, statement('select a', 5), statement('select b', 1), statement('select c', 50)),
      [],
    );
    const samples = await scrape();
    expect(
      samplesOf(samples, 'chokepoint_db_queries_total').map((sample) => [
        sample.labels.fingerprint_id,
        sample.value,
      ]),
    ).toEqual([
      ['select-a', 1],
      ['select-b', 1],
      ['other', 1],
    ]);
    expect(
      samplesOf(samples, 'chokepoint_db_query_info').map((sample) => sample.labels.fingerprint_id),
    ).toEqual(['select-a', 'select-b']);
  });

  it('re-ranks once per interval: the heaviest takes the place of the lightest, whose series go', async () => {
    const tap = observer({ topFingerprints: 2, rankIntervalMs: 60_000 });
    tap.onTrace?.(
      trace(parent, statement('select a', 5), statement('select b', 1), statement('select c', 50)),
      [],
    );
    now += 59_000;
    tap.onTrace?.(trace(parent, statement('select c', 50)), []);
    expect(
      samplesOf(await scrape(), 'chokepoint_db_queries_total', { fingerprint_id: 'select-c' }),
      'not before the interval',
    ).toEqual([]);

    now += 1_000;
    tap.onTrace?.(trace(parent, statement('select b', 1), statement('select c', 50)), []);
    const samples = await scrape();
    const calls = (id: string) => sampleValue(samples, 'chokepoint_db_queries_total', { fingerprint_id: id });
    expect(calls('select-a')).toBe(1);
    expect(calls('select-c')).toBe(1);
    expect(calls('select-b'), 'demoted: its series is removed').toBeUndefined();
    expect(calls('other'), 'c twice before promotion, b once after demotion').toBe(3);
    expect(
      samplesOf(samples, 'chokepoint_db_query_info').map((sample) => sample.labels.fingerprint_id),
    ).toEqual(['select-a', 'select-c']);
    expect(
      samplesOf(samples, 'chokepoint_db_query_duration_seconds_count', { fingerprint_id: 'select-b' }),
    ).toEqual([]);
  });

  it('counts each fingerprint right past the number of fingerprints it holds ready (10 000)', async () => {
    const tap = observer({ topFingerprints: 1 });
    tap.onTrace?.(trace(parent, statement('select a', 5)), []);
    const others = Array.from({ length: 12_000 }, (_, i) => statement(`select n${i}`, 1));
    tap.onTrace?.(trace(parent, ...others), []);
    tap.onTrace?.(trace(parent, statement('select a', 5), statement('select n1', 1)), []);
    const samples = await scrape();
    const calls = (id: string) => sampleValue(samples, 'chokepoint_db_queries_total', { fingerprint_id: id });
    expect(calls('select-a')).toBe(2);
    expect(calls('other')).toBe(12_001);
    expect(
      samplesOf(samples, 'chokepoint_db_query_info').map((sample) => sample.labels.fingerprint_id),
    ).toEqual(['select-a']);
  });

  it('truncates a very long fingerprint in the info series', async () => {
    const long = `select ${Array.from({ length: 200 }, (_, i) => `c${i}`).join(', ')} from wide`;
    observer().onTrace?.(trace(parent, statement(long, 1)), []);
    const [info] = samplesOf(await scrape(), 'chokepoint_db_query_info');
    expect(info?.labels.fingerprint).toHaveLength(300);
    expect(info?.labels.fingerprint?.endsWith('…')).toBe(true);
  });
});

describe('cache commands', () => {
  it('counts lookups by key pattern and outcome, multi-key reads per key, and times every command', async () => {
    const parent = request('c', { route: '/products/:id' });
    observer().onTrace?.(
      trace(
        parent,
        cacheCommand(parent, { command: 'GET', keyPattern: 'product:{id}', hit: true }),
        cacheCommand(parent, { command: 'GET', keyPattern: 'product:{id}', hit: false }),
        cacheCommand(parent, { command: 'MGET', keyPattern: 'product:{id}', hits: 3, misses: 1 }),
        cacheCommand(parent, { command: 'SET', keyPattern: 'product:{id}', ttlSeconds: 60, durationMs: 2 }),
      ),
      [],
    );
    const samples = await scrape();
    const lookups = (outcome: string) =>
      sampleValue(samples, 'chokepoint_cache_lookups_total', {
        service: 'shop',
        key_pattern: 'product:{id}',
        outcome,
      });
    expect(lookups('hit')).toBe(4);
    expect(lookups('miss')).toBe(2);
    expect(samplesOf(samples, 'chokepoint_cache_lookups_total')).toHaveLength(2);
    expect(sampleValue(samples, 'chokepoint_cache_command_duration_seconds_count', { command: 'GET' })).toBe(
      2,
    );
    expect(
      sampleValue(samples, 'chokepoint_cache_command_duration_seconds_sum', { command: 'SET' }),
    ).toBeCloseTo(0.002);
  });

  it('names a lookup without a key pattern "unknown" and caps key patterns', async () => {
    const parent = request('k', { route: '/k' });
    observer({ maxLabelValues: 1 }).onTrace?.(
      trace(
        parent,
        cacheCommand(parent, { command: 'GET', hit: true }),
        cacheCommand(parent, { command: 'GET', keyPattern: 'user:{id}', hit: true }),
      ),
      [],
    );
    const samples = await scrape();
    expect(
      sampleValue(samples, 'chokepoint_cache_lookups_total', { key_pattern: 'unknown', outcome: 'hit' }),
    ).toBe(1);
    expect(
      sampleValue(samples, 'chokepoint_cache_lookups_total', { key_pattern: 'other', outcome: 'hit' }),
    ).toBe(1);
  });
});

describe('queue messages', () => {
  it('counts messages by role and observes lag from the publish time, skew clamped to zero', async () => {
    const tap = observer();
    tap.onTrace?.(trace(message({ role: 'publish', service: 'shop' })), []);
    tap.onTrace?.(trace(message({ role: 'consume', publishTimeMs: T0 - 2_500 })), []);
    tap.onTrace?.(trace(message({ role: 'consume', publishTimeMs: T0 + 40 })), []);
    tap.onTrace?.(trace(message({ role: 'consume' })), []);
    const samples = await scrape();
    const queue = { system: 'rabbitmq', destination: 'orders' };
    expect(
      sampleValue(samples, 'chokepoint_queue_messages_total', { ...queue, service: 'shop', role: 'publish' }),
    ).toBe(1);
    expect(
      sampleValue(samples, 'chokepoint_queue_messages_total', {
        ...queue,
        service: 'worker',
        role: 'consume',
      }),
    ).toBe(3);
    const lag = { ...queue, service: 'worker' };
    expect(sampleValue(samples, 'chokepoint_queue_lag_seconds_count', lag), 'no publish time, no lag').toBe(
      2,
    );
    expect(sampleValue(samples, 'chokepoint_queue_lag_seconds_sum', lag)).toBeCloseTo(2.5);
    expect(sampleValue(samples, 'chokepoint_queue_lag_seconds_bucket', { ...lag, le: '0.005' })).toBe(1);
  });
});

describe('dependencies and connections', () => {
  function connect(
    parent: Operation,
    fields: Partial<DbConnectOperation> & { durationMs: number },
  ): DbConnectOperation {
    return {
      type: 'db_connect',
      service: parent.service,
      traceId: parent.traceId,
      spanId: spanId(),
      parentSpanId: parent.spanId,
      startTimeMs: parent.startTimeMs,
      error: false,
      system: 'postgresql',
      host: 'db:5432',
      ...fields,
    };
  }

  it('counts and times outbound calls per dependency, failures and 5xx as errors; consuming is no call', async () => {
    const parent = request('d', { route: '/checkout' });
    observer().onTrace?.(
      trace(
        parent,
        httpCall(parent, { urlTemplate: '/charges', host: 'pay.example.com:8443', durationMs: 200 }),
        httpCall(parent, {
          urlTemplate: '/charges',
          host: 'pay.example.com:8443',
          durationMs: 30,
          statusCode: 503,
        }),
        httpCall(parent, {
          urlTemplate: '/charges',
          host: 'pay.example.com:8443',
          durationMs: 5000,
          error: true,
        }),
        query(parent, { fingerprint: 'select ?', durationMs: 4, host: 'db:5432' }),
        query(parent, { fingerprint: 'select 1', durationMs: 2, error: true }),
        cacheCommand(parent, { command: 'GET', keyPattern: 'cart:{id}' }),
        queueMessage('d', { role: 'publish', destination: 'orders' }, parent),
      ),
      [],
    );
    const samples = await scrape();
    const value = (name: string, system: string, host: string) =>
      sampleValue(samples, name, { service: 'shop', system, host });
    const pay = ['http', 'pay.example.com:8443'] as const;
    expect(value('chokepoint_dependency_calls_total', ...pay)).toBe(3);
    expect(value('chokepoint_dependency_errors_total', ...pay)).toBe(2);
    expect(value('chokepoint_dependency_call_duration_seconds_sum', ...pay)).toBeCloseTo(5.23);
    expect(
      sampleValue(samples, 'chokepoint_dependency_call_duration_seconds_bucket', {
        system: 'http',
        host: 'pay.example.com:8443',
        le: '0.25',
      }),
    ).toBe(2);
    expect(value('chokepoint_dependency_calls_total', 'postgresql', 'db:5432')).toBe(1);
    expect(value('chokepoint_dependency_calls_total', 'postgresql', 'postgresql'), 'no server named').toBe(1);
    expect(value('chokepoint_dependency_errors_total', 'postgresql', 'postgresql')).toBe(1);
    expect(value('chokepoint_dependency_calls_total', 'redis', 'redis')).toBe(1);
    expect(value('chokepoint_dependency_calls_total', 'rabbitmq', 'rabbitmq')).toBe(1);
    expect(samplesOf(samples, 'chokepoint_dependency_calls_total')).toHaveLength(5);
  });

  it('folds dependencies past the cap into host="other"', async () => {
    const parent = request('h', { route: '/h' });
    observer({ maxLabelValues: 1 }).onTrace?.(
      trace(
        parent,
        httpCall(parent, { urlTemplate: '/a', host: 'a.example.com', durationMs: 1 }),
        httpCall(parent, { urlTemplate: '/b', host: 'b.example.com', durationMs: 1 }),
        httpCall(parent, { urlTemplate: '/c', host: 'c.example.com', durationMs: 1 }),
      ),
      [],
    );
    const calls = samplesOf(await scrape(), 'chokepoint_dependency_calls_total');
    expect(calls.map((sample) => [sample.labels.host, sample.value])).toEqual([
      ['a.example.com', 1],
      ['other', 2],
    ]);
  });

  it('sums time spent acquiring connections once per checkout, and counts the connections opened', async () => {
    const parent = request('c', { route: '/orders' });
    const checkout = connect(parent, { durationMs: 30, opensConnection: false });
    observer().onTrace?.(
      trace(
        parent,
        checkout,
        // The pool opening a connection inside the checkout: its time is the checkout's.
        connect(checkout, { durationMs: 20, opensConnection: true }),
        connect(parent, { durationMs: 10, opensConnection: true }),
        connect(parent, { durationMs: 4, opensConnection: false }),
        connect(parent, { durationMs: 6, system: 'mysql' }),
      ),
      [],
    );
    const samples = await scrape();
    const pg = { service: 'shop', db_system: 'postgresql' };
    expect(sampleValue(samples, 'chokepoint_db_connection_wait_seconds_total', pg)).toBeCloseTo(0.044);
    expect(sampleValue(samples, 'chokepoint_db_connections_opened_total', pg)).toBe(2);
    const mysql = { service: 'shop', db_system: 'mysql' };
    expect(sampleValue(samples, 'chokepoint_db_connection_wait_seconds_total', mysql)).toBeCloseTo(0.006);
    expect(
      sampleValue(samples, 'chokepoint_db_connections_opened_total', mysql),
      'the span does not say',
    ).toBe(0);
    expect(
      sampleValue(samples, 'chokepoint_dependency_calls_total', { system: 'postgresql', host: 'db:5432' }),
      'connections opened reach the server; checkouts do not',
    ).toBe(2);
  });
});

describe('traces and patterns', () => {
  it('counts assembled traces and the pattern occurrences detectors found in them', async () => {
    const tap = observer();
    const parent = request('n', { route: '/orders' });
    const occurrence: Occurrence = {
      kind: 'n_plus_one',
      service: 'shop',
      key: 'fp',
      traceId: 'n',
      repeats: 8,
      durationMs: 24,
      evidence: {},
    };
    tap.onTrace?.(trace(parent), [occurrence]);
    tap.onTrace?.(trace(request('m', { route: '/orders' })), []);
    const samples = await scrape();
    expect(sampleValue(samples, 'chokepoint_collector_traces_assembled_total')).toBe(2);
    expect(
      sampleValue(samples, 'chokepoint_pattern_occurrences_total', { service: 'shop', kind: 'n_plus_one' }),
    ).toBe(1);
  });
});

describe('runtime samples', () => {
  const instance = { service: 'shop', service_instance: 'host-a:101' };

  it('relays levels from the newest sample and sums totals over every sample', async () => {
    const tap = observer();
    tap.onRuntime?.([
      runtimeSample(),
      runtimeSample({
        timeMs: T0 - 10_000,
        memory: { rssBytes: 1, heapUsedBytes: 1, heapTotalBytes: 1, externalBytes: 1 },
      }),
    ]);
    const samples = await scrape();
    expect(sampleValue(samples, 'chokepoint_collector_runtime_samples_received_total')).toBe(2);
    expect(sampleValue(samples, 'chokepoint_runtime_event_loop_lag_p99_seconds', instance)).toBeCloseTo(
      0.012,
    );
    expect(sampleValue(samples, 'chokepoint_runtime_event_loop_lag_max_seconds', instance)).toBeCloseTo(0.04);
    expect(sampleValue(samples, 'chokepoint_runtime_rss_bytes', instance), 'the older sample came last').toBe(
      90e6,
    );
    expect(sampleValue(samples, 'chokepoint_runtime_heap_used_bytes', instance)).toBe(30e6);
    expect(sampleValue(samples, 'chokepoint_runtime_heap_total_bytes', instance)).toBe(50e6);
    expect(sampleValue(samples, 'chokepoint_runtime_gc_pause_seconds_total', instance)).toBeCloseTo(0.012);
    expect(sampleValue(samples, 'chokepoint_runtime_gc_collections_total', instance)).toBe(6);
    expect(
      sampleValue(samples, 'chokepoint_runtime_cpu_seconds_total', { ...instance, mode: 'user' }),
    ).toBeCloseTo(0.5);
    expect(
      sampleValue(samples, 'chokepoint_runtime_cpu_seconds_total', { ...instance, mode: 'system' }),
    ).toBeCloseTo(0.1);
  });

  it('skips malformed fields instead of failing, keeping the rest of the sample', async () => {
    const tap = observer();
    const broken = {
      ...runtimeSample(),
      service: '',
      eventLoopLag: { p99Ms: Number.NaN, maxMs: -1 },
      gc: { count: 'many', pauseMs: Number.POSITIVE_INFINITY },
      cpu: undefined,
    } as unknown as RuntimeSample;
    expect(() => tap.onRuntime?.([broken])).not.toThrow();
    const samples = await scrape();
    const unknown = { service: 'unknown_service', service_instance: 'host-a:101' };
    expect(sampleValue(samples, 'chokepoint_runtime_rss_bytes', unknown)).toBe(90e6);
    expect(sampleValue(samples, 'chokepoint_runtime_event_loop_lag_p99_seconds', unknown)).toBeUndefined();
    expect(sampleValue(samples, 'chokepoint_runtime_gc_pause_seconds_total', unknown)).toBe(0);
    expect(sampleValue(samples, 'chokepoint_runtime_cpu_seconds_total', { ...unknown, mode: 'user' })).toBe(
      0,
    );
  });

  it('drops an instance silent for longer than the TTL, and keeps at most maxLabelValues instances', async () => {
    const tap = observer({ runtimeTtlMs: 60_000, maxLabelValues: 2 });
    tap.onRuntime?.([runtimeSample({ instanceId: 'a' })]);
    now += 30_000;
    tap.onRuntime?.([runtimeSample({ instanceId: 'b' })]);
    now += 1_000;
    tap.onRuntime?.([runtimeSample({ instanceId: 'c' })]);
    const instances = (samples: Sample[]) =>
      samplesOf(samples, 'chokepoint_runtime_rss_bytes').map((sample) => sample.labels.service_instance);
    expect(instances(await scrape()), 'a, least recently seen, made room for c').toEqual(['b', 'c']);
    now += 59_500;
    expect(instances(await scrape()), 'b silent for 60.5 s').toEqual(['c']);
    expect(
      samplesOf(await scrape(), 'chokepoint_runtime_cpu_seconds_total').map((s) => s.labels.service_instance),
    ).toEqual(['c', 'c']);
  });
});
