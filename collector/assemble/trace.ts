/**
 * An assembled trace: the operations of one trace that arrived together, with the
 * parent/child navigation per-trace detectors need.
 */
import type { Operation } from '../../model/index.js';
import { SharedJoins } from '../normalize/shared-joins.js';

/**
 * Positions of the operations `entryOf` walked through, to remember an entry for: reused, as nothing
 * interrupts a walk, and written up to a count rather than emptied (emptying an array is a runtime call).
 */
const walked: number[] = [];

/**
 * Traces up to this many operations find a span id by a scan of their operations rather than a Map:
 * most traces are this small, and their Map (grown twice on the way) was ~50 bytes per span
 * allocated, and hashed, for a few lookups each.
 */
const SCANNED_OPERATIONS = 16;

export class AssembledTrace {
  /*
   * Built on first use, and per trace rather than per operation: one Map of positions (for traces
   * past SCANNED_OPERATIONS) and one array of entries (four Maps per trace before, the larger part
   * of what assembling allocated).
   */
  /** Where each span id sits in `operations` (the last operation with an id wins). */
  private positions: Map<string, number> | undefined;
  /** By position: the entry found for the span id there, once asked. */
  private entries: (Operation | undefined)[] | undefined;
  private childrenById: Map<string, Operation[]> | undefined;
  /** The first entry labelled and its label; a trace holds one unit of work far more often than several. */
  private labelled: Operation | undefined;
  private label: string | undefined;
  private otherLabels: Map<Operation, string | undefined> | undefined;

  constructor(
    readonly traceId: string,
    readonly operations: Operation[],
  ) {}

  get(spanId: string): Operation | undefined {
    const position = this.positionOf(spanId);
    return position === undefined ? undefined : this.operations[position];
  }

  /** Direct children of a span, in arrival order. */
  children(spanId: string): Operation[] {
    if (!this.childrenById) {
      this.childrenById = new Map();
      for (const operation of this.operations) {
        if (!operation.parentSpanId) continue;
        const siblings = this.childrenById.get(operation.parentSpanId);
        if (siblings) siblings.push(operation);
        else this.childrenById.set(operation.parentSpanId, [operation]);
      }
    }
    return this.childrenById.get(spanId) ?? [];
  }

  /**
   * The request or job an operation belongs to: the nearest inbound request or
   * consumed message above it in the same service, else its topmost ancestor there.
   */
  entryOf(operation: Operation): Operation | undefined {
    const operations = this.operations;
    this.entries ??= new Array<Operation | undefined>(operations.length);
    const entries = this.entries;
    const start = this.positionOf(operation.spanId);
    const known = start === undefined ? undefined : entries[start];
    if (known !== undefined) return known;
    // Every operation walked through (same service, below the entry) has the same entry: remember it
    // for all of them, by the positions found on the way up (each looked up once). A parent cycle
    // ends the walk after as many steps as the trace has operations.
    let count = 0;
    let current: Operation | undefined = operation;
    /** Where `current` sits; undefined only for an operation passed in that the trace does not hold. */
    let position = start;
    let entry: Operation = operation;
    while (current && current.service === operation.service && count < operations.length) {
      if (count > 0) {
        const cached = entries[position as number];
        if (cached !== undefined) {
          entry = cached;
          break;
        }
      }
      if (isEntry(current)) {
        entry = current;
        break;
      }
      walked[count++] = position ?? -1;
      entry = current;
      position = current.parentSpanId ? this.positionOf(current.parentSpanId) : undefined;
      current = position === undefined ? undefined : operations[position];
    }
    for (let step = 0; step < count; step++) {
      const walkedPosition = walked[step] as number;
      if (walkedPosition >= 0) entries[walkedPosition] = entry;
    }
    if (start !== undefined) entries[start] = entry;
    return entry;
  }

  /** `entryLabel(entryOf(operation))`, built once per unit of work however many operations it holds. */
  labelOf(operation: Operation): string | undefined {
    const entry = this.entryOf(operation);
    if (!entry) return undefined;
    if (entry === this.labelled) return this.label;
    if (this.labelled === undefined) {
      this.labelled = entry;
      this.label = entryLabel(entry);
      return this.label;
    }
    this.otherLabels ??= new Map();
    if (this.otherLabels.has(entry)) return this.otherLabels.get(entry);
    const label = entryLabel(entry);
    this.otherLabels.set(entry, label);
    return label;
  }

  /** Where `spanId` sits in `operations`: the last operation with that id, as a Map keyed by id would hold. */
  private positionOf(spanId: string): number | undefined {
    const operations = this.operations;
    if (operations.length <= SCANNED_OPERATIONS) {
      for (let position = operations.length - 1; position >= 0; position--) {
        if ((operations[position] as Operation).spanId === spanId) return position;
      }
      return undefined;
    }
    let positions = this.positions;
    if (!positions) {
      positions = new Map<string, number>();
      for (let position = 0; position < operations.length; position++) {
        positions.set((operations[position] as Operation).spanId, position);
      }
      this.positions = positions;
    }
    return positions.get(spanId);
  }
}

/** Inbound requests and consumed messages start the unit of work findings are attributed to. */
export function isEntry(operation: Operation): boolean {
  return (
    operation.type === 'http_server' || (operation.type === 'queue_message' && operation.role === 'consume')
  );
}

/**
 * Labels as one string per unit of work (grouped by route or destination, at most 16 methods or
 * roles each): the maps and label counts keyed by them hash each once.
 */
const labels = new SharedJoins({ groupBy: 'second', maxGroups: 10_000, maxPerGroup: 16 });

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
      return labels.join(entry.method, entry.route);
    case 'queue_message':
      return labels.join(entry.role, entry.destination);
    case 'internal':
      return entry.name;
    default:
      return undefined;
  }
}
