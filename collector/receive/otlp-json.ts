/**
 * OTLP JSON decoding: the OTLP/HTTP JSON body of an `ExportTraceServiceRequest` to `SpanRecord[]`.
 *
 * The protobuf JSON mapping with OTLP's deviations: trace and span ids are hex (any case),
 * enums are integers, 64-bit integers come as strings or numbers, `bytesValue` is base64.
 * Keys are read in lowerCamelCase, as the specification writes them, and in the proto's
 * snake_case, which some senders emit; unknown keys are ignored, `null` means absent.
 * Errors name the offending path (`resourceSpans[0].scopeSpans[1].spans[2].traceId`) but
 * never echo a value from the body, since reasons get logged.
 */
import {
  type Attributes,
  type AttributeValue,
  MAX_ANY_VALUE_DEPTH,
  OtlpDecodeError,
  type ResourceInfo,
  resourceInfo,
  type SpanEvent,
  type SpanLink,
  type SpanRecord,
  setAttribute,
  spanKindOf,
  statusCodeOf,
} from './decoding.js';

export { OtlpDecodeError };

type JsonObject = { readonly [key: string]: unknown };

const TRACE_ID_HEX_LENGTH = 32;
const SPAN_ID_HEX_LENGTH = 16;
const HEX = /^[0-9a-fA-F]*$/;
const UINT64 = /^\d{1,20}$/;
const UINT64_MAX = '18446744073709551615';
const INT64 = /^-?\d{1,19}$/;
/** Standard and URL-safe alphabets, padding optional: both are valid proto JSON for bytes. */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const NON_FINITE_DOUBLES = new Map([
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
]);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes an OTLP/HTTP JSON trace export body.
 *
 * @example
 * const spans = decodeJsonTraceRequest(await request.text());
 * spans[0].traceId; // '5b8efff798038103d269b633813fc60c'
 */
export function decodeJsonTraceRequest(body: string | Uint8Array): SpanRecord[] {
  const request = parseObject(body);
  const spans: SpanRecord[] = [];
  const resourceSpansList = arrayField(request, 'resourceSpans', 'resource_spans', 'resourceSpans');
  for (let index = 0; index < resourceSpansList.length; index++) {
    readResourceSpans(resourceSpansList[index], `resourceSpans[${index}]`, spans);
  }
  return spans;
}

function parseObject(body: string | Uint8Array): JsonObject {
  let text: string;
  if (typeof body === 'string') {
    text = body;
  } else {
    try {
      text = utf8.decode(body);
    } catch {
      throw new OtlpDecodeError('request body is not valid UTF-8');
    }
  }
  let request: unknown;
  try {
    request = JSON.parse(text);
  } catch (error) {
    // V8's message may quote the body; keep only the position.
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    throw new OtlpDecodeError(
      `request body is not valid JSON${position === undefined ? '' : ` (at position ${position})`}`,
    );
  }
  return asObject(request, 'request body');
}

function readResourceSpans(value: unknown, path: string, spans: SpanRecord[]): void {
  const resourceSpans = asObject(value, path);
  const resourceValue = resourceSpans.resource;
  const attributes: Attributes = {};
  if (resourceValue !== undefined && resourceValue !== null) {
    readAttributes(asObject(resourceValue, `${path}.resource`), attributes, `${path}.resource`);
  }
  const resource = resourceInfo(attributes);
  const scopeSpansList = arrayField(resourceSpans, 'scopeSpans', 'scope_spans', `${path}.scopeSpans`);
  for (let index = 0; index < scopeSpansList.length; index++) {
    readScopeSpans(scopeSpansList[index], `${path}.scopeSpans[${index}]`, resource, spans);
  }
}

function readScopeSpans(value: unknown, path: string, resource: ResourceInfo, spans: SpanRecord[]): void {
  const scopeSpans = asObject(value, path);
  let scopeName = '';
  let scopeVersion = '';
  const scopeValue = scopeSpans.scope;
  if (scopeValue !== undefined && scopeValue !== null) {
    const scope = asObject(scopeValue, `${path}.scope`);
    scopeName = stringField(scope, 'name', 'name', `${path}.scope.name`);
    scopeVersion = stringField(scope, 'version', 'version', `${path}.scope.version`);
  }
  const spanList = arrayField(scopeSpans, 'spans', 'spans', `${path}.spans`);
  for (let index = 0; index < spanList.length; index++) {
    spans.push(readSpan(spanList[index], `${path}.spans[${index}]`, resource, scopeName, scopeVersion));
  }
}

function readSpan(
  value: unknown,
  path: string,
  resource: ResourceInfo,
  scopeName: string,
  scopeVersion: string,
): SpanRecord {
  const span = asObject(value, path);
  const attributes: Attributes = {};
  readAttributes(span, attributes, path);
  const events: SpanEvent[] = [];
  const eventList = arrayField(span, 'events', 'events', `${path}.events`);
  for (let index = 0; index < eventList.length; index++) {
    events.push(readEvent(eventList[index], `${path}.events[${index}]`));
  }
  const links: SpanLink[] = [];
  const linkList = arrayField(span, 'links', 'links', `${path}.links`);
  for (let index = 0; index < linkList.length; index++) {
    links.push(readLink(linkList[index], `${path}.links[${index}]`));
  }
  let statusCode = 0;
  let statusMessage = '';
  const statusValue = span.status;
  if (statusValue !== undefined && statusValue !== null) {
    const status = asObject(statusValue, `${path}.status`);
    statusCode = integerEnum(status.code, `${path}.status.code`);
    statusMessage = stringField(status, 'message', 'message', `${path}.status.message`);
  }
  return {
    traceId: idField(span, 'traceId', 'trace_id', TRACE_ID_HEX_LENGTH, `${path}.traceId`),
    spanId: idField(span, 'spanId', 'span_id', SPAN_ID_HEX_LENGTH, `${path}.spanId`),
    parentSpanId: optionalIdField(
      span,
      'parentSpanId',
      'parent_span_id',
      SPAN_ID_HEX_LENGTH,
      `${path}.parentSpanId`,
    ),
    name: stringField(span, 'name', 'name', `${path}.name`),
    kind: spanKindOf(integerEnum(span.kind, `${path}.kind`)),
    startTimeMs: nanosAsMs(
      field(span, 'startTimeUnixNano', 'start_time_unix_nano'),
      `${path}.startTimeUnixNano`,
    ),
    endTimeMs: nanosAsMs(field(span, 'endTimeUnixNano', 'end_time_unix_nano'), `${path}.endTimeUnixNano`),
    attributes,
    statusCode: statusCodeOf(statusCode),
    statusMessage,
    events,
    links,
    resource,
    scopeName,
    scopeVersion,
  };
}

function readEvent(value: unknown, path: string): SpanEvent {
  const event = asObject(value, path);
  const attributes: Attributes = {};
  readAttributes(event, attributes, path);
  return {
    name: stringField(event, 'name', 'name', `${path}.name`),
    timeMs: nanosAsMs(field(event, 'timeUnixNano', 'time_unix_nano'), `${path}.timeUnixNano`),
    attributes,
  };
}

function readLink(value: unknown, path: string): SpanLink {
  const link = asObject(value, path);
  const attributes: Attributes = {};
  readAttributes(link, attributes, path);
  return {
    traceId: idField(link, 'traceId', 'trace_id', TRACE_ID_HEX_LENGTH, `${path}.traceId`),
    spanId: idField(link, 'spanId', 'span_id', SPAN_ID_HEX_LENGTH, `${path}.spanId`),
    attributes,
  };
}

/** Reads `owner.attributes` (a KeyValue list) into `target`. */
function readAttributes(owner: JsonObject, target: Attributes, path: string): void {
  const list = arrayField(owner, 'attributes', 'attributes', `${path}.attributes`);
  for (let index = 0; index < list.length; index++) {
    readKeyValue(list[index], target, `${path}.attributes[${index}]`, 0);
  }
}

function readKeyValue(value: unknown, target: Attributes, path: string, depth: number): void {
  const keyValue = asObject(value, path);
  const key = stringField(keyValue, 'key', 'key', `${path}.key`);
  const anyValue = keyValue.value;
  setAttribute(
    target,
    key,
    anyValue === undefined || anyValue === null ? null : readAnyValue(anyValue, `${path}.value`, depth),
  );
}

/** AnyValue: the first oneof member present wins; an empty object is `null`. */
function readAnyValue(value: unknown, path: string, depth: number): AttributeValue {
  if (depth >= MAX_ANY_VALUE_DEPTH)
    throw new OtlpDecodeError(`${path}: AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  const anyValue = asObject(value, path);
  let member = field(anyValue, 'stringValue', 'string_value');
  if (member !== undefined) {
    if (typeof member !== 'string') throw new OtlpDecodeError(`${path}.stringValue must be a string`);
    return member;
  }
  member = field(anyValue, 'boolValue', 'bool_value');
  if (member !== undefined) {
    if (typeof member !== 'boolean') throw new OtlpDecodeError(`${path}.boolValue must be a boolean`);
    return member;
  }
  member = field(anyValue, 'intValue', 'int_value');
  if (member !== undefined) return int64(member, `${path}.intValue`);
  member = field(anyValue, 'doubleValue', 'double_value');
  if (member !== undefined) return double(member, `${path}.doubleValue`);
  member = field(anyValue, 'arrayValue', 'array_value');
  if (member !== undefined) {
    const list = arrayField(
      asObject(member, `${path}.arrayValue`),
      'values',
      'values',
      `${path}.arrayValue.values`,
    );
    const values: AttributeValue[] = new Array(list.length);
    for (let index = 0; index < list.length; index++) {
      const item = list[index];
      const itemPath = `${path}.arrayValue.values[${index}]`;
      values[index] = item === null ? null : readAnyValue(item, itemPath, depth + 1);
    }
    return values;
  }
  member = field(anyValue, 'kvlistValue', 'kvlist_value');
  if (member !== undefined) {
    const list = arrayField(
      asObject(member, `${path}.kvlistValue`),
      'values',
      'values',
      `${path}.kvlistValue.values`,
    );
    const values: Attributes = {};
    for (let index = 0; index < list.length; index++) {
      readKeyValue(list[index], values, `${path}.kvlistValue.values[${index}]`, depth + 1);
    }
    return values;
  }
  member = field(anyValue, 'bytesValue', 'bytes_value');
  if (member !== undefined) {
    if (typeof member !== 'string' || !BASE64.test(member)) {
      throw new OtlpDecodeError(`${path}.bytesValue must be a base64 string`);
    }
    return Buffer.from(member, 'base64').toString('hex');
  }
  return null;
}

/** A field under its lowerCamelCase or snake_case name; `null` counts as absent. */
function field(object: JsonObject, camelCase: string, snakeCase: string): unknown {
  const value = object[camelCase] ?? object[snakeCase];
  return value === null ? undefined : value;
}

function asObject(value: unknown, path: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OtlpDecodeError(`${path} must be an object`);
  }
  return value as JsonObject;
}

function arrayField(
  object: JsonObject,
  camelCase: string,
  snakeCase: string,
  path: string,
): readonly unknown[] {
  const value = field(object, camelCase, snakeCase);
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new OtlpDecodeError(`${path} must be an array`);
  return value;
}

function stringField(object: JsonObject, camelCase: string, snakeCase: string, path: string): string {
  const value = field(object, camelCase, snakeCase);
  if (value === undefined) return '';
  if (typeof value !== 'string') throw new OtlpDecodeError(`${path} must be a string`);
  return value;
}

function idField(
  object: JsonObject,
  camelCase: string,
  snakeCase: string,
  hexLength: number,
  path: string,
): string {
  const id = optionalIdField(object, camelCase, snakeCase, hexLength, path);
  if (id === '') throw new OtlpDecodeError(`${path} is missing`);
  return id;
}

/** A hex id of exactly `hexLength` characters, lowercased; absent or empty gives `''`. */
function optionalIdField(
  object: JsonObject,
  camelCase: string,
  snakeCase: string,
  hexLength: number,
  path: string,
): string {
  const value = field(object, camelCase, snakeCase);
  if (value === undefined || value === '') return '';
  if (typeof value !== 'string' || value.length !== hexLength || !HEX.test(value)) {
    const got = typeof value === 'string' ? `${value.length} characters` : typeof value;
    throw new OtlpDecodeError(`${path} must be ${hexLength} hex characters, got ${got}`);
  }
  return value.toLowerCase();
}

/** Enums are integers in OTLP JSON; the names the generic mapping allows are refused by the spec. */
function integerEnum(value: unknown, path: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new OtlpDecodeError(`${path} must be an integer`);
  return value;
}

/** A fixed64 nanosecond timestamp (decimal string or number) as fractional milliseconds. */
function nanosAsMs(value: unknown, path: string): number {
  if (value === undefined) return 0;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 2 ** 64)
    return value / 1e6;
  if (typeof value === 'string' && isUint64(value)) {
    // Split off the sub-millisecond digits so whole milliseconds stay exact past 2^53 ns.
    const cut = value.length - 6;
    return cut > 0 ? Number(value.slice(0, cut)) + Number(value.slice(cut)) / 1e6 : Number(value) / 1e6;
  }
  throw new OtlpDecodeError(`${path} must be an unsigned 64-bit integer`);
}

function isUint64(value: string): boolean {
  return UINT64.test(value) && (value.length < UINT64_MAX.length || value <= UINT64_MAX);
}

function int64(value: unknown, path: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && INT64.test(value)) return Number(value);
  throw new OtlpDecodeError(`${path} must be a 64-bit integer`);
}

function double(value: unknown, path: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const named = NON_FINITE_DOUBLES.get(value);
    if (named !== undefined) return named;
    const parsed = Number(value);
    if (value.trim() !== '' && Number.isFinite(parsed)) return parsed;
  }
  throw new OtlpDecodeError(`${path} must be a number`);
}
