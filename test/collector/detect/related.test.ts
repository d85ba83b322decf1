import { describe, expect, it } from 'vitest';
import { linkRelated } from '../../../collector/detect/related.js';
import type { FindingCandidate } from '../../../model/index.js';

function candidate(
  fields: Partial<FindingCandidate> & Pick<FindingCandidate, 'kind' | 'key'>,
): FindingCandidate {
  return {
    service: 'shop',
    title: `${fields.kind} ${fields.key}`,
    severity: 'low',
    impact: 1,
    evidence: {},
    ...fields,
  };
}

const idOf = (kind: string, service: string, key: string) => `${kind}/${service}/${key}`;

describe('linkRelated', () => {
  it('links a slow route to the findings of its service whose routes name it, by impact', () => {
    const route = candidate({ kind: 'slow_endpoint', key: 'GET /orders', evidence: { dominant: 'sql' } });
    const input = [
      route,
      candidate({
        kind: 'slow_query',
        key: 'q1',
        impact: 50,
        evidence: { routes: [{ route: 'GET /orders', count: 3 }] },
      }),
      candidate({
        kind: 'n_plus_one',
        key: 'q2',
        impact: 900,
        evidence: { routes: [{ route: 'GET /orders', requests: 3 }] },
      }),
      candidate({
        kind: 'slow_query',
        key: 'q3',
        evidence: { routes: [{ route: 'GET /cart', count: 3 }] },
      }),
      candidate({
        kind: 'slow_query',
        key: 'q4',
        service: 'billing',
        evidence: { routes: [{ route: 'GET /orders', count: 1 }] },
      }),
      candidate({ kind: 'event_loop_blocked', key: 'event_loop' }),
    ];
    const linked = linkRelated(input, idOf);
    // The route's SQL dominates, yet the service's stalled loop stretches its awaited calls too: linked. So do its queries.
    const stall = {
      id: 'event_loop_blocked/shop/event_loop',
      kind: 'event_loop_blocked',
      title: 'event_loop_blocked event_loop',
      impact: 1,
    };
    expect(linked[0]?.evidence.related).toEqual([
      { id: 'n_plus_one/shop/q2', kind: 'n_plus_one', title: 'n_plus_one q2', impact: 900 },
      { id: 'slow_query/shop/q1', kind: 'slow_query', title: 'slow_query q1', impact: 50 },
      stall,
    ]);
    expect(linked.slice(1).map((c) => c.evidence.related)).toEqual([
      [stall],
      undefined,
      [stall],
      undefined,
      undefined,
    ]);
  });

  it('names the stalled event loop to the slow queries of asynchronous drivers only', () => {
    const query = (system: string, service = 'shop') =>
      candidate({ kind: 'slow_query', key: `${system} q`, service, evidence: { system } });
    const linked = linkRelated(
      [
        query('postgresql'),
        query('sqlite'),
        query('mysql', 'billing'),
        candidate({ kind: 'event_loop_blocked', key: 'event_loop' }),
      ],
      idOf,
    );
    expect(
      linked.map((c) => (c.evidence.related as Array<{ id: string }> | undefined)?.map((r) => r.id)),
    ).toEqual([['event_loop_blocked/shop/event_loop'], undefined, undefined, undefined]);
  });

  it('links the service’s event-loop and GC findings to a route whose own code dominates', () => {
    const route = candidate({ kind: 'slow_endpoint', key: 'GET /export', evidence: { dominant: 'ownCode' } });
    const [linked] = linkRelated(
      [
        route,
        candidate({ kind: 'gc_pressure', key: 'gc' }),
        candidate({ kind: 'event_loop_blocked', key: 'event_loop', service: 'other' }),
      ],
      idOf,
    );
    expect(((linked?.evidence.related ?? []) as Array<{ kind: string }>).map((r) => r.kind)).toEqual([
      'gc_pressure',
    ]);
  });

  it('never links a candidate to itself, while another of its kind naming its route is linked', () => {
    const namesOrders = { dominant: 'sql', routes: [{ route: 'GET /orders' }] };
    const linked = linkRelated(
      [
        candidate({ kind: 'slow_endpoint', key: 'GET /orders', evidence: namesOrders }),
        candidate({ kind: 'slow_endpoint', key: 'GET /orders/:id', evidence: namesOrders }),
      ],
      idOf,
    );
    expect(
      linked.map((c) => (c.evidence.related as Array<{ id: string }> | undefined)?.map((r) => r.id)),
    ).toEqual([['slow_endpoint/shop/GET /orders/:id'], []]);
  });

  it('leaves other candidates as they were', () => {
    const query = candidate({ kind: 'slow_query', key: 'q1', evidence: { routes: [] } });
    expect(linkRelated([query], idOf)).toEqual([query]);
  });
});
