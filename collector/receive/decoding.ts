/**
 * What the protobuf and JSON decoders share: the error they throw, the rules that turn OTLP
 * values into `SpanRecord` fields, so both encodings yield identical records, and the record
 * types themselves, so each decoder imports from here alone.
 */
import {
  type Attributes,
  type AttributeValue,
  type ResourceInfo,
  SpanKind,
  StatusCode,
  stringAttribute,
} from '../../model/index.js';

export type {
  Attributes,
  AttributeValue,
  ResourceInfo,
  SpanEvent,
  SpanLink,
  SpanRecord,
} from '../../model/index.js';

/** A request body that is not a valid `ExportTraceServiceRequest`; the message is one line. */
export class OtlpDecodeError extends Error {
  override name = 'OtlpDecodeError';
}

/**
 * Deepest AnyValue nesting accepted (arrays and kvlists inside each other). Real attributes
 * nest a few levels; the limit keeps a crafted body from exhausting the stack.
 */
export const MAX_ANY_VALUE_DEPTH = 64;

/** The service name the OTel specification prescribes when `service.name` is absent. */
export const UNKNOWN_SERVICE = 'unknown_service';

const HIGHEST_SPAN_KIND: number = SpanKind.CONSUMER;
const HIGHEST_STATUS_CODE: number = StatusCode.ERROR;

/** Builds the resource its spans share by reference. */
export function resourceInfo(attributes: Attributes): ResourceInfo {
  const serviceVersion = stringAttribute(attributes, 'service.version');
  const serviceName = stringAttribute(attributes, 'service.name') ?? UNKNOWN_SERVICE;
  return serviceVersion === undefined
    ? { serviceName, attributes }
    : { serviceName, serviceVersion, attributes };
}

/**
 * Stores an attribute as an own property. Plain assignment of the key `__proto__` would
 * replace the object's prototype instead, hiding the value and exposing whatever it held.
 */
export function setAttribute(attributes: Attributes, key: string, value: AttributeValue): void {
  if (key === '__proto__') {
    Object.defineProperty(attributes, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    attributes[key] = value;
  }
}

/** Enum values from a newer OTLP than ours read as unspecified, as proto3 open enums allow. */
export function spanKindOf(value: number): SpanKind {
  return value >= 0 && value <= HIGHEST_SPAN_KIND ? (value as SpanKind) : SpanKind.UNSPECIFIED;
}

export function statusCodeOf(value: number): StatusCode {
  return value >= 0 && value <= HIGHEST_STATUS_CODE ? (value as StatusCode) : StatusCode.UNSET;
}
