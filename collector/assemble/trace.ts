/**
 * An assembled trace: the operations of one trace that arrived together, with the
 * parent/child navigation per-trace detectors need.
 */
import type { Operation } from '../../model/index.js';

export class AssembledTrace {
  private byId: Map<string, Operation> | undefined;
  private childrenById: Map<string, Operation[]> | undefined;
  private readonly entries = new Map<string, Operation | undefined>();
  private readonly labels = new Map<Operation, string | undefined>();

  constructor(
    readonly traceId: string,
    readonly operations: Operation[],
  ) {}

  get(spanId: string): Operation | undefined {
    this.index();
    return this.byId?.get(spanId);
  }

  /** Direct children of a span, in arrival order. */
  children(spanId: string): Operation[] {
    this.index();
    return this.childrenById?.get(spanId) ?? [];
  }

  /**
   * The request or job an operation belongs to: the nearest inbound request or
   * consumed message above it in the same service, else its topmost ancestor there.
   */
  entryOf(operation: Operation): Operation | undefined {
    const known = this.entries.get(operation.spanId);
    if (known !== undefined || this.entries.has(operation.spanId)) return known;
    // Every operation walked through (same service, below the entry) has the same entry: remember it
    // for all of them. A parent cycle ends the walk after as many steps as the trace has operations.
    const path: Operation[] = [];
    let current: Operation | undefined = operation;
    let entry: Operation = operation;
    while (current && current.service === operation.service && path.length < this.operations.length) {
      const cached = path.length > 0 ? this.entries.get(current.spanId) : undefined;
      if (cached !== undefined) {
        entry = cached;
        break;
      }
      if (isEntry(current)) {
        entry = current;
        break;
      }
      path.push(current);
      entry = current;
      current = current.parentSpanId ? this.get(current.parentSpanId) : undefined;
    }
    for (const walked of path) this.entries.set(walked.spanId, entry);
    this.entries.set(operation.spanId, entry);
    return entry;
  }

  /** `entryLabel(entryOf(operation))`, built once per unit of work however many operations it holds. */
  labelOf(operation: Operation): string | undefined {
    const entry = this.entryOf(operation);
    if (!entry) return undefined;
    if (this.labels.has(entry)) return this.labels.get(entry);
    const label = entryLabel(entry);
    this.labels.set(entry, label);
    return label;
  }

  private index(): void {
    if (this.byId) return;
    this.byId = new Map();
    this.childrenById = new Map();
    for (const operation of this.operations) {
      this.byId.set(operation.spanId, operation);
      if (!operation.parentSpanId) continue;
      const siblings = this.childrenById.get(operation.parentSpanId);
      if (siblings) siblings.push(operation);
      else this.childrenById.set(operation.parentSpanId, [operation]);
    }
  }
}

/** Inbound requests and consumed messages start the unit of work findings are attributed to. */
export function isEntry(operation: Operation): boolean {
  return (
    operation.type === 'http_server' || (operation.type === 'queue_message' && operation.role === 'consume')
  );
}

/**
 * A short, scrubbed label for the unit of work: `GET /orders/:id`, `consume orders`.
 *
 * @example
 * entryLabel({ type: 'http_server', method: 'GET', route: '/orders/:id', ... }) // 'GET /orders/:id'
 */
export function entryLabel(entry: Operation | undefined): string | undefined {
  if (!entry) return undefined;
  switch (entry.type) {
    case 'http_server':
      return `${entry.method} ${entry.route}`;
    case 'queue_message':
      return `${entry.role} ${entry.destination}`;
    case 'internal':
      return entry.name;
    default:
      return undefined;
  }
}
