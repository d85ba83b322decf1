/**
 * A JSON body spliced from parts (`open part,part,… close`) that is gzip'd segment by segment, so
 * that the next body, which differs from it in a few parts, is compressed again only where it
 * differs. The findings list changes one finding at a time between detection runs; compressing
 * its 500 KiB again on each change cost ~1.3 ms of CPU and a new half-megabyte buffer per request.
 *
 * Parts are grouped into segments of consecutive parts; a segment ends after a part its caller
 * marks (the findings list marks one finding in 64 by id, so segments keep their bounds when other
 * findings change). Each segment is deflated on its own, ending on a byte boundary without a final
 * block, so the segments concatenate into one deflate stream; the gzip header, an empty final
 * block and the trailer (the CRC-32 of the whole, combined from the segments' own) close it. A
 * segment whose parts are the same objects, in the same place, as one of the previous body's is
 * taken over with its compressed bytes. Independent segments compress ~12% worse than the whole.
 */
import * as zlib from 'node:zlib';
import type { BodyBytes } from './cached-body.js';

/** One part of the body: its JSON (kept by the caller: the same object while it is unchanged). */
export interface SplicedPart {
  json: Uint8Array<ArrayBuffer>;
  /** A segment ends after this part. */
  endsSegment: boolean;
}

/** Consecutive parts with the separators before them, and their compressed form once asked for. */
interface Segment {
  parts: Uint8Array[];
  /** Starts the body (the opening bytes, no comma before its first part). */
  first: boolean;
  /** Ends the body (the closing bytes after its last part). */
  last: boolean;
  bytes: Uint8Array<ArrayBuffer>;
  deflated?: { bytes: Uint8Array; crc: number };
}

const COMMA = Uint8Array.of(0x2c);
/** Magic, deflate, no flags, no time, no extra flags, Unix. */
const GZIP_HEADER = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3);
/** An empty final block with fixed codes: what zlib ends a flushed stream with. */
const FINAL_BLOCK = Uint8Array.of(0x03, 0x00);

/**
 * @example
 * const body = new SplicedJson(utf8.encode('{"items":['), parts, utf8.encode(']}'), previous?.segments);
 * body.json; // the whole JSON
 * await body.gzipped(); // only segments previous did not have are compressed
 */
export class SplicedJson implements BodyBytes {
  readonly segments: readonly Segment[];
  private joined: Uint8Array<ArrayBuffer> | undefined;
  private zipped: Promise<Uint8Array<ArrayBuffer>> | undefined;

  constructor(
    open: Uint8Array,
    parts: readonly SplicedPart[],
    close: Uint8Array,
    previous: readonly Segment[] = [],
    private readonly gzipLevel: number = zlib.constants.Z_BEST_SPEED,
  ) {
    const byFirstPart = new Map<Uint8Array, Segment>();
    for (const segment of previous) {
      const head = segment.parts[0];
      if (head) byFirstPart.set(head, segment);
    }
    const segments: Segment[] = [];
    let start = 0;
    for (let end = 0; end < parts.length; end++) {
      if (!(parts[end] as SplicedPart).endsSegment && end < parts.length - 1) continue;
      const run = parts.slice(start, end + 1).map((part) => part.json);
      const first = start === 0;
      const last = end === parts.length - 1;
      const kept = byFirstPart.get(run[0] as Uint8Array);
      segments.push(
        kept && sameSegment(kept, run, first, last) ? kept : newSegment(run, first, last, open, close),
      );
      start = end + 1;
    }
    if (segments.length === 0) segments.push(newSegment([], true, true, open, close));
    this.segments = segments;
  }

  /** The whole JSON, joined on first use. */
  get json(): Uint8Array<ArrayBuffer> {
    this.joined ??= concat(this.segments.map((segment) => segment.bytes));
    return this.joined;
  }

  /**
   * One gzip stream of the whole JSON: the segments not compressed before are, here, on this
   * thread: a segment (~30 KiB) takes ~0.1 ms, and handing it to zlib's thread pool cost twice that.
   */
  gzipped(): Promise<Uint8Array<ArrayBuffer>> {
    this.zipped ??= Promise.resolve().then(() => this.gzip());
    return this.zipped;
  }

  private gzip(): Uint8Array<ArrayBuffer> {
    const options = { level: this.gzipLevel, finishFlush: zlib.constants.Z_SYNC_FLUSH };
    const pieces: Uint8Array[] = [GZIP_HEADER];
    let crc = 0;
    let length = 0;
    for (const segment of this.segments) {
      segment.deflated ??= { bytes: zlib.deflateRawSync(segment.bytes, options), crc: crc32(segment.bytes) };
      pieces.push(segment.deflated.bytes);
      crc = crc32Combine(crc, segment.deflated.crc, segment.bytes.length);
      length += segment.bytes.length;
    }
    const trailer = new Uint8Array(8);
    const view = new DataView(trailer.buffer);
    view.setUint32(0, crc, true);
    view.setUint32(4, length % 2 ** 32, true);
    pieces.push(FINAL_BLOCK, trailer);
    return concat(pieces);
  }
}

function sameSegment(segment: Segment, parts: Uint8Array[], first: boolean, last: boolean): boolean {
  return (
    segment.first === first &&
    segment.last === last &&
    segment.parts.length === parts.length &&
    segment.parts.every((part, index) => part === parts[index])
  );
}

/** A segment's bytes: the opening bytes or the comma before it, its parts, the closing bytes if last. */
function newSegment(
  parts: Uint8Array[],
  first: boolean,
  last: boolean,
  open: Uint8Array,
  close: Uint8Array,
): Segment {
  const pieces: Uint8Array[] = [];
  for (const [index, part] of parts.entries()) {
    if (index > 0 || !first) pieces.push(COMMA);
    pieces.push(part);
  }
  if (first) pieces.unshift(open);
  if (last) pieces.push(close);
  return { parts, first, last, bytes: concat(pieces) };
}

function concat(pieces: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const piece of pieces) length += piece.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}

const CRC_POLYNOMIAL = 0xedb88320;
const CRC_TABLE = Int32Array.from({ length: 256 }, (_, byte) => {
  let c = byte;
  for (let bit = 0; bit < 8; bit++) c = c & 1 ? CRC_POLYNOMIAL ^ (c >>> 1) : c >>> 1;
  return c;
});

/** CRC-32 by table, where zlib does not offer it (Node before 20.15). */
export function tableCrc32(bytes: Uint8Array): number {
  let crc = -1;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return ~crc >>> 0;
}

const crc32: (bytes: Uint8Array) => number =
  typeof zlib.crc32 === 'function' ? (bytes) => zlib.crc32(bytes) : tableCrc32;

/** `a(x)·b(x) mod p(x)`, CRC-32 polynomials in reflected bit order (zlib's multmodp). */
function multiplyModP(a: number, b: number): number {
  let m = 1 << 31;
  let product = 0;
  for (;;) {
    if (a & m) {
      product ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ CRC_POLYNOMIAL : b >>> 1;
  }
  return product >>> 0;
}

/** `x^(2^k) mod p(x)` for k = 0…31. */
const X_POWERS: number[] = [1 << 30];
for (let k = 1; k < 32; k++) {
  const previous = X_POWERS[k - 1] as number;
  X_POWERS.push(multiplyModP(previous, previous));
}

/**
 * The CRC-32 of two byte runs one after the other, from the CRC of each and the second's length
 * (zlib's crc32_combine), so a body's CRC is made from its segments' without reading them again.
 *
 * @example
 * crc32Combine(crc32(a), crc32(b), b.length) === crc32(concat(a, b)); // true
 */
export function crc32Combine(first: number, second: number, secondLength: number): number {
  // x^(8·secondLength) mod p(x): the first CRC shifted past the second run's bits.
  let shift = 1 << 31;
  let k = 3;
  for (let n = secondLength; n > 0; n = Math.floor(n / 2), k++) {
    if (n % 2 === 1) shift = multiplyModP(X_POWERS[k % 32] as number, shift);
  }
  return (multiplyModP(shift, first) ^ second) >>> 0;
}
