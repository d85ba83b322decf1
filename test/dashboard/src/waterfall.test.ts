import { describe, expect, it } from 'vitest';
import { highlighterFor, waterfall } from '../../../dashboard/src/waterfall.js';
import type { Finding } from '../../../model/finding.js';
import type { Operation } from '../../../model/operation.js';
import { cacheCommand, httpCall, query, request } from '../../support/operations.js';

const START = 1_700_000_000_000;

function finding(fields: Partial<Finding> & Pick<Finding, 'kind' | 'key'>): Finding {
  return {
    id: 'f1',
    service: 'shop',
    title: 't',
    severity: 'low',
    impact: 1,
    status: 'new',
    firstSeen: '',
    lastSeen: '',
    evidence: {},
    recommendation: { summary: '', detail: '' },
    ...fields,
  };
}

/** GET /orders: one list query, then the same item query three times, then a cache write. */
function ordersTrace(): Operation[] {
  const root = request('t1', { route: '/orders', startTimeMs: START, durationMs: 40 });
  const items = (index: number) =>
    query(root, {
      fingerprint: 'select * from items where order_id = ?',
      fingerprintId: 'fp-items',
      startTimeMs: START + 10 + index * 5,
      durationMs: 4,
    });
  return [
    items(2),
    cacheCommand(root, { command: 'SET', keyPattern: 'orders:{id}', startTimeMs: START + 30, durationMs: 1 }),
    root,
    query(root, {
      fingerprint: 'select * from orders',
      fingerprintId: 'fp-orders',
      startTimeMs: START + 1,
      durationMs: 8,
    }),
    items(0),
    items(1),
  ];
}

describe('waterfall', () => {
  it('lays operations out in call order on the request’s timeline, marking the ones asked for', () => {
    const layout = waterfall(
      ordersTrace(),
      (operation) => operation.type === 'db_query' && operation.fingerprintId === 'fp-items',
    );
    expect(layout.totalMs).toBe(40);
    expect(layout.rows.map((row) => [row.tag, row.label, row.depth, row.highlighted])).toEqual([
      ['HTTP in', 'GET /orders', 0, false],
      ['SQL', 'select * from orders', 1, false],
      ['SQL', 'select * from items where order_id = ?', 1, true],
      ['SQL', 'select * from items where order_id = ?', 1, true],
      ['SQL', 'select * from items where order_id = ?', 1, true],
      ['cache', 'SET orders:{id}', 1, false],
    ]);
    expect(layout.rows[2]).toMatchObject({ offset: 0.25, width: 0.1, durationMs: 4 });
    expect(layout.highlighted).toBe(3);
    expect(layout.hidden).toBe(0);
  });

  it('shows orphans as roots, survives a cycle of parent links, and counts rows past the limit', () => {
    const a = request('t2', { route: '/a', startTimeMs: START, durationMs: 10 });
    const b = { ...query(a, { fingerprint: 'select 1', durationMs: 1 }), parentSpanId: 'c' };
    const c = {
      ...query(a, { fingerprint: 'select 2', durationMs: 1 }),
      spanId: 'c',
      parentSpanId: b.spanId,
    };
    const orphan = { ...query(a, { fingerprint: 'select 3', durationMs: 1 }), parentSpanId: 'missing' };
    const layout = waterfall([a, b, c, orphan], () => false, 3);
    expect(layout.rows.map((row) => row.label)).toEqual(['GET /a', 'select 3', 'select 1']);
    expect(layout.hidden).toBe(1);
  });

  it('lays out an empty trace as nothing', () => {
    expect(waterfall([], () => true)).toEqual({ totalMs: 0, rows: [], highlighted: 0, hidden: 0 });
  });
});

describe('highlighterFor', () => {
  const root = request('t3', { route: '/cart', startTimeMs: START, durationMs: 50 });
  const operations: Operation[] = [
    root,
    query(root, { fingerprint: 'select * from carts', fingerprintId: 'fp-carts', durationMs: 3 }),
    httpCall(root, { urlTemplate: '/users/{id}', durationMs: 10 }),
    cacheCommand(root, { command: 'GET', keyPattern: 'cart:{id}', hit: false }),
  ];
  const marked = (subject: Finding) => {
    const highlight = highlighterFor(subject);
    return highlight ? operations.filter(highlight).map((operation) => operation.type) : undefined;
  };

  it('marks what each kind of finding is about', () => {
    expect(
      marked(finding({ kind: 'n_plus_one', key: 'fp-carts', evidence: { fingerprintId: 'fp-carts' } })),
    ).toEqual(['db_query']);
    expect(marked(finding({ kind: 'slow_query', key: 'fp-other' }))).toEqual([]);
    expect(marked(finding({ kind: 'n_plus_one_http', key: 'GET users.internal:8080/users/{id}' }))).toEqual([
      'http_client',
    ]);
    expect(marked(finding({ kind: 'cache_hit_ratio', key: 'redis cart:{id}' }))).toEqual(['cache_command']);
    expect(
      marked(finding({ kind: 'slow_endpoint', key: 'GET /cart', evidence: { dominant: 'http' } })),
    ).toEqual(['http_client']);
  });

  it('marks what the playbook kinds are about', () => {
    const connect: Operation = {
      type: 'db_connect',
      service: 'shop',
      traceId: root.traceId,
      spanId: 'connect-1',
      parentSpanId: root.spanId,
      startTimeMs: START + 1,
      durationMs: 20,
      error: false,
      system: 'postgresql',
    };
    const audit = query(root, { fingerprint: 'insert into audit_log values (?)', durationMs: 2 });
    const mail = httpCall(root, {
      host: 'mail.internal',
      method: 'POST',
      urlTemplate: '/send',
      durationMs: 30,
    });
    const all = [...operations, connect, audit, mail];
    // Each finding, and the operations it should mark.
    const cases: Array<[Pick<Finding, 'kind' | 'key' | 'evidence'>, Operation[]]> = [
      [{ kind: 'connection_pool', key: 'postgresql', evidence: { system: 'postgresql' } }, [connect]],
      [{ kind: 'dependency_resilience', key: 'mail.internal', evidence: { host: 'mail.internal' } }, [mail]],
      [
        { kind: 'offload_candidate', key: 'k', evidence: { work: 'POST mail.internal/send', type: 'http' } },
        [mail],
      ],
      [
        {
          kind: 'offload_candidate',
          key: 'k',
          evidence: { type: 'write', fingerprint: 'insert into audit_log values (?)' },
        },
        [audit],
      ],
      [{ kind: 'static_assets', key: 'static', evidence: {} }, [root]],
    ];
    const marks = cases.map(([fields]) => all.filter(highlighterFor(finding(fields)) ?? (() => false)));
    expect(marks).toEqual(cases.map(([, marked]) => marked));
  });

  it('marks nothing where a finding names no operation', () => {
    expect(
      marked(finding({ kind: 'slow_endpoint', key: 'GET /cart', evidence: { dominant: 'ownCode' } })),
    ).toBeUndefined();
    expect(marked(finding({ kind: 'event_loop_blocked', key: 'event_loop' }))).toBeUndefined();
  });
});
