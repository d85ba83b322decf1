/**
 * Builders for hand-made operations (edge-case fixtures). Real-driver fixtures come
 * from the agent's integration tests; these cover what real traffic rarely shows.
 */
import type {
  DbQueryOperation,
  HttpServerOperation,
  InternalOperation,
  Operation,
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
