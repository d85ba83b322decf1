import { basename } from 'node:path';
import { type Attributes, type Span, SpanStatusCode } from '@opentelemetry/api';
import {
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
} from '../semconv.js';
import { operationName } from '../sql.js';
import type { SqliteDatabase } from './types.js';

export const DB_SYSTEM_NAME_VALUE_SQLITE = 'sqlite';

/** `:memory:` and `''` (a private temporary database) alike. */
export const MEMORY_NAMESPACE = ':memory:';

/**
 * `db.namespace` of a database: the file's basename, or `:memory:`.
 *
 * @example
 * databaseNamespace(new Database('/var/data/shop.db')); // 'shop.db'
 */
export function databaseNamespace(database: SqliteDatabase): string {
  if (database.memory) return MEMORY_NAMESPACE;
  const { name } = database;
  // URI filenames (`file:data.db?mode=ro`) carry their options after `?`.
  return basename(name.startsWith('file:') ? (name.slice('file:'.length).split('?')[0] ?? '') : name);
}

export interface QueryDescription {
  /** `<operation> <namespace>`, as the DB semantic conventions name spans without a query summary. */
  spanName: string;
  attributes: Attributes;
}

/**
 * Span name and attributes for one SQL text on one database: computed once per statement.
 *
 * @example
 * describeQuery('SELECT * FROM orders', 'shop.db').spanName; // 'SELECT shop.db'
 */
export function describeQuery(query: string, namespace: string): QueryDescription {
  const operation = operationName(query);
  const attributes: Attributes = {
    [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_SQLITE,
    [ATTR_DB_NAMESPACE]: namespace,
    [ATTR_DB_QUERY_TEXT]: query,
  };
  if (operation !== undefined) attributes[ATTR_DB_OPERATION_NAME] = operation;
  return { spanName: operation === undefined ? namespace : `${operation} ${namespace}`, attributes };
}

/** Calls `original`; if it throws, ends `span` with the error and rethrows. */
export function applyTraced<This, Result>(
  span: Span,
  original: (this: This, ...args: unknown[]) => Result,
  self: This,
  args: unknown[],
): Result {
  try {
    return original.apply(self, args);
  } catch (error) {
    endSpanWithError(span, error);
    throw error;
  }
}

/** Ends a span for a call that threw: exception event, `error.type`, status ERROR. */
export function endSpanWithError(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
    const code = (error as { code?: unknown }).code;
    span.setAttribute(ATTR_ERROR_TYPE, typeof code === 'string' ? code : error.name);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else {
    span.setAttribute(ATTR_ERROR_TYPE, '_OTHER');
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  }
  span.end();
}
