/**
 * A protobuf writer for the agent's OTLP encoding: one growable buffer, written front to
 * back in a single pass. A length-delimited field reserves the one byte its length takes
 * when the content is short, and moves the content forward in the rare case it is not:
 * no size-estimation pass, no intermediate objects. Strings take an ASCII fast path (one
 * byte per character, no encoder call) and fall back to `Buffer#write` for the rest.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

const TWO_32 = 0x1_0000_0000;
const NANOS_PER_SECOND = 1_000_000_000;
const INITIAL_CAPACITY = 16 * 1024;

/** Bytes a varint of `value` (0 ≤ value < 2^32) takes. */
function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x20_0000) return 3;
  return value < 0x1000_0000 ? 4 : 5;
}

/**
 * The value of a hex digit's character code, either case, without a table: the low nibble
 * is the digit for `0`–`9`, and one less than its offset from 9 for `a`–`f` and `A`–`F`,
 * whose codes have bit 6 set. Ids are validated as hex before they reach a span.
 */
function hexDigit(code: number): number {
  return (code & 0xf) + (code >> 6) * 9;
}

/**
 * @example
 * const writer = new ProtobufWriter();
 * writer.tag(1, WIRE_LEN);
 * writer.string('checkout');
 * writer.bytes(); // Uint8Array [10, 8, 99, …]
 */
export class ProtobufWriter {
  private buffer: Buffer;
  pos = 0;

  constructor(capacity = INITIAL_CAPACITY) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  /** What was written so far: a view, valid until the next write or {@link reset}. */
  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.pos);
  }

  /** Empties the writer, keeping its buffer. */
  reset(): void {
    this.pos = 0;
  }

  tag(field: number, wireType: number): void {
    this.varint32((field << 3) | wireType);
  }

  /** An unsigned varint below 2^32. */
  varint32(value: number): void {
    this.ensure(5);
    const buffer = this.buffer;
    let pos = this.pos;
    let rest = value >>> 0;
    while (rest >= 0x80) {
      buffer[pos++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    buffer[pos++] = rest;
    this.pos = pos;
  }

  /** A varint of any integer in the int64 range (negative ones take ten bytes, as two's complement). */
  varint64(value: number): void {
    if (value >= 0 && value < TWO_32) {
      this.varint32(value);
      return;
    }
    let low: number;
    let high: number;
    if (value >= 0) {
      low = value % TWO_32;
      high = Math.floor(value / TWO_32);
    } else {
      // Two's complement of the magnitude, over 64 bits.
      const magnitude = -value;
      low = (TWO_32 - (magnitude % TWO_32)) % TWO_32;
      high = (TWO_32 - Math.floor(magnitude / TWO_32) - (low === 0 ? 0 : 1)) % TWO_32;
    }
    this.ensure(10);
    const buffer = this.buffer;
    let pos = this.pos;
    // 64 bits, 7 at a time: the low word's 32 bits and the high word's, without BigInt.
    while (high > 0 || low >= 0x80) {
      buffer[pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | ((high & 0x7f) << 25)) >>> 0;
      high >>>= 7;
    }
    buffer[pos++] = low;
    this.pos = pos;
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.word(value);
  }

  double(value: number): void {
    this.ensure(8);
    this.buffer.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /**
   * An OpenTelemetry `HrTime` (`[seconds, nanoseconds]`) as fixed64 nanoseconds. The
   * product exceeds 2^53, so seconds are split in 16-bit halves and the carries summed.
   */
  hrTime(time: readonly [number, number]): void {
    const seconds = time[0];
    const lowPart = (seconds % 0x1_0000) * NANOS_PER_SECOND + time[1];
    const highPart = Math.floor(seconds / 0x1_0000) * NANOS_PER_SECOND;
    // highPart counts units of 2^16: its low 16 bits land in the low word, the rest in the high one.
    const low = lowPart + (highPart % 0x1_0000) * 0x1_0000;
    this.ensure(8);
    this.word(low % TWO_32);
    this.word((Math.floor(highPart / 0x1_0000) + Math.floor(low / TWO_32)) % TWO_32);
  }

  /** Four little-endian bytes; the caller ensured the room. */
  private word(value: number): void {
    const buffer = this.buffer;
    const pos = this.pos;
    buffer[pos] = value;
    buffer[pos + 1] = value >>> 8;
    buffer[pos + 2] = value >>> 16;
    buffer[pos + 3] = value >>> 24;
    this.pos = pos + 4;
  }

  /** A length-prefixed UTF-8 string. */
  string(value: string): void {
    const length = value.length;
    this.ensure(length + 5);
    const buffer = this.buffer;
    const start = this.pos;
    let pos = start + varintSize(length);
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) {
        this.nonAsciiString(value, start);
        return;
      }
      buffer[pos++] = code;
    }
    this.pos = start;
    this.varint32(length);
    this.pos = pos;
  }

  private nonAsciiString(value: string, start: number): void {
    const length = Buffer.byteLength(value, 'utf8');
    this.pos = start;
    this.varint32(length);
    this.ensure(length);
    this.pos += this.buffer.write(value, this.pos, length, 'utf8');
  }

  /** Length-prefixed raw bytes. */
  rawBytes(value: Uint8Array): void {
    this.varint32(value.length);
    this.ensure(value.length);
    this.buffer.set(value, this.pos);
    this.pos += value.length;
  }

  /** A length-prefixed id given as hex (`traceId`, `spanId`): `hex.length / 2` bytes. */
  hexId(hex: string): void {
    const size = hex.length >>> 1;
    this.ensure(size + 1);
    const buffer = this.buffer;
    let pos = this.pos;
    buffer[pos++] = size;
    for (let i = 0; i < hex.length - 1; i += 2) {
      buffer[pos++] = (hexDigit(hex.charCodeAt(i)) << 4) | hexDigit(hex.charCodeAt(i + 1));
    }
    this.pos = pos;
  }

  /**
   * Starts a length-delimited message: reserves `lengthBytes` bytes for its length, one by
   * default, more for a message known to be longer (a span: two, for 128 bytes to 16 KB).
   *
   * @returns where the length goes, for {@link finishMessage} (given the same `lengthBytes`).
   */
  startMessage(lengthBytes = 1): number {
    this.ensure(lengthBytes);
    const start = this.pos;
    this.pos += lengthBytes;
    return start;
  }

  /** Writes the length of the message started at `start`, moving its content when the length takes other than the bytes reserved. */
  finishMessage(start: number, lengthBytes = 1): void {
    const contentStart = start + lengthBytes;
    const length = this.pos - contentStart;
    const size = varintSize(length);
    if (size !== lengthBytes) {
      this.ensure(size - lengthBytes);
      this.buffer.copyWithin(start + size, contentStart, this.pos);
      this.pos += size - lengthBytes;
    }
    const end = this.pos;
    this.pos = start;
    this.varint32(length);
    this.pos = end;
  }

  /**
   * A whole `KeyValue` field with a short ASCII string, a small non-negative integer or a
   * boolean value, written in one go: every length fits in one byte, so nothing is moved.
   * `key` is the KeyValue's key field, already encoded.
   *
   * @returns false, having written nothing, for any other value: the caller takes the general path.
   */
  shortKeyValue(tagByte: number, key: Uint8Array, value: unknown): boolean {
    let valueSize: number;
    if (typeof value === 'string') valueSize = 2 + value.length;
    else if (typeof value === 'number') {
      if (!Number.isInteger(value) || value < 0 || value >= 0x1000_0000) return false;
      valueSize = 1 + varintSize(value);
    } else if (typeof value === 'boolean') valueSize = 2;
    else return false;
    const entrySize = key.length + 2 + valueSize;
    if (entrySize >= 0x80) return false;
    this.ensure(entrySize + 2);
    const buffer = this.buffer;
    let pos = this.pos;
    buffer[pos++] = tagByte;
    buffer[pos++] = entrySize;
    for (let i = 0; i < key.length; i++) buffer[pos++] = key[i] as number;
    buffer[pos++] = 0x12;
    buffer[pos++] = valueSize;
    if (typeof value === 'string') {
      buffer[pos++] = 0x0a;
      buffer[pos++] = value.length;
      for (let i = 0; i < value.length; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) return false;
        buffer[pos++] = code;
      }
    } else if (typeof value === 'number') {
      buffer[pos++] = 0x18;
      let rest = value;
      while (rest >= 0x80) {
        buffer[pos++] = (rest & 0x7f) | 0x80;
        rest >>>= 7;
      }
      buffer[pos++] = rest;
    } else {
      buffer[pos++] = 0x10;
      buffer[pos++] = value ? 1 : 0;
    }
    this.pos = pos;
    return true;
  }

  /** Appends bytes written elsewhere, as they are. */
  append(bytes: Uint8Array): void {
    const length = bytes.length;
    this.ensure(length);
    // Short runs (attribute keys) copy faster in a loop than through a native call.
    if (length > 64) {
      this.buffer.set(bytes, this.pos);
      this.pos += length;
      return;
    }
    const buffer = this.buffer;
    let pos = this.pos;
    for (let i = 0; i < length; i++) buffer[pos++] = bytes[i] as number;
    this.pos = pos;
  }

  private ensure(size: number): void {
    const needed = this.pos + size;
    if (needed <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    this.buffer.copy(grown, 0, 0, this.pos);
    this.buffer = grown;
  }
}
