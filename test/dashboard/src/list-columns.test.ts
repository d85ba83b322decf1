import { describe, expect, it } from 'vitest';
import { listColumns, rowKey } from '../../../dashboard/src/list-columns.js';
import type { Finding } from '../../../model/finding.js';
import { cacheRow, endpointRow, queryRow, queueRow, runtimeRow } from './rows.js';

function finding(fields: Partial<Finding> & Pick<Finding, 'id' | 'kind' | 'key'>): Finding {
  return {
    service: 'shop',
    title: fields.id,
    severity: 'high',
    impact: 100,
    status: 'new',
    firstSeen: '',
    lastSeen: '',
    evidence: {},
    recommendation: { summary: '', detail: '' },
    ...fields,
  };
}

const findings = [
  finding({
    id: 'slow',
    kind: 'slow_query',
    key: 'fp-1',
    evidence: { fingerprintId: 'fp-1', routes: [{ route: 'GET /orders', count: 3 }] },
  }),
  finding({
    id: 'loop',
    kind: 'n_plus_one',
    key: 'fp-1',
    evidence: { fingerprintId: 'fp-1', routes: [{ route: 'GET /orders', requests: 3 }] },
  }),
  finding({ id: 'route', kind: 'slow_endpoint', key: 'GET /orders' }),
  finding({
    id: 'elsewhere',
    kind: 'slow_query',
    key: 'fp-1',
    service: 'billing',
    evidence: { fingerprintId: 'fp-1' },
  }),
  finding({ id: 'cache', kind: 'cache_hit_ratio', key: 'redis product:{id}' }),
  finding({ id: 'queue', kind: 'queue_lag', key: 'rabbitmq orders', service: 'worker' }),
  finding({
    id: 'loop-blocked',
    kind: 'event_loop_blocked',
    key: 'event_loop',
    evidence: { instances: [{ instanceId: 'host:1' }] },
  }),
];
const context = { findings, allServices: false };

function cells<Row>(columns: Array<{ key: string; text?: (row: Row) => string }>, row: Row) {
  return Object.fromEntries(
    columns.flatMap((column) => (column.text ? [[column.key, column.text(row)]] : [])),
  );
}

describe('listColumns', () => {
  it('reads each endpoint with units, and links the findings about its route', () => {
    const columns = listColumns('endpoints', context);
    expect(columns.map((column) => column.label)).toEqual([
      'Route',
      'Requests',
      'p50',
      'p95',
      'p99',
      'Errors',
      'Time',
      'p95 over time',
      'Findings',
    ]);
    const row = endpointRow({
      route: 'GET /orders',
      count: 200,
      errors: 5,
      requestsPerMin: 20,
      p95Ms: 1_250,
      msPerMin: 12_500,
    });
    expect(cells(columns, row)).toEqual({
      route: 'GET /orders',
      requestsPerMin: '20/min',
      p50Ms: '80 ms',
      p95Ms: '1.25 s',
      p99Ms: '200 ms',
      errors: '3%',
      msPerMin: '12,500 ms/min',
    });
    const linked = columns.find((column) => column.key === 'findings')?.findings?.(row);
    expect(linked?.map((item) => item.id)).toEqual(['slow', 'loop', 'route']);
  });

  it('names the service only when rows of several services share the table', () => {
    expect(listColumns('queries', { findings, allServices: true }).map((column) => column.key)).toContain(
      'service',
    );
    expect(listColumns('queries', context).map((column) => column.key)).not.toContain('service');
  });

  it('links a statement to its findings in its own service only', () => {
    const column = listColumns('queries', context).find((candidate) => candidate.key === 'findings');
    expect(
      column?.findings?.(queryRow({ fingerprint: 'select 1', fingerprintId: 'fp-1' })).map((item) => item.id),
    ).toEqual(['slow', 'loop']);
    expect(
      column
        ?.findings?.(queryRow({ fingerprint: 'select 1', fingerprintId: 'fp-1', service: 'billing' }))
        .map((item) => item.id),
    ).toEqual(['elsewhere']);
    // Sorting by findings ranks the rows that lead to the most impact first.
    expect(column?.value?.(queryRow({ fingerprint: 'select 1', fingerprintId: 'fp-1' }))).toBe(200);
  });

  it('reads caches, queues and processes, with a dash where nothing was measured', () => {
    const cache = cacheRow({
      keyPattern: 'product:{id}',
      hitRatio: null,
      ttlsSeconds: [{ ttlSeconds: 5, count: 9 }],
    });
    expect(cells(listColumns('caches', context), cache)).toMatchObject({
      hitRatio: '—',
      ttl: '5.00 s',
      lookupsPerMin: '10/min',
    });
    expect(
      listColumns('caches', context)
        .find((column) => column.key === 'findings')
        ?.findings?.(cache)
        .map((item) => item.id),
    ).toEqual(['cache']);

    const queue = queueRow({ destination: 'orders', lagP95Ms: null, processingP95Ms: 1_500 });
    expect(cells(listColumns('queues', context), queue)).toMatchObject({
      lagP95Ms: '—',
      processingP95Ms: '1.50 s',
    });
    expect(
      listColumns('queues', context)
        .find((column) => column.key === 'findings')
        ?.findings?.(queue)
        .map((item) => item.id),
    ).toEqual(['queue']);

    const process = runtimeRow({ instanceId: 'host:1', heapUsedMaxMb: 1_536, maxDelayMs: 250 });
    expect(cells(listColumns('runtime', context), process)).toMatchObject({
      heapUsedMaxMb: '1.5 GB',
      maxDelayMs: '250 ms',
      serviceVersion: '—',
    });
    expect(
      listColumns('runtime', context)
        .find((column) => column.key === 'findings')
        ?.findings?.(process)
        .map((item) => item.id),
    ).toEqual(['loop-blocked']);
  });

  it('draws each sparkline from its row’s series, and sorts no sparkline column', () => {
    for (const name of ['endpoints', 'queries', 'caches', 'queues', 'runtime'] as const) {
      const sparklines = listColumns(name, context).filter((column) => column.sparkline);
      expect(sparklines.length, name).toBeGreaterThan(0);
      expect(sparklines.every((column) => column.value === undefined)).toBe(true);
    }
    const p95 = listColumns('queries', context).find((column) => column.sparkline);
    expect(p95?.sparkline?.values(queryRow({ fingerprint: 'x', series: { p95Ms: [1, null, 3] } }))).toEqual([
      1,
      null,
      3,
    ]);
    expect(p95?.sparkline?.values(queryRow({ fingerprint: 'x' }))).toEqual([]);
  });
});

describe('rowKey', () => {
  it('identifies a row by its service and what the collector keys it by', () => {
    expect(rowKey('caches', cacheRow({ keyPattern: 'a:{id}' }))).toBe('shop\u0000redis a:{id}');
    expect(rowKey('runtime', runtimeRow({ instanceId: 'h:1' }))).toBe('shop\u0000h:1');
    expect(rowKey('queries', queryRow({ fingerprint: 'x', fingerprintId: 'fp' }))).not.toBe(
      rowKey('queries', queryRow({ fingerprint: 'x', fingerprintId: 'fp', service: 'billing' })),
    );
  });
});
