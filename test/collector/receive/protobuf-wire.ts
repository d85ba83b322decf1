/**
 * Hand-assembled protobuf, for what no real encoder emits: fields out of order, unknown
 * fields, and malformed bytes. Field numbers as in opentelemetry-proto.
 */

export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;

export function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** A varint; negative numbers as 10-byte two's complement, as int64 is encoded. */
export function varint(value: number | bigint): Uint8Array {
  let remaining = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  while (remaining > 0x7fn) {
    bytes.push(Number(remaining & 0x7fn) | 0x80);
    remaining >>= 7n;
  }
  bytes.push(Number(remaining));
  return Uint8Array.from(bytes);
}

export function tag(field: number, wireType: number): Uint8Array {
  return varint(field * 8 + wireType);
}

/** A length-delimited field holding `parts` (an embedded message, bytes or a string). */
export function message(field: number, ...parts: Uint8Array[]): Uint8Array {
  const body = concat(...parts);
  return concat(tag(field, LEN), varint(body.length), body);
}

export function string(field: number, text: string): Uint8Array {
  return message(field, Buffer.from(text, 'utf8'));
}

export function bytes(field: number, data: ArrayLike<number>): Uint8Array {
  return message(field, Uint8Array.from(data));
}

export function uint(field: number, value: number | bigint): Uint8Array {
  return concat(tag(field, VARINT), varint(value));
}

export function fixed64(field: number, value: bigint): Uint8Array {
  const data = Buffer.alloc(8);
  data.writeBigUInt64LE(value);
  return concat(tag(field, I64), data);
}

export function double(field: number, value: number): Uint8Array {
  const data = Buffer.alloc(8);
  data.writeDoubleLE(value);
  return concat(tag(field, I64), data);
}

export function fixed32(field: number, value: number): Uint8Array {
  const data = Buffer.alloc(4);
  data.writeUInt32LE(value);
  return concat(tag(field, I32), data);
}

export const TRACE_ID = 'a1a2a3a4a5a6a7a8b1b2b3b4b5b6b7b8';
export const SPAN_ID = 'c1c2c3c4c5c6c7c8';
export const PARENT_SPAN_ID = 'd1d2d3d4d5d6d7d8';

/** Span with its ids, a name and times; `fields` are appended (a later field wins). */
export function span(...fields: Uint8Array[]): Uint8Array {
  return concat(
    bytes(1, Buffer.from(TRACE_ID, 'hex')),
    bytes(2, Buffer.from(SPAN_ID, 'hex')),
    string(5, 'GET /'),
    fixed64(7, 1_700_000_000_000_000_000n),
    fixed64(8, 1_700_000_000_250_000_000n),
    ...fields,
  );
}

/** KeyValue { key = 1, value = 2 } with `anyValue` the AnyValue's own fields. */
export function keyValue(field: number, key: string, ...anyValue: Uint8Array[]): Uint8Array {
  return message(field, string(1, key), message(2, ...anyValue));
}

/** ExportTraceServiceRequest with one ResourceSpans holding one ScopeSpans with these spans. */
export function request(...spans: Uint8Array[]): Uint8Array {
  return message(
    1,
    message(1, keyValue(1, 'service.name', string(1, 'shop'))),
    message(2, message(1, string(1, 'scope'), string(2, '1.0.0')), ...spans.map((body) => message(2, body))),
  );
}
