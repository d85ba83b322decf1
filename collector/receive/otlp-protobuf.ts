/**
 * OTLP protobuf decoding: `ExportTraceServiceRequest` bytes to `SpanRecord[]`.
 *
 * Hand-written because ingest throughput is a product target and
 * `@opentelemetry/otlp-transformer` only encodes. One pass over the bytes with a single
 * cursor: no intermediate message objects, no BigInt, strings decoded once where they land.
 * Unknown fields are skipped by wire type, so newer senders stay readable; anything
 * malformed throws an `OtlpDecodeError` naming the byte offset or the field.
 *
 * Field numbers follow opentelemetry-proto: collector/trace/v1/trace_service.proto,
 * trace/v1/trace.proto, common/v1/common.proto, resource/v1/resource.proto.
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

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

const TRACE_ID_BYTES = 16;
/**
 * Ids read in the request being decoded, by a hash of their last four bytes, trace ids and span ids
 * apart: each id string is decoded and held once per request, however often the id recurs. A
 * trace's spans arrive split by instrumentation scope (http, express, pg, …), so the span before is
 * often of another trace, and a child names its parent by the id the parent span itself carries.
 * A slot holds where the id's bytes were read, valid in the request stamped on it; a newer id
 * evicts the one in its slot. Module-level, as decoding never interleaves: nothing per request.
 */
const ID_SLOTS_LOG2 = 10;
const ID_SLOTS = 1 << ID_SLOTS_LOG2;
interface IdSlots {
  strings: string[];
  at: Int32Array;
  request: Int32Array;
}
const idSlots = (): IdSlots => ({
  strings: new Array<string>(ID_SLOTS).fill(''),
  at: new Int32Array(ID_SLOTS),
  request: new Int32Array(ID_SLOTS),
});
const traceIdSlots = idSlots();
const spanIdSlots = idSlots();
/** Stamps the request being decoded (never 0, which marks a slot never written). */
let requestStamp = 0;
const SPAN_ID_BYTES = 8;
/**
 * ASCII strings up to this many bytes are interned: attribute keys, service and scope names,
 * hosts, parameterised statements repeat in every export, and one shared string each spares an
 * allocation per span (the garbage collector's work) and lets every later Map lookup on it reuse
 * its cached hash. Longer strings, and any that are not ASCII, are decoded afresh.
 */
const INTERN_MAX_BYTES = 512;
/**
 * Interned strings held at once (a power of two). A string takes its slot on its second sighting,
 * when the slot's last miss was of the same hash: statements with inline literals, unique, came
 * every few spans and evicted the keys and values that recur, which were then decoded afresh.
 */
const INTERN_SLOTS = 8192;
const interned: string[] = new Array<string>(INTERN_SLOTS).fill('');
/** Per slot, the hash of the last string that missed it. */
const internMisses = new Int32Array(INTERN_SLOTS);
/** 2^32 nanoseconds is 4294 ms plus 967296 ns: splitting it keeps every product exact. */
const HIGH_WORD_WHOLE_MS = 4294;
const HIGH_WORD_REMAINDER_NS = 967_296;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes an OTLP/HTTP protobuf trace export body.
 *
 * @example
 * const spans = decodeProtobufTraceRequest(new Uint8Array(await request.arrayBuffer()));
 * spans[0].resource.serviceName; // 'checkout'
 */
export function decodeProtobufTraceRequest(bytes: Uint8Array): SpanRecord[] {
  const reader = new Reader(bytes);
  const spans: SpanRecord[] = [];
  const end = bytes.length;
  while (reader.pos < end) {
    const tag = reader.tag(end);
    if (tag >>> 3 === 1) {
      reader.expectWireType(tag, LEN, 'ExportTraceServiceRequest.resource_spans');
      readResourceSpans(reader, reader.length(end, 'ExportTraceServiceRequest.resource_spans'), spans);
    } else {
      reader.skip(tag, end);
    }
  }
  return spans;
}

/** ResourceSpans { resource = 1, scope_spans = 2, schema_url = 3 }. */
function readResourceSpans(reader: Reader, end: number, spans: SpanRecord[]): void {
  const start = reader.pos;
  // The resource may follow its spans on the wire; read it first so spans can share it.
  // Repeated occurrences merge, as protobuf merges embedded messages.
  const attributes: Attributes = {};
  while (reader.pos < end) {
    const tag = reader.tag(end);
    if (tag >>> 3 === 1) {
      reader.expectWireType(tag, LEN, 'ResourceSpans.resource');
      readResource(reader, reader.length(end, 'ResourceSpans.resource'), attributes);
    } else {
      reader.skip(tag, end);
    }
  }
  const resource = resourceInfo(attributes);
  reader.pos = start;
  while (reader.pos < end) {
    const tag = reader.tag(end);
    if (tag >>> 3 === 2) {
      reader.expectWireType(tag, LEN, 'ResourceSpans.scope_spans');
      readScopeSpans(reader, reader.length(end, 'ResourceSpans.scope_spans'), resource, spans);
    } else {
      reader.skip(tag, end);
    }
  }
}

/** Resource { attributes = 1, dropped_attributes_count = 2 }. */
function readResource(reader: Reader, end: number, attributes: Attributes): void {
  while (reader.pos < end) {
    const tag = reader.tag(end);
    if (tag >>> 3 === 1) {
      reader.expectWireType(tag, LEN, 'Resource.attributes');
      readKeyValue(reader, reader.length(end, 'Resource.attributes'), attributes, 0);
    } else {
      reader.skip(tag, end);
    }
  }
}

/** ScopeSpans { scope = 1, spans = 2, schema_url = 3 }. */
function readScopeSpans(reader: Reader, end: number, resource: ResourceInfo, spans: SpanRecord[]): void {
  const start = reader.pos;
  // As with the resource: the scope is read first wherever it sits.
  const scope = { name: '', version: '' };
  while (reader.pos < end) {
    const tag = reader.tag(end);
    if (tag >>> 3 === 1) {
      reader.expectWireType(tag, LEN, 'ScopeSpans.scope');
      readScope(reader, reader.length(end, 'ScopeSpans.scope'), scope);
    } else {
      reader.skip(tag, end);
    }
  }
  reader.pos = start;
  while (reader.pos < end) {
    const tag = reader.tag(end);
    if (tag >>> 3 === 2) {
      reader.expectWireType(tag, LEN, 'ScopeSpans.spans');
      spans.push(
        readSpan(reader, reader.length(end, 'ScopeSpans.spans'), resource, scope.name, scope.version),
      );
    } else {
      reader.skip(tag, end);
    }
  }
}

/** InstrumentationScope { name = 1, version = 2, attributes = 3, dropped_attributes_count = 4 }. */
function readScope(reader: Reader, end: number, scope: { name: string; version: string }): void {
  while (reader.pos < end) {
    const tag = reader.tag(end);
    switch (tag >>> 3) {
      case 1:
        reader.expectWireType(tag, LEN, 'InstrumentationScope.name');
        scope.name = reader.string(end, 'InstrumentationScope.name');
        break;
      case 2:
        reader.expectWireType(tag, LEN, 'InstrumentationScope.version');
        scope.version = reader.string(end, 'InstrumentationScope.version');
        break;
      default:
        reader.skip(tag, end);
    }
  }
}

/*
 * Most spans carry no events or links, and their status is read into two fields: one shared empty
 * list each (frozen: nothing adds to a decoded span's) and one status read into, rather than three
 * objects per span that died as soon as it was normalised.
 */
const NO_EVENTS: SpanEvent[] = Object.freeze([]) as unknown as SpanEvent[];
const NO_LINKS: SpanLink[] = Object.freeze([]) as unknown as SpanLink[];
/** The status `readSpan` reads into: never held, its fields are copied into the span. */
const spanStatus = { code: 0, message: '' };

/** Span; field numbers in the cases below. trace_state, flags and dropped counts are not kept. */
function readSpan(
  reader: Reader,
  end: number,
  resource: ResourceInfo,
  scopeName: string,
  scopeVersion: string,
): SpanRecord {
  let traceId = '';
  let spanId = '';
  let parentSpanId = '';
  let name = '';
  let kind = 0;
  let startTimeMs = 0;
  let endTimeMs = 0;
  const attributes: Attributes = {};
  const status = spanStatus;
  status.code = 0;
  status.message = '';
  let events: SpanEvent[] | undefined;
  let links: SpanLink[] | undefined;
  while (reader.pos < end) {
    const tag = reader.tag(end);
    switch (tag >>> 3) {
      case 1:
        reader.expectWireType(tag, LEN, 'Span.trace_id');
        traceId = reader.id(end, TRACE_ID_BYTES, 'Span.trace_id');
        break;
      case 2:
        reader.expectWireType(tag, LEN, 'Span.span_id');
        spanId = reader.id(end, SPAN_ID_BYTES, 'Span.span_id');
        break;
      case 4:
        reader.expectWireType(tag, LEN, 'Span.parent_span_id');
        parentSpanId = reader.parentSpanId(end, 'Span.parent_span_id');
        break;
      case 5:
        reader.expectWireType(tag, LEN, 'Span.name');
        name = reader.string(end, 'Span.name');
        break;
      case 6:
        reader.expectWireType(tag, VARINT, 'Span.kind');
        kind = reader.enumValue(end);
        break;
      case 7:
        reader.expectWireType(tag, I64, 'Span.start_time_unix_nano');
        startTimeMs = reader.nanosAsMs(end, 'Span.start_time_unix_nano');
        break;
      case 8:
        reader.expectWireType(tag, I64, 'Span.end_time_unix_nano');
        endTimeMs = reader.nanosAsMs(end, 'Span.end_time_unix_nano');
        break;
      case 9:
        reader.expectWireType(tag, LEN, 'Span.attributes');
        readKeyValue(reader, reader.length(end, 'Span.attributes'), attributes, 0);
        break;
      case 11:
        reader.expectWireType(tag, LEN, 'Span.events');
        events ??= [];
        events.push(readEvent(reader, reader.length(end, 'Span.events')));
        break;
      case 13:
        reader.expectWireType(tag, LEN, 'Span.links');
        links ??= [];
        links.push(readLink(reader, reader.length(end, 'Span.links')));
        break;
      case 15:
        reader.expectWireType(tag, LEN, 'Span.status');
        readStatus(reader, reader.length(end, 'Span.status'), status);
        break;
      default:
        reader.skip(tag, end);
    }
  }
  if (traceId === '') throw new OtlpDecodeError(`missing Span.trace_id in span ending at byte ${end}`);
  if (spanId === '') throw new OtlpDecodeError(`missing Span.span_id in span ending at byte ${end}`);
  return {
    traceId,
    spanId,
    parentSpanId,
    name,
    kind: spanKindOf(kind),
    startTimeMs,
    endTimeMs,
    attributes,
    statusCode: statusCodeOf(status.code),
    statusMessage: status.message,
    events: events ?? NO_EVENTS,
    links: links ?? NO_LINKS,
    resource,
    scopeName,
    scopeVersion,
  };
}

/** Status { message = 2, code = 3 }; field 1 is reserved. */
function readStatus(reader: Reader, end: number, status: { code: number; message: string }): void {
  while (reader.pos < end) {
    const tag = reader.tag(end);
    switch (tag >>> 3) {
      case 2:
        reader.expectWireType(tag, LEN, 'Status.message');
        status.message = reader.string(end, 'Status.message');
        break;
      case 3:
        reader.expectWireType(tag, VARINT, 'Status.code');
        status.code = reader.enumValue(end);
        break;
      default:
        reader.skip(tag, end);
    }
  }
}

/** Span.Event { time_unix_nano = 1, name = 2, attributes = 3, dropped_attributes_count = 4 }. */
function readEvent(reader: Reader, end: number): SpanEvent {
  let name = '';
  let timeMs = 0;
  const attributes: Attributes = {};
  while (reader.pos < end) {
    const tag = reader.tag(end);
    switch (tag >>> 3) {
      case 1:
        reader.expectWireType(tag, I64, 'Span.Event.time_unix_nano');
        timeMs = reader.nanosAsMs(end, 'Span.Event.time_unix_nano');
        break;
      case 2:
        reader.expectWireType(tag, LEN, 'Span.Event.name');
        name = reader.string(end, 'Span.Event.name');
        break;
      case 3:
        reader.expectWireType(tag, LEN, 'Span.Event.attributes');
        readKeyValue(reader, reader.length(end, 'Span.Event.attributes'), attributes, 0);
        break;
      default:
        reader.skip(tag, end);
    }
  }
  return { name, timeMs, attributes };
}

/** Span.Link { trace_id = 1, span_id = 2, trace_state = 3, attributes = 4, dropped_attributes_count = 5, flags = 6 }. */
function readLink(reader: Reader, end: number): SpanLink {
  let traceId = '';
  let spanId = '';
  const attributes: Attributes = {};
  while (reader.pos < end) {
    const tag = reader.tag(end);
    switch (tag >>> 3) {
      case 1:
        reader.expectWireType(tag, LEN, 'Span.Link.trace_id');
        traceId = reader.id(end, TRACE_ID_BYTES, 'Span.Link.trace_id');
        break;
      case 2:
        reader.expectWireType(tag, LEN, 'Span.Link.span_id');
        spanId = reader.id(end, SPAN_ID_BYTES, 'Span.Link.span_id');
        break;
      case 4:
        reader.expectWireType(tag, LEN, 'Span.Link.attributes');
        readKeyValue(reader, reader.length(end, 'Span.Link.attributes'), attributes, 0);
        break;
      default:
        reader.skip(tag, end);
    }
  }
  if (traceId === '') throw new OtlpDecodeError(`missing Span.Link.trace_id in link ending at byte ${end}`);
  if (spanId === '') throw new OtlpDecodeError(`missing Span.Link.span_id in link ending at byte ${end}`);
  return { traceId, spanId, attributes };
}

/** KeyValue { key = 1, value = 2 }, stored into `target` (last occurrence of a key wins). */
function readKeyValue(reader: Reader, end: number, target: Attributes, depth: number): void {
  let key = '';
  let value: AttributeValue = null;
  while (reader.pos < end) {
    const tag = reader.tag(end);
    switch (tag >>> 3) {
      case 1:
        reader.expectWireType(tag, LEN, 'KeyValue.key');
        key = reader.string(end, 'KeyValue.key');
        break;
      case 2:
        reader.expectWireType(tag, LEN, 'KeyValue.value');
        value = readAnyValue(reader, reader.length(end, 'KeyValue.value'), depth);
        break;
      default:
        reader.skip(tag, end);
    }
  }
  setAttribute(target, key, value);
}

/**
 * AnyValue oneof { string_value = 1, bool_value = 2, int_value = 3, double_value = 4,
 * array_value = 5, kvlist_value = 6, bytes_value = 7 }; an empty AnyValue is `null`.
 */
function readAnyValue(reader: Reader, end: number, depth: number): AttributeValue {
  if (depth >= MAX_ANY_VALUE_DEPTH) {
    throw new OtlpDecodeError(
      `AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels at byte ${reader.pos}`,
    );
  }
  let value: AttributeValue = null;
  while (reader.pos < end) {
    const tag = reader.tag(end);
    switch (tag >>> 3) {
      case 1:
        reader.expectWireType(tag, LEN, 'AnyValue.string_value');
        value = reader.string(end, 'AnyValue.string_value');
        break;
      case 2:
        reader.expectWireType(tag, VARINT, 'AnyValue.bool_value');
        value = reader.int64(end) !== 0;
        break;
      case 3:
        reader.expectWireType(tag, VARINT, 'AnyValue.int_value');
        value = reader.int64(end);
        break;
      case 4:
        reader.expectWireType(tag, I64, 'AnyValue.double_value');
        value = reader.double(end, 'AnyValue.double_value');
        break;
      case 5:
        reader.expectWireType(tag, LEN, 'AnyValue.array_value');
        value = readArrayValue(reader, reader.length(end, 'AnyValue.array_value'), depth + 1);
        break;
      case 6:
        reader.expectWireType(tag, LEN, 'AnyValue.kvlist_value');
        value = readKeyValueList(reader, reader.length(end, 'AnyValue.kvlist_value'), depth + 1);
        break;
      case 7:
        reader.expectWireType(tag, LEN, 'AnyValue.bytes_value');
        value = reader.hex(reader.length(end, 'AnyValue.bytes_value'));
        break;
      default:
        reader.skip(tag, end);
    }
  }
  return value;
}

/** ArrayValue { values = 1 }. */
function readArrayValue(reader: Reader, end: number, depth: number): AttributeValue[] {
  const values: AttributeValue[] = [];
  while (reader.pos < end) {
    const tag = reader.tag(end);
    if (tag >>> 3 === 1) {
      reader.expectWireType(tag, LEN, 'ArrayValue.values');
      values.push(readAnyValue(reader, reader.length(end, 'ArrayValue.values'), depth));
    } else {
      reader.skip(tag, end);
    }
  }
  return values;
}

/** KeyValueList { values = 1 }. */
function readKeyValueList(reader: Reader, end: number, depth: number): Attributes {
  const values: Attributes = {};
  while (reader.pos < end) {
    const tag = reader.tag(end);
    if (tag >>> 3 === 1) {
      reader.expectWireType(tag, LEN, 'KeyValueList.values');
      readKeyValue(reader, reader.length(end, 'KeyValueList.values'), values, depth);
    } else {
      reader.skip(tag, end);
    }
  }
  return values;
}

function isAscii(bytes: Uint8Array, start: number, stop: number): boolean {
  for (let pos = start; pos < stop; pos++) if ((bytes[pos] as number) >= 0x80) return false;
  return true;
}

/**
 * A cursor over the request bytes. Every read takes `end`, the end of the enclosing
 * message, so no field can reach past its parent.
 */
class Reader {
  pos = 0;
  /** High 32 bits of the last varint read (`varint` returns the low 32). */
  private high = 0;
  private readonly view: DataView;
  /** The same bytes as a Buffer, for its native latin1 and hex slicing. */
  private readonly buffer: Buffer;
  /** This request's stamp on the id slots it writes. */
  private readonly stamp: number;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    requestStamp = requestStamp === 0x7fffffff ? 1 : requestStamp + 1;
    this.stamp = requestStamp;
  }

  /** Reads a field tag: field number in the high bits, wire type in the low 3. */
  tag(end: number): number {
    const start = this.pos;
    const tag = this.varint(end);
    if (this.high !== 0 || tag >>> 3 === 0) throw new OtlpDecodeError(`invalid field tag at byte ${start}`);
    return tag;
  }

  expectWireType(tag: number, wireType: number, field: string): void {
    if ((tag & 7) !== wireType) {
      throw new OtlpDecodeError(`wrong wire type ${tag & 7} for ${field} at byte ${this.pos}`);
    }
  }

  /** Reads a length prefix and returns where the field ends. */
  length(end: number, field: string): number {
    const start = this.pos;
    const length = this.varint(end);
    if (this.high !== 0 || length > end - this.pos) {
      throw new OtlpDecodeError(`truncated ${field} at byte ${start}: length exceeds the enclosing message`);
    }
    return this.pos + length;
  }

  /** Low 32 bits of a varint of up to 10 bytes, unsigned; the high 32 go to `this.high`. */
  private varint(end: number): number {
    const bytes = this.bytes;
    const start = this.pos;
    let pos = start;
    let low = 0;
    let high = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) throw new OtlpDecodeError(`truncated varint at byte ${start}`);
      const byte = bytes[pos++] as number;
      low |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.pos = pos;
        this.high = 0;
        return low >>> 0;
      }
    }
    // Byte 5 straddles the halves: 4 bits complete the low word, 3 start the high one.
    if (pos >= end) throw new OtlpDecodeError(`truncated varint at byte ${start}`);
    let byte = bytes[pos++] as number;
    low |= (byte & 0x0f) << 28;
    high = (byte & 0x7f) >>> 4;
    for (let shift = 3; byte >= 0x80; shift += 7) {
      if (shift > 31) throw new OtlpDecodeError(`varint longer than 10 bytes at byte ${start}`);
      if (pos >= end) throw new OtlpDecodeError(`truncated varint at byte ${start}`);
      byte = bytes[pos++] as number;
      high |= (byte & 0x7f) << shift;
    }
    this.pos = pos;
    this.high = high >>> 0;
    return low >>> 0;
  }

  /** A varint as a signed 64-bit integer, rounded to the nearest double beyond 2^53. */
  int64(end: number): number {
    const low = this.varint(end);
    return (this.high | 0) * 0x1_0000_0000 + low;
  }

  /** An enum (int32): values outside 0..2^32 are reported as -1 so they read as unspecified. */
  enumValue(end: number): number {
    const low = this.varint(end);
    return this.high === 0 ? low : -1;
  }

  /** A fixed64 count of nanoseconds since the epoch, as fractional milliseconds. */
  nanosAsMs(end: number, field: string): number {
    if (end - this.pos < 8) throw new OtlpDecodeError(`truncated ${field} at byte ${this.pos}`);
    const low = this.view.getUint32(this.pos, true);
    const high = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    // Both terms are exact integers below 2^53; only the division and the sum round.
    return high * HIGH_WORD_WHOLE_MS + (high * HIGH_WORD_REMAINDER_NS + low) / 1e6;
  }

  double(end: number, field: string): number {
    if (end - this.pos < 8) throw new OtlpDecodeError(`truncated ${field} at byte ${this.pos}`);
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  string(end: number, field: string): string {
    const stop = this.length(end, field);
    const bytes = this.bytes;
    const start = this.pos;
    this.pos = stop;
    if (stop - start <= INTERN_MAX_BYTES) {
      // A multiplicative hash taken four bytes at a time (a multiply per byte was the decoder's
      // largest cost), folding high bits down so every byte reaches the slot; the bytes are
      // OR-ed together on the way to check they are ASCII.
      let hash = stop - start;
      let bits = 0;
      let pos = start;
      for (const lastWord = stop - 3; pos < lastWord; pos += 4) {
        const word =
          (bytes[pos] as number) |
          ((bytes[pos + 1] as number) << 8) |
          ((bytes[pos + 2] as number) << 16) |
          ((bytes[pos + 3] as number) << 24);
        bits |= word;
        hash = Math.imul(hash ^ word, 0x9e3779b1);
        hash ^= hash >>> 15;
      }
      for (; pos < stop; pos++) {
        const byte = bytes[pos] as number;
        bits |= byte;
        hash = Math.imul(hash ^ byte, 0x9e3779b1);
        hash ^= hash >>> 15;
      }
      if ((bits & 0x80808080) === 0) return this.interned(start, stop, hash);
    } else if (isAscii(bytes, start, stop)) {
      return this.buffer.toString('latin1', start, stop);
    }
    try {
      return utf8.decode(bytes.subarray(start, stop));
    } catch {
      throw new OtlpDecodeError(`invalid UTF-8 in ${field} at byte ${start}`);
    }
  }

  /** A trace or span id of exactly `size` bytes, as lowercase hex. */
  id(end: number, size: number, field: string): string {
    const start = this.pos;
    const stop = this.length(end, field);
    if (stop - this.pos !== size) {
      throw new OtlpDecodeError(`${field} must be ${size} bytes, got ${stop - this.pos} at byte ${start}`);
    }
    return this.sharedId(stop, size === TRACE_ID_BYTES ? traceIdSlots : spanIdSlots);
  }

  /** A parent span id; empty means absent (a root span). */
  parentSpanId(end: number, field: string): string {
    const start = this.pos;
    const stop = this.length(end, field);
    if (stop === this.pos) return '';
    if (stop - this.pos !== SPAN_ID_BYTES) {
      throw new OtlpDecodeError(
        `${field} must be ${SPAN_ID_BYTES} bytes or empty, got ${stop - this.pos} at byte ${start}`,
      );
    }
    return this.sharedId(stop, spanIdSlots);
  }

  /** The id in [pos, stop) as lowercase hex: the string read before for the same bytes while `slots` holds it. */
  private sharedId(stop: number, slots: IdSlots): string {
    const at = this.pos;
    const slot = Math.imul(this.view.getUint32(stop - 4, true), 0x9e3779b1) >>> (32 - ID_SLOTS_LOG2);
    if (slots.request[slot] === this.stamp && this.sameBytes(at, slots.at[slot] as number, stop - at)) {
      this.pos = stop;
      return slots.strings[slot] as string;
    }
    const id = this.hex(stop);
    slots.strings[slot] = id;
    slots.at[slot] = at;
    slots.request[slot] = this.stamp;
    return id;
  }

  /** The bytes up to `stop` as lowercase hex. */
  hex(stop: number): string {
    const hex = this.buffer.toString('hex', this.pos, stop);
    this.pos = stop;
    return hex;
  }

  private sameBytes(at: number, other: number, size: number): boolean {
    const bytes = this.bytes;
    for (let i = 0; i < size; i++) if (bytes[at + i] !== bytes[other + i]) return false;
    return true;
  }

  /** The ASCII bytes [start, stop), whose hash is `hash`, as the string interned for them if any. */
  private interned(start: number, stop: number, hash: number): string {
    const slot = hash & (INTERN_SLOTS - 1);
    const candidate = interned[slot] as string;
    if (candidate.length === stop - start) {
      const bytes = this.bytes;
      let pos = start;
      while (pos < stop && candidate.charCodeAt(pos - start) === bytes[pos]) pos++;
      if (pos === stop) return candidate;
    }
    const decoded = this.buffer.toString('latin1', start, stop);
    if (internMisses[slot] === hash) interned[slot] = decoded;
    else internMisses[slot] = hash;
    return decoded;
  }

  /** Steps over a field this decoder does not read. */
  skip(tag: number, end: number): void {
    const start = this.pos;
    switch (tag & 7) {
      case VARINT:
        this.varint(end);
        return;
      case I64:
        if (end - this.pos < 8) throw new OtlpDecodeError(`truncated fixed64 field at byte ${start}`);
        this.pos += 8;
        return;
      case LEN:
        this.pos = this.length(end, `field ${tag >>> 3}`);
        return;
      case I32:
        if (end - this.pos < 4) throw new OtlpDecodeError(`truncated fixed32 field at byte ${start}`);
        this.pos += 4;
        return;
      default:
        throw new OtlpDecodeError(`unsupported wire type ${tag & 7} for field ${tag >>> 3} at byte ${start}`);
    }
  }
}
