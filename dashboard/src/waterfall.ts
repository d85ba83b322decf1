/**
 * The example request of a finding as a waterfall: one row per operation, in call order
 * (children under their parent, siblings by start time), placed on the request's timeline,
 * the operations the finding is about marked. Pure: the component only draws the rows.
 */
import type { Finding } from '../../model/finding.js';
import type { Operation } from '../../model/operation.js';

export interface WaterfallRow {
  spanId: string;
  depth: number;
  /** What ran: a route, a normalised statement, a command and key pattern. */
  label: string;
  /** The kind of work: `SQL`, `cache`, `HTTP out`, … */
  tag: string;
  durationMs: number;
  /** Start and length as fractions (0–1) of the whole request. */
  offset: number;
  width: number;
  highlighted: boolean;
  error: boolean;
}

export interface Waterfall {
  totalMs: number;
  rows: WaterfallRow[];
  /** Operations the finding is about, in the whole trace (shown or not). */
  highlighted: number;
  /** Operations past the row limit, left out. */
  hidden: number;
}

const TAGS: Record<Operation['type'], string> = {
  http_server: 'HTTP in',
  http_client: 'HTTP out',
  db_query: 'SQL',
  db_connect: 'connect',
  cache_command: 'cache',
  queue_message: 'queue',
  internal: 'internal',
};

/**
 * Lays out a trace's operations. A parent missing from the trace makes its children roots;
 * a cycle in broken parent links cannot loop.
 *
 * @example
 * waterfall(trace.operations, (op) => op.type === 'db_query').rows[0]?.label // 'GET /orders'
 */
export function waterfall(
  operations: readonly Operation[],
  isHighlighted: (operation: Operation) => boolean,
  maxRows = 150,
): Waterfall {
  const byId = new Map(operations.map((operation) => [operation.spanId, operation]));
  const children = new Map<string, Operation[]>();
  const roots: Operation[] = [];
  for (const operation of operations) {
    const parent = operation.parentSpanId;
    if (parent && parent !== operation.spanId && byId.has(parent)) {
      const siblings = children.get(parent) ?? [];
      siblings.push(operation);
      children.set(parent, siblings);
    } else roots.push(operation);
  }
  const startMs = Math.min(...operations.map((operation) => operation.startTimeMs));
  const endMs = Math.max(...operations.map((operation) => operation.startTimeMs + operation.durationMs));
  const totalMs = operations.length > 0 ? Math.max(endMs - startMs, 0) : 0;

  const ordered: Array<{ operation: Operation; depth: number }> = [];
  const visited = new Set<string>();
  const visit = (operation: Operation, depth: number) => {
    if (visited.has(operation.spanId)) return;
    visited.add(operation.spanId);
    ordered.push({ operation, depth });
    for (const child of byStart(children.get(operation.spanId) ?? [])) visit(child, depth + 1);
  };
  for (const root of byStart(roots)) visit(root, 0);
  // Operations only reachable through a cycle of parent links: shown flat rather than lost.
  for (const operation of byStart(operations)) visit(operation, 0);

  const rows = ordered.slice(0, maxRows).map(({ operation, depth }) => ({
    spanId: operation.spanId,
    depth,
    label: labelOf(operation),
    tag: TAGS[operation.type] ?? operation.type,
    durationMs: operation.durationMs,
    offset: totalMs > 0 ? (operation.startTimeMs - startMs) / totalMs : 0,
    width: totalMs > 0 ? operation.durationMs / totalMs : 1,
    highlighted: isHighlighted(operation),
    error: operation.error,
  }));
  return {
    totalMs,
    rows,
    highlighted: operations.filter(isHighlighted).length,
    hidden: Math.max(ordered.length - maxRows, 0),
  };
}

/**
 * Which operations of its example request a finding is about, or `undefined` for a kind
 * that names none (runtime findings, a route whose own code dominates).
 *
 * @example
 * highlighterFor(nPlusOne)?.(operation) // true for each run of the repeated statement
 */
export function highlighterFor(finding: Finding): ((operation: Operation) => boolean) | undefined {
  const { evidence, key } = finding;
  const fingerprintId = typeof evidence.fingerprintId === 'string' ? evidence.fingerprintId : key;
  switch (finding.kind) {
    case 'slow_query':
    case 'n_plus_one':
      return (operation) => operation.type === 'db_query' && operation.fingerprintId === fingerprintId;
    case 'n_plus_one_http':
      return (operation) =>
        operation.type === 'http_client' &&
        `${operation.method} ${operation.host}${operation.urlTemplate}` === key;
    case 'cache_hit_ratio':
      return (operation) =>
        operation.type === 'cache_command' && `${operation.system} ${operation.keyPattern}` === key;
    case 'queue_lag':
      return (operation) =>
        operation.type === 'queue_message' && `${operation.system} ${operation.destination}` === key;
    case 'slow_endpoint':
      return dominantWork(evidence.dominant);
    case 'connection_pool':
      return (operation) => operation.type === 'db_connect' && operation.system === evidence.system;
    case 'dependency_resilience':
      return (operation) =>
        (operation.type === 'http_client' ||
          operation.type === 'db_query' ||
          operation.type === 'cache_command') &&
        operation.host === evidence.host;
    case 'offload_candidate':
      return (operation) =>
        (operation.type === 'http_client' &&
          `${operation.method} ${operation.host}${operation.urlTemplate}` === evidence.work) ||
        (operation.type === 'db_query' && operation.fingerprint === evidence.fingerprint);
    case 'static_assets':
      // The example is one request for a file: the request is what the finding is about.
      return (operation) => operation.type === 'http_server';
    default:
      return undefined;
  }
}

/** For a slow route: the kind of work that takes most of its time. */
function dominantWork(dominant: unknown): ((operation: Operation) => boolean) | undefined {
  switch (dominant) {
    case 'sql':
      return (operation) => operation.type === 'db_query';
    case 'cache':
      return (operation) => operation.type === 'cache_command';
    case 'http':
      return (operation) => operation.type === 'http_client';
    case 'queue':
      return (operation) => operation.type === 'queue_message' && operation.role === 'publish';
    default:
      return undefined;
  }
}

function labelOf(operation: Operation): string {
  switch (operation.type) {
    case 'http_server':
      return `${operation.method} ${operation.route}`;
    case 'http_client':
      return `${operation.method} ${operation.host}${operation.urlTemplate}`;
    case 'db_query':
      return operation.fingerprint;
    case 'db_connect':
      return `connect to ${operation.system}`;
    case 'cache_command':
      return operation.keyPattern ? `${operation.command} ${operation.keyPattern}` : operation.command;
    case 'queue_message':
      return `${operation.role} ${operation.destination}`;
    default:
      return operation.name;
  }
}

function byStart(operations: readonly Operation[]): Operation[] {
  return [...operations].sort((a, b) => a.startTimeMs - b.startTimeMs);
}
