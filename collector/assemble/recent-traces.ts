/**
 * The last few hundred assembled traces, kept so a finding can store one whole
 * example request (for the N+1 waterfall) when it names it. Bounded by count; the
 * operations are already scrubbed, so nothing private is held or stored.
 */
import type { Operation } from '../../model/index.js';
import type { AssembledTrace } from './trace.js';

export class RecentTraces {
  private readonly traces = new Map<string, Operation[]>();

  constructor(private readonly capacity = 500) {}

  remember(trace: AssembledTrace): void {
    this.traces.delete(trace.traceId);
    this.traces.set(trace.traceId, trace.operations);
    if (this.traces.size > this.capacity) {
      const oldest = this.traces.keys().next().value;
      if (oldest !== undefined) this.traces.delete(oldest);
    }
  }

  get(traceId: string): Operation[] | undefined {
    return this.traces.get(traceId);
  }
}
