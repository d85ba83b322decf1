/**
 * Groups operations by trace and holds each trace briefly, so per-trace detectors
 * see a request with all its children. A trace is released once its local root has
 * arrived and no span came for `graceMs`, or when it is older than `maxAgeMs`.
 * Memory is bounded by `maxTraces` and `maxOperationsPerTrace`: beyond either, the
 * oldest (or the full) trace is released early rather than anything being dropped.
 * Traces are kept in the order they last received a span, so the complete ones are found
 * at the front without scanning the others.
 */
import type { Operation } from '../../model/index.js';
import { AssembledTrace } from './trace.js';

export interface AssemblerOptions {
  /** Quiet time after the root arrived before the trace is released. */
  graceMs: number;
  /** Longest a trace is held without its root. */
  maxAgeMs: number;
  maxTraces: number;
  maxOperationsPerTrace: number;
}

export const defaultAssemblerOptions: AssemblerOptions = {
  graceMs: 1_000,
  maxAgeMs: 30_000,
  maxTraces: 20_000,
  maxOperationsPerTrace: 10_000,
};

interface PendingTrace {
  operations: Operation[];
  firstArrivalMs: number;
  lastArrivalMs: number;
  hasRoot: boolean;
}

export class TraceAssembler {
  private readonly options: AssemblerOptions;
  /** Traces still receiving spans, least recently added to first: the front is what fell quiet first. */
  private readonly pending = new Map<string, PendingTrace>();
  /** Quiet traces whose root has not come (yet): held until `maxAgeMs`, or until more of them arrives. */
  private readonly waiting = new Map<string, PendingTrace>();
  /** The trace the last operation went to: the spans of a trace arrive together, and it is already last. */
  private lastTraceId = '';

  constructor(options: Partial<AssemblerOptions> = {}) {
    this.options = { ...defaultAssemblerOptions, ...options };
  }

  get size(): number {
    return this.pending.size + this.waiting.size;
  }

  /**
   * Adds operations; returns the traces this completes: those quiet for `graceMs` since their
   * root arrived, so that completing traces is spread over ingest rather than left to a periodic
   * drain, and those released early to keep memory bounded.
   */
  add(operations: Operation[], nowMs: number): AssembledTrace[] {
    const released: AssembledTrace[] = [];
    for (const operation of operations) {
      const traceId = operation.traceId;
      let trace: PendingTrace | undefined;
      if (traceId === this.lastTraceId) trace = this.pending.get(traceId);
      if (!trace) trace = this.touch(traceId, nowMs, released);
      trace.operations.push(operation);
      trace.lastArrivalMs = nowMs;
      if (isLocalRoot(operation)) trace.hasRoot = true;
      if (trace.operations.length >= this.options.maxOperationsPerTrace) {
        this.pending.delete(traceId);
        this.lastTraceId = '';
        released.push(new AssembledTrace(traceId, trace.operations));
      }
    }
    this.releaseQuiet(nowMs, released);
    return released;
  }

  /** Releases the traces that are complete (root + grace) or too old. */
  drainReady(nowMs: number): AssembledTrace[] {
    const released: AssembledTrace[] = [];
    this.releaseQuiet(nowMs, released);
    // Traces that never fall quiet, or never get their root, still end at maxAgeMs.
    for (const traces of [this.pending, this.waiting]) {
      for (const [traceId, trace] of traces) {
        if (nowMs - trace.firstArrivalMs < this.options.maxAgeMs) continue;
        traces.delete(traceId);
        released.push(new AssembledTrace(traceId, trace.operations));
      }
    }
    return released;
  }

  /** Releases everything (shutdown, explicit flush). */
  drainAll(): AssembledTrace[] {
    const released = [...this.waiting, ...this.pending].map(
      ([traceId, trace]) => new AssembledTrace(traceId, trace.operations),
    );
    this.waiting.clear();
    this.pending.clear();
    this.lastTraceId = '';
    return released;
  }

  /** The trace `traceId` moved to the back of `pending` (created if new), as it just received a span. */
  private touch(traceId: string, nowMs: number, released: AssembledTrace[]): PendingTrace {
    let trace = this.pending.get(traceId) ?? this.waiting.get(traceId);
    if (trace) {
      this.pending.delete(traceId);
      this.waiting.delete(traceId);
    } else {
      if (this.size >= this.options.maxTraces) released.push(this.releaseOldest());
      trace = { operations: [], firstArrivalMs: nowMs, lastArrivalMs: nowMs, hasRoot: false };
    }
    this.pending.set(traceId, trace);
    this.lastTraceId = traceId;
    return trace;
  }

  /**
   * From the front of `pending`, while quiet for `graceMs`: traces with their root are released,
   * the others wait. Stops at the first trace still receiving spans, so a call costs what it releases.
   */
  private releaseQuiet(nowMs: number, released: AssembledTrace[]): void {
    for (const [traceId, trace] of this.pending) {
      if (nowMs - trace.lastArrivalMs < this.options.graceMs) break;
      this.pending.delete(traceId);
      if (traceId === this.lastTraceId) this.lastTraceId = '';
      if (trace.hasRoot || nowMs - trace.firstArrivalMs >= this.options.maxAgeMs) {
        released.push(new AssembledTrace(traceId, trace.operations));
      } else {
        this.waiting.set(traceId, trace);
      }
    }
  }

  /** The trace that has waited longest for its root, else the one quiet longest. */
  private releaseOldest(): AssembledTrace {
    const traces = this.waiting.size > 0 ? this.waiting : this.pending;
    const [traceId, trace] = traces.entries().next().value as [string, PendingTrace];
    traces.delete(traceId);
    if (traceId === this.lastTraceId) this.lastTraceId = '';
    return new AssembledTrace(traceId, trace.operations);
  }
}

function isLocalRoot(operation: Operation): boolean {
  return (
    operation.parentSpanId === '' ||
    operation.type === 'http_server' ||
    (operation.type === 'queue_message' && operation.role === 'consume')
  );
}
