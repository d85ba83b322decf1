import { describe, expect, it } from 'vitest';
import { ProtobufWriter, WIRE_LEN } from '../../../agent/otlp/protobuf-writer.js';

/** A varint as protobuf defines it, computed with BigInt: the reference the writer must match. */
function referenceVarint(value: bigint): number[] {
  let rest = BigInt.asUintN(64, value);
  const bytes: number[] = [];
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return bytes;
}

function written(write: (writer: ProtobufWriter) => void): number[] {
  const writer = new ProtobufWriter(4);
  write(writer);
  return [...writer.bytes()];
}

describe('ProtobufWriter', () => {
  it.each([
    0,
    1,
    127,
    128,
    300,
    2 ** 31,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 40 + 5,
    2 ** 53 - 1,
    2 ** 62,
    -1,
    -2,
    -(2 ** 31),
    -(2 ** 32),
    -(2 ** 40) - 3,
    -(2 ** 53) + 1,
    -(2 ** 63),
  ])('writes %d as the int64 varint protobuf defines', (value) => {
    expect(written((writer) => writer.varint64(value))).toEqual(referenceVarint(BigInt(value)));
  });

  it.each([
    [0, 0],
    [1_700_000_000, 123_456_789],
    [1_700_000_000, 999_999_999],
    // 2100-01-01 and the last second fixed64 nanoseconds can hold.
    [4_102_444_800, 1],
    [18_446_744_072, 999_999_999],
  ])('writes HrTime [%d, %d] as fixed64 nanoseconds', (seconds, nanos) => {
    const expected = Buffer.alloc(8);
    expected.writeBigUInt64LE(BigInt(seconds) * 1_000_000_000n + BigInt(nanos));
    expect(written((writer) => writer.hrTime([seconds, nanos]))).toEqual([...expected]);
  });

  it.each([
    ['ascii', 'GET /orders/:id'],
    ['empty', ''],
    ['accents and emoji', 'café ☕ 😀'],
    ['a lone surrogate', 'bad \ud800 half'],
    ['long ascii', 'x'.repeat(200)],
    ['long non-ascii', 'é'.repeat(100)],
  ])('writes %s strings as length-prefixed UTF-8', (_name, text) => {
    const utf8 = Buffer.from(text, 'utf8');
    expect(written((writer) => writer.string(text))).toEqual([
      ...referenceVarint(BigInt(utf8.length)),
      ...utf8,
    ]);
  });

  it('writes hex ids as their bytes', () => {
    expect(written((writer) => writer.hexId('0af7651916cd43dd8448eb211c80319c'))).toEqual([
      16,
      ...Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex'),
    ]);
  });

  it.each([
    [0, 1],
    [1, 1],
    [127, 1],
    [128, 1],
    [16_383, 1],
    [16_384, 1],
    [70_000, 1],
    [0, 2],
    [127, 2],
    [128, 2],
    [16_383, 2],
    [16_384, 2],
    [70_000, 2],
  ])(
    'prefixes a nested message of %d bytes with its exact length (%d length bytes reserved)',
    (size, lengthBytes) => {
      const content = Buffer.alloc(size, 7);
      const bytes = written((writer) => {
        writer.tag(1, WIRE_LEN);
        const start = writer.startMessage(lengthBytes);
        writer.append(content);
        writer.finishMessage(start, lengthBytes);
        writer.tag(2, WIRE_LEN);
        writer.string('after');
      });
      expect(bytes).toEqual([
        0x0a,
        ...referenceVarint(BigInt(size)),
        ...content,
        0x12,
        5,
        ...Buffer.from('after'),
      ]);
    },
  );

  describe('shortKeyValue', () => {
    const key = (() => {
      const writer = new ProtobufWriter();
      writer.tag(1, WIRE_LEN);
      writer.string('db.system.name');
      return writer.bytes().slice();
    })();

    /** The same KeyValue through the general methods. */
    function general(write: (writer: ProtobufWriter) => void): number[] {
      return written((writer) => {
        writer.tag(9, WIRE_LEN);
        const entry = writer.startMessage();
        writer.append(key);
        writer.tag(2, WIRE_LEN);
        const value = writer.startMessage();
        write(writer);
        writer.finishMessage(value);
        writer.finishMessage(entry);
      });
    }

    it.each([
      ['a string', 'postgresql', 1, (writer: ProtobufWriter) => writer.string('postgresql')],
      ['an integer', 300, 3, (writer: ProtobufWriter) => writer.varint64(300)],
      ['a boolean', true, 2, (writer: ProtobufWriter) => writer.varint32(1)],
    ])('writes %s as the general methods would', (_name, value, field, write) => {
      const expected = general((writer) => {
        writer.tag(field, field === 1 ? WIRE_LEN : 0);
        write(writer);
      });
      expect(written((writer) => expect(writer.shortKeyValue(0x4a, key, value)).toBe(true))).toEqual(
        expected,
      );
    });

    it.each([
      ['non-ASCII text', 'café'],
      ['a long string', 'x'.repeat(120)],
      ['a negative number', -1],
      ['a fraction', 0.5],
      ['an array', ['a']],
    ])('writes nothing for %s', (_name, value) => {
      expect(written((writer) => expect(writer.shortKeyValue(0x4a, key, value)).toBe(false))).toEqual([]);
    });
  });
});
