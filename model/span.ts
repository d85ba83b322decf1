/**
 * Span records: the plain, protocol-free shape the collector's receive stage
 * decodes OTLP into. Nothing downstream of `collector/receive` knows about OTLP.
 */

/** An OTLP AnyValue flattened to JSON-friendly data (kvlists become objects, bytes become hex). */
export type AttributeValue =
  | string
  | number
  | boolean
  | null
  | AttributeValue[]
  | { [key: string]: AttributeValue };

export type Attributes = Record<string, AttributeValue>;

/** OTLP span kinds, numbered as on the wire. */
export const SpanKind = {
  UNSPECIFIED: 0,
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
} as const;
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];

/** OTLP status codes, numbered as on the wire. */
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;
export type StatusCode = (typeof StatusCode)[keyof typeof StatusCode];

/** The resource a batch of spans came from; shared by reference between its spans. */
export interface ResourceInfo {
  /** `service.name`, or `unknown_service` as the OTel spec says when absent. */
  serviceName: string;
  serviceVersion?: string;
  attributes: Attributes;
}

export interface SpanEvent {
  name: string;
  timeMs: number;
  attributes: Attributes;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  attributes: Attributes;
}

export interface SpanRecord {
  /** 32 lowercase hex characters. */
  traceId: string;
  /** 16 lowercase hex characters. */
  spanId: string;
  /** 16 lowercase hex characters, or `''` for a root span. */
  parentSpanId: string;
  name: string;
  kind: SpanKind;
  /** Unix epoch milliseconds (fractional: sub-millisecond precision is kept). */
  startTimeMs: number;
  endTimeMs: number;
  attributes: Attributes;
  statusCode: StatusCode;
  statusMessage: string;
  events: SpanEvent[];
  links: SpanLink[];
  resource: ResourceInfo;
  scopeName: string;
  scopeVersion: string;
}

/** Reads a string attribute, ignoring values of other types. */
export function stringAttribute(attributes: Attributes, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = attributes[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** Reads a numeric attribute; numeric strings (OTLP JSON int64) count too. */
export function numberAttribute(attributes: Attributes, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const value = attributes[key];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    if (typeof value === 'string' && value.trim() !== '') {
      const parsed = Number(value);
      if (Number.isFinite(parsed)) return parsed;
    }
  }
  return undefined;
}
