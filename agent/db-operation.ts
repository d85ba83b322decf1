/**
 * `db.operation.name` for SQL spans whose instrumentation leaves it out (pg and mysql2
 * put the verb in the span name only), taken from the statement's first keyword. A span
 * processor rather than per-driver hooks: mysql2's only hook runs after success, without
 * the statement. It works in `onEnding`, while the span is still writable and holds every
 * attribute (pg sets the statement after the span starts), failed statements included.
 */
import type { Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_SYSTEM_NAME,
} from './instrumentations/semconv.js';
import { operationName } from './instrumentations/sql.js';

/** Systems whose query text is not SQL; their instrumentations name the operation themselves. */
const NON_SQL_SYSTEMS = new Set(['redis', 'valkey', 'memcached', 'mongodb']);

/**
 * @example
 * new NodeSDK({ spanProcessors: [new DbOperationSpanProcessor(), exportProcessor] });
 */
export class DbOperationSpanProcessor implements SpanProcessor {
  onEnding(span: Span): void {
    const { attributes } = span;
    const text = attributes[ATTR_DB_QUERY_TEXT];
    if (typeof text !== 'string' || attributes[ATTR_DB_OPERATION_NAME] !== undefined) return;
    const system = attributes[ATTR_DB_SYSTEM_NAME];
    if (typeof system === 'string' && NON_SQL_SYSTEMS.has(system)) return;
    const operation = operationName(text);
    if (operation !== undefined) span.setAttribute(ATTR_DB_OPERATION_NAME, operation);
  }

  onStart(): void {}

  onEnd(): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
