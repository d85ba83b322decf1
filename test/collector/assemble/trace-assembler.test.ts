import { describe, expect, it } from 'vitest';
import { AssembledTrace, entryLabel } from '../../../collector/assemble/trace.js';
import { TraceAssembler } from '../../../collector/assemble/trace-assembler.js';
import type { Operation } from '../../../model/index.js';
import { internal, query, queueMessage, request } from '../../support/operations.js';

describe('TraceAssembler', () => {
  it('holds a trace until its root arrived and the grace period passed', () => {
    const assembler = new TraceAssembler({ graceMs: 1_000 });
    const root = request('t1', { route: '/orders' });
    const child = query(root, { fingerprint: 'select * from orders where id = ?', durationMs: 3 });
    expect(assembler.add([child], 0)).toEqual([]);
    expect(assembler.drainReady(5_000)).toEqual([]);
    assembler.add([root], 5_000);
    expect(assembler.drainReady(5_500)).toEqual([]);
    const [trace] = assembler.drainReady(6_000);
    expect(trace?.operations).toEqual([child, root]);
    expect(assembler.size).toBe(0);
  });

  it('releases a trace whose root never comes once it is older than maxAgeMs', () => {
    const assembler = new TraceAssembler({ maxAgeMs: 30_000 });
    const orphan = query(request('t2', { route: '/x' }), { fingerprint: 'select ?', durationMs: 1 });
    assembler.add([orphan], 0);
    expect(assembler.drainReady(29_999)).toEqual([]);
    expect(assembler.drainReady(30_000).map((t) => t.traceId)).toEqual(['t2']);
  });

  it('starts a trace afresh for spans arriving after it was released, however it was released', () => {
    const span = (traceId: string) =>
      query(request(traceId, { route: '/' }), { fingerprint: 'select ?', durationMs: 1 });
    const releases: Array<[string, (assembler: TraceAssembler) => AssembledTrace[]]> = [
      // Still receiving spans, so never quiet, but older than maxAgeMs.
      ['too old', (assembler) => assembler.add([span('t')], 29_500).concat(assembler.drainReady(30_000))],
      ['full', (assembler) => assembler.add([span('t'), span('t')], 0)],
      ['oldest', (assembler) => assembler.add([span('u'), span('v')], 0)],
      [
        'quiet',
        (assembler) => assembler.add([request('t', { route: '/' })], 0).concat(assembler.drainReady(1_000)),
      ],
    ];
    for (const [how, release] of releases) {
      const assembler = new TraceAssembler({ maxAgeMs: 30_000, maxOperationsPerTrace: 3, maxTraces: 2 });
      assembler.add([span('t')], 0);
      const released = release(assembler).filter((trace) => trace.traceId === 't');
      expect(released, how).toHaveLength(1);
      const held = [...(released[0] as AssembledTrace).operations];
      const late = span('t');
      assembler.add([late], 30_100);
      expect(released[0]?.operations, how).toEqual(held);
      const again = assembler.drainAll().filter((trace) => trace.traceId === 't');
      expect(
        again.map((trace) => trace.operations),
        how,
      ).toEqual([[late]]);
    }
  });

  it('stays bounded: the oldest trace is released when maxTraces is reached', () => {
    const assembler = new TraceAssembler({ maxTraces: 2 });
    const ops = ['a', 'b', 'c'].map((id) =>
      query(request(id, { route: '/' }), { fingerprint: 'select ?', durationMs: 1 }),
    );
    expect(assembler.add(ops.slice(0, 2), 0)).toEqual([]);
    const released = assembler.add(ops.slice(2), 0);
    expect(released.map((t) => t.traceId)).toEqual(['a']);
    expect(assembler.size).toBe(2);
  });

  it('releases a trace as soon as it reaches maxOperationsPerTrace', () => {
    const assembler = new TraceAssembler({ maxOperationsPerTrace: 3 });
    const root = request('big', { route: '/' });
    const children = Array.from({ length: 4 }, () => query(root, { fingerprint: 'select ?', durationMs: 1 }));
    const released = assembler.add(children, 0);
    expect(released).toHaveLength(1);
    expect(released[0]?.operations).toHaveLength(3);
    expect(assembler.size).toBe(1);
  });

  it('completes traces as spans keep coming, without waiting for a drain', () => {
    const assembler = new TraceAssembler({ graceMs: 1_000 });
    const first = request('first', { route: '/a' });
    const second = request('second', { route: '/b' });
    assembler.add([first], 0);
    assembler.add([second], 500);
    expect(assembler.add([request('third', { route: '/c' })], 999)).toEqual([]);
    expect(assembler.add([request('fourth', { route: '/d' })], 1_000).map((t) => t.traceId)).toEqual([
      'first',
    ]);
    expect(assembler.add([request('fifth', { route: '/e' })], 1_600).map((t) => t.traceId)).toEqual([
      'second',
    ]);
    expect(assembler.size).toBe(3);
  });

  it('counts the grace period from the last span of a trace, and keeps waiting for a late root', () => {
    const assembler = new TraceAssembler({ graceMs: 1_000, maxAgeMs: 30_000 });
    const root = request('t1', { route: '/orders' });
    const child = query(root, { fingerprint: 'select ?', durationMs: 1 });
    const rootless = query(request('t2', { route: '/x' }), { fingerprint: 'select ?', durationMs: 1 });
    assembler.add([rootless], 0);
    assembler.add([root], 0);
    assembler.add([child], 900);
    // t1 got a span at 900: not quiet before 1900. t2 is quiet but rootless: it waits, out of the way.
    expect(assembler.add([], 1_500)).toEqual([]);
    expect(assembler.add([], 1_900).map((t) => t.traceId)).toEqual(['t1']);
    // Its root arrives late: it is released a grace period later, whole.
    const lateRoot = request('t2', { route: '/x' });
    assembler.add([lateRoot], 5_000);
    const [late] = assembler.add([], 6_000);
    expect(late?.operations).toEqual([rootless, lateRoot]);
    expect(assembler.size).toBe(0);
  });
});

describe('AssembledTrace.entryOf', () => {
  it('finds the request above nested spans, and labels it', () => {
    const assembler = new TraceAssembler();
    const root = request('t3', { route: '/orders/:id', method: 'POST' });
    const middleware = internal(root, 'request handler');
    const sql = query(middleware, { fingerprint: 'select ?', durationMs: 1 });
    assembler.add([sql, middleware, root], 0);
    const [trace] = assembler.drainAll();
    expect(trace?.entryOf(sql)).toBe(root);
    expect(entryLabel(trace?.entryOf(sql))).toBe('POST /orders/:id');
  });

  it('labels every method of a route and every role of a destination, however many and in any order', () => {
    const methods = Array.from({ length: 20 }, (_, i) => `M${i}`);
    for (const round of [0, 1]) {
      for (const method of round === 0 ? methods : [...methods].reverse()) {
        expect(entryLabel(request('t', { route: '/orders/:id', method }))).toBe(`${method} /orders/:id`);
        expect(entryLabel(request('t', { route: `/r${method}`, method }))).toBe(`${method} /r${method}`);
      }
      for (const role of ['consume', 'publish'] as const) {
        expect(entryLabel(queueMessage('t', { role, destination: 'orders' }))).toBe(`${role} orders`);
      }
    }
  });

  it('falls back to the topmost ancestor in the same service when there is no request', () => {
    const assembler = new TraceAssembler();
    const job = { ...internal(request('t4', { route: '/' }), 'nightly-report'), parentSpanId: '' };
    const sql = query(job, { fingerprint: 'select ?', durationMs: 1 });
    assembler.add([job, sql], 0);
    const [trace] = assembler.drainAll();
    expect(trace?.entryOf(sql)).toBe(job);
    expect(entryLabel(trace?.entryOf(sql))).toBe('nightly-report');
  });

  it("stops at the service boundary: under another service's span, an operation has its own service's topmost span", () => {
    const root = request('t5', { route: '/checkout' });
    const call = { ...internal(root, 'POST payments'), service: 'payments', parentSpanId: root.spanId };
    const inner = { ...internal(call, 'charge'), service: 'payments' };
    const sql = { ...query(inner, { fingerprint: 'insert ?', durationMs: 1 }), service: 'payments' };
    const trace = new AssembledTrace('t5', [root, call, inner, sql]);
    expect(trace.entryOf(sql)).toBe(call);
    expect(trace.entryOf(inner)).toBe(call);
    expect(trace.entryOf(root)).toBe(root);
  });

  it('ends a walk through a parent cycle, whichever operation it starts from', () => {
    const first = internal(request('t6', { route: '/' }), 'a');
    const second = { ...internal(first, 'b') };
    first.parentSpanId = second.spanId;
    const trace = new AssembledTrace('t6', [first, second]);
    expect([first, second]).toContain(trace.entryOf(second));
    expect(trace.entryOf(first)).toBe(trace.entryOf(second));
  });

  it("remembers each operation's entry, and labels every unit of work of a trace by its own entry", () => {
    const orders = queueMessage('t7', { role: 'consume', destination: 'orders' });
    const refunds = { ...queueMessage('t7', { role: 'consume', destination: 'refunds' }), parentSpanId: '' };
    const underOrders = query(internal(orders, 'handle'), { fingerprint: 'select ?', durationMs: 1 });
    const underRefunds = query(refunds, { fingerprint: 'update ?', durationMs: 1 });
    const handler = { ...internal(orders, 'handle'), spanId: underOrders.parentSpanId };
    const trace = new AssembledTrace('t7', [orders, refunds, handler, underOrders, underRefunds]);
    for (let round = 0; round < 2; round++) {
      expect(trace.labelOf(underOrders)).toBe('consume orders');
      expect(trace.labelOf(underRefunds)).toBe('consume refunds');
      expect(trace.labelOf(handler)).toBe('consume orders');
      expect(trace.entryOf(handler)).toBe(orders);
    }
    expect(trace.get(handler.spanId)).toBe(handler);
    expect(trace.get('ffffffffffffffff')).toBeUndefined();
    expect(trace.children(orders.spanId)).toEqual([handler]);
    expect(trace.children(underRefunds.spanId)).toEqual([]);
  });

  it('finds span ids alike in small traces (scanned) and large ones (mapped): the last operation with an id wins', () => {
    for (const depth of [3, 15, 16, 40]) {
      const root = request(`t-depth-${depth}`, { route: '/deep' });
      const chain: Operation[] = [root];
      for (let level = 1; level < depth; level++)
        chain.push(internal(chain[level - 1] as Operation, `level ${level}`));
      const deepest = chain[chain.length - 1] as Operation;
      // A span id sent twice: the later operation is the one the id names.
      const resent = { ...internal(root, 'resent'), spanId: deepest.spanId, parentSpanId: root.spanId };
      const trace = new AssembledTrace(root.traceId, [...chain, resent]);
      expect(trace.operations.length).toBe(depth + 1);
      expect(trace.get(deepest.spanId)).toBe(resent);
      expect(trace.get(root.spanId)).toBe(root);
      expect(trace.get('ffffffffffffffff')).toBeUndefined();
      for (const operation of trace.operations) expect(trace.entryOf(operation)).toBe(root);
      const outsider = internal(request('elsewhere', { route: '/' }), 'not in the trace');
      expect(trace.entryOf(outsider)).toBe(outsider);
    }
  });
});
