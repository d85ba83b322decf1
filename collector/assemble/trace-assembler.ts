/**
 * Groups operations by trace and holds each trace briefly, so per-trace detectors
 * see a request with all its children. A trace is released once its local root has
 * arrived and no span came for `graceMs`, or when it is older than `maxAgeMs`.
 * Memory is bounded by `maxTraces` and `maxOperationsPerTrace`: beyond either, the
 * oldest (or the full) trace is released early rather than anything being dropped.
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
  private readonly pending = new Map<string, PendingTrace>();

  constructor(options: Partial<AssemblerOptions> = {}) {
    this.options = { ...defaultAssemblerOptions, ...options };
  }

  get size(): number {
    return this.pending.size;
  }

  /** Adds operations; returns traces released early to keep memory bounded. */
  add(operations: Operation[], nowMs: number): AssembledTrace[] {
    const released: AssembledTrace[] = [];
    for (const operation of operations) {
      let trace = this.pending.get(operation.traceId);
      if (!trace) {
        if (this.pending.size >= this.options.maxTraces) {
          const oldest = this.pending.keys().next().value;
          if (oldest !== undefined) released.push(this.release(oldest));
        }
        trace = { operations: [], firstArrivalMs: nowMs, lastArrivalMs: nowMs, hasRoot: false };
        this.pending.set(operation.traceId, trace);
      }
      trace.operations.push(operation);
      trace.lastArrivalMs = nowMs;
      if (isLocalRoot(operation)) trace.hasRoot = true;
      if (trace.operations.length >= this.options.maxOperationsPerTrace) {
        released.push(this.release(operation.traceId));
      }
    }
    return released;
  }

  /** Releases the traces that are complete (root + grace) or too old. */
  drainReady(nowMs: number): AssembledTrace[] {
    const ready: string[] = [];
    for (const [traceId, trace] of this.pending) {
      const quiet = nowMs - trace.lastArrivalMs >= this.options.graceMs;
      if ((trace.hasRoot && quiet) || nowMs - trace.firstArrivalMs >= this.options.maxAgeMs)
        ready.push(traceId);
    }
    return ready.map((traceId) => this.release(traceId));
  }

  /** Releases everything (shutdown, explicit flush). */
  drainAll(): AssembledTrace[] {
    return [...this.pending.keys()].map((traceId) => this.release(traceId));
  }

  private release(traceId: string): AssembledTrace {
    const trace = this.pending.get(traceId);
    this.pending.delete(traceId);
    return new AssembledTrace(traceId, trace?.operations ?? []);
  }
}

function isLocalRoot(operation: Operation): boolean {
  return (
    operation.parentSpanId === '' ||
    operation.type === 'http_server' ||
    (operation.type === 'queue_message' && operation.role === 'consume')
  );
}
