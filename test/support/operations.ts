/**
 * Builders for hand-made operations (edge-case fixtures). Real-driver fixtures come
 * from the agent's integration tests; these cover what real traffic rarely shows.
 */
import type {
  CacheCommandOperation,
  DbQueryOperation,
  HttpClientOperation,
  HttpServerOperation,
  InternalOperation,
  Operation,
  QueueMessageOperation,
  StatementType,
} from '../../model/index.js';

let counter = 0;
export function spanId(): string {
  counter += 1;
  return counter.toString(16).padStart(16, '0');
}

export function request(
  traceId: string,
  fields: Partial<HttpServerOperation> & { route: string },
): HttpServerOperation {
  return {
    type: 'http_server',
    service: 'shop',
    traceId,
    spanId: spanId(),
    parentSpanId: '',
    startTimeMs: 1_700_000_000_000,
    durationMs: 50,
    error: false,
    method: 'GET',
    statusCode: 200,
    ...fields,
  };
}

export function query(
  parent: Operation,
  fields: Partial<DbQueryOperation> & { fingerprint: string; durationMs: number },
): DbQueryOperation {
  const statementType: StatementType = (fields.fingerprint.split(' ')[0] as StatementType) ?? 'select';
  return {
    type: 'db_query',
    service: parent.service,
    traceId: parent.traceId,
    spanId: spanId(),
    parentSpanId: parent.spanId,
    startTimeMs: parent.startTimeMs + 1,
    error: false,
    system: 'postgresql',
    fingerprintId: `fp-${fields.fingerprint.length}-${fields.fingerprint.slice(0, 24)}`,
    statementType,
    tables: ['orders'],
    ...fields,
  };
}

export function internal(parent: Operation, name: string): InternalOperation {
  return {
    type: 'internal',
    service: parent.service,
    traceId: parent.traceId,
    spanId: spanId(),
    parentSpanId: parent.spanId,
    startTimeMs: parent.startTimeMs,
    durationMs: 1,
    error: false,
    name,
  };
}

/** An outbound HTTP call made under `parent`. */
export function httpCall(
  parent: Operation,
  fields: Partial<HttpClientOperation> & { urlTemplate: string; durationMs: number },
): HttpClientOperation {
  return {
    type: 'http_client',
    service: parent.service,
    traceId: parent.traceId,
    spanId: spanId(),
    parentSpanId: parent.spanId,
    startTimeMs: parent.startTimeMs + 1,
    error: false,
    method: 'GET',
    host: 'users.internal:8080',
    statusCode: 200,
    ...fields,
  };
}

/** A Redis command run under `parent`. */
export function cacheCommand(
  parent: Operation,
  fields: Partial<CacheCommandOperation> & { command: string; keyPattern: string },
): CacheCommandOperation {
  return {
    type: 'cache_command',
    service: parent.service,
    traceId: parent.traceId,
    spanId: spanId(),
    parentSpanId: parent.spanId,
    startTimeMs: parent.startTimeMs + 1,
    durationMs: 0.5,
    error: false,
    system: 'redis',
    ...fields,
  };
}

/** Publishing (under `parent`) or consuming (a root, its own trace) a message. */
export function queueMessage(
  traceId: string,
  fields: Partial<QueueMessageOperation> & { role: 'publish' | 'consume'; destination: string },
  parent?: Operation,
): QueueMessageOperation {
  return {
    type: 'queue_message',
    service: parent?.service ?? 'worker',
    traceId,
    spanId: spanId(),
    parentSpanId: parent?.spanId ?? '',
    startTimeMs: (parent?.startTimeMs ?? 1_700_000_000_000) + 1,
    durationMs: 5,
    error: false,
    system: 'rabbitmq',
    ...fields,
  };
}
