import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { MAX_ANY_VALUE_DEPTH } from '../../../collector/receive/decoding.js';
import { decodeProtobufTraceRequest, OtlpDecodeError } from '../../../collector/receive/otlp-protobuf.js';
import { SpanKind, StatusCode } from '../../../model/index.js';
import {
  bytes,
  concat,
  double,
  fixed32,
  fixed64,
  I64,
  keyValue,
  LEN,
  message,
  PARENT_SPAN_ID,
  request,
  SPAN_ID,
  span,
  string,
  TRACE_ID,
  tag,
  uint,
  VARINT,
  varint,
} from './protobuf-wire.js';
import { bySpanId, expectedRecord, recordSdkSpans } from './sdk-spans.js';

function serialize(spans: ReturnType<typeof recordSdkSpans>): Uint8Array {
  const body = ProtobufTraceSerializer.serializeRequest(spans);
  if (!body) throw new Error('ProtobufTraceSerializer produced no body');
  return body;
}

function decodeError(body: Uint8Array): OtlpDecodeError {
  try {
    decodeProtobufTraceRequest(body);
  } catch (error) {
    if (error instanceof OtlpDecodeError) return error;
    throw error;
  }
  throw new Error('expected the body to be rejected');
}

/** The single span of a request built around `fields`. */
function decodeOne(...fields: Uint8Array[]) {
  const [record, ...rest] = decodeProtobufTraceRequest(request(span(...fields)));
  expect(rest).toEqual([]);
  if (!record) throw new Error('no span decoded');
  return record;
}

describe('decodeProtobufTraceRequest on SDK output', () => {
  const sdkSpans = recordSdkSpans();
  const body = serialize(sdkSpans);

  it('reproduces every field of every span', () => {
    const decoded = decodeProtobufTraceRequest(body);
    expect(decoded).toHaveLength(sdkSpans.length);
    const decodedById = bySpanId(decoded);
    for (const sdkSpan of sdkSpans) {
      expect(decodedById.get(sdkSpan.spanContext().spanId)).toEqual(expectedRecord(sdkSpan));
    }
  });

  it('decodes every AnyValue member', () => {
    const server = decodeProtobufTraceRequest(body).find((record) => record.name === 'GET /orders/:id');
    expect(server?.attributes).toMatchObject({
      'http.response.status_code': 200,
      'chokepoint.sample.ratio': 0.125,
      'chokepoint.sampled': true,
      'chokepoint.negative': -42,
      'chokepoint.large': 2 ** 53 - 1,
      'chokepoint.unicode': 'Grüße, 世界 🚀',
      'payload.bytes': '007f80ff',
      'payload.map': { retries: 3, ratio: 0.25, ok: true, label: 'naïve', nested: { tags: ['a', 'b'] } },
      'payload.matrix': [
        [1, 2],
        [3, 4],
      ],
      'payload.mixed': ['one', 2, 2.5, false, null],
      'payload.empty': null,
    });
  });

  it('shares one ResourceInfo among the spans of a resource', () => {
    const decoded = decodeProtobufTraceRequest(body);
    const checkout = decoded.filter((record) => record.resource.serviceName === 'checkout');
    const unnamed = decoded.filter((record) => record.resource.serviceName === 'unknown_service');
    expect(checkout).toHaveLength(3);
    expect(unnamed).toHaveLength(2);
    for (const record of checkout) expect(record.resource).toBe(checkout[0]?.resource);
    for (const record of unnamed) expect(record.resource).toBe(unnamed[0]?.resource);
    expect(checkout[0]?.resource).not.toBe(unnamed[0]?.resource);
    expect(unnamed[0]?.resource).toEqual({
      serviceName: 'unknown_service',
      attributes: { 'host.name': 'worker-1' },
    });
  });

  it('rejects every truncation except at a ResourceSpans boundary, with OtlpDecodeError only', () => {
    const full = decodeProtobufTraceRequest(body);
    const resourceCount = new Set(full.map((record) => record.resource)).size;
    let accepted = 0;
    for (let cut = 1; cut < body.length; cut++) {
      let prefix: ReturnType<typeof decodeProtobufTraceRequest>;
      try {
        prefix = decodeProtobufTraceRequest(body.subarray(0, cut));
      } catch (error) {
        expect(error).toBeInstanceOf(OtlpDecodeError);
        continue;
      }
      accepted++;
      expect(prefix).toEqual(full.slice(0, prefix.length));
    }
    expect(accepted).toBe(resourceCount - 1);
  });

  it('never fails with anything but OtlpDecodeError on corrupted bytes', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let rejected = 0;
    for (let round = 0; round < 2000; round++) {
      const corrupted = Uint8Array.from(body);
      for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) {
        corrupted[Math.floor(random() * corrupted.length)] = Math.floor(random() * 256);
      }
      try {
        decodeProtobufTraceRequest(corrupted);
      } catch (error) {
        expect(error).toBeInstanceOf(OtlpDecodeError);
        expect((error as Error).message).not.toContain('\n');
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(0);
  });
});

describe('decodeProtobufTraceRequest on hand-built messages', () => {
  it('decodes an empty request to no spans', () => {
    expect(decodeProtobufTraceRequest(new Uint8Array(0))).toEqual([]);
  });

  it('reads ids as lowercase hex, an empty parent as a root, and a parent id', () => {
    expect(decodeOne()).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, parentSpanId: '' });
    expect(decodeOne(bytes(4, []))).toMatchObject({ parentSpanId: '' });
    expect(decodeOne(bytes(4, Buffer.from(PARENT_SPAN_ID, 'hex')))).toMatchObject({
      parentSpanId: PARENT_SPAN_ID,
    });
  });

  it("reads each span's own parent: siblings, roots and other parents in between", () => {
    const parents = [PARENT_SPAN_ID, PARENT_SPAN_ID, '', PARENT_SPAN_ID, 'e1e2e3e4e5e6e7e8', PARENT_SPAN_ID];
    const decoded = decodeProtobufTraceRequest(
      request(...parents.map((parent) => span(bytes(4, Buffer.from(parent, 'hex'))))),
    );
    expect(decoded.map((record) => record.parentSpanId)).toEqual(parents);
  });

  it('reads each id as its own among ids interleaved and alike in all but one byte', () => {
    // Ids read before in a request are kept by their last four bytes: ids that share them, or
    // share all but one of the others, must still each read as their own.
    const alike = (size: number, index: number, at: number): string => {
      const id = Buffer.alloc(size, 0xa5);
      id[at === 0 ? 0 : size - 3] = index % 20;
      id[size - 1] = Math.floor(index / 20);
      return id.toString('hex');
    };
    const spans: Array<{ traceId: string; spanId: string; parentSpanId: string }> = [];
    for (let round = 0; round < 2; round++) {
      for (let index = 0; index < 300; index++) {
        for (const at of [0, 1]) {
          spans.push({
            traceId: alike(16, index, at),
            spanId: alike(8, index + round, at),
            parentSpanId: alike(8, index + 1 - at, 1 - at),
          });
        }
      }
    }
    const decoded = decodeProtobufTraceRequest(
      request(
        ...spans.map(({ traceId, spanId, parentSpanId }) =>
          span(
            bytes(1, Buffer.from(traceId, 'hex')),
            bytes(2, Buffer.from(spanId, 'hex')),
            bytes(4, Buffer.from(parentSpanId, 'hex')),
          ),
        ),
      ),
    );
    expect(decoded.map(({ traceId, spanId, parentSpanId }) => ({ traceId, spanId, parentSpanId }))).toEqual(
      spans,
    );
  });

  it('keeps trace ids apart from span ids, and ids of one request from the next', () => {
    // A trace id that repeats a span id twice falls in that span id's slot, and so does the same
    // place in the next request, bytes unseen there.
    const spanId = 'c1c2c3c4c5c6c7c8';
    const ids = (traceId: string, parent: string) =>
      span(
        bytes(1, Buffer.from(traceId, 'hex')),
        bytes(2, Buffer.from(spanId, 'hex')),
        bytes(4, Buffer.from(parent, 'hex')),
      );
    const [first] = decodeProtobufTraceRequest(request(ids(spanId + spanId, spanId)));
    const [second] = decodeProtobufTraceRequest(
      request(ids(`d1d2d3d4d5d6d7d8${spanId}`, 'e1e2e3e4c5c6c7c8')),
    );
    expect(first).toMatchObject({ traceId: spanId + spanId, spanId, parentSpanId: spanId });
    expect(second).toMatchObject({
      traceId: `d1d2d3d4d5d6d7d8${spanId}`,
      spanId,
      parentSpanId: 'e1e2e3e4c5c6c7c8',
    });
  });

  it('reads fields in any order: resource after its spans, scope after its spans, value before key', () => {
    const body = message(
      1,
      message(
        2,
        message(2, span(message(9, message(2, uint(3, 7)), string(1, 'retries')))),
        message(1, string(2, '2.0.0'), string(1, 'late-scope')),
      ),
      message(
        1,
        keyValue(1, 'service.version', string(1, '9.9')),
        keyValue(1, 'service.name', string(1, 'late')),
      ),
    );
    const [record] = decodeProtobufTraceRequest(body);
    expect(record).toMatchObject({
      attributes: { retries: 7 },
      scopeName: 'late-scope',
      scopeVersion: '2.0.0',
      resource: { serviceName: 'late', serviceVersion: '9.9' },
    });
  });

  it('merges repeated resource fields and keeps the last value of a repeated key', () => {
    const body = message(
      1,
      message(1, keyValue(1, 'service.name', string(1, 'first'))),
      message(2, message(2, span(keyValue(9, 'k', string(1, 'old')), keyValue(9, 'k', string(1, 'new'))))),
      message(1, keyValue(1, 'service.name', string(1, 'second')), keyValue(1, 'region', string(1, 'eu'))),
    );
    const [record] = decodeProtobufTraceRequest(body);
    expect(record?.resource).toEqual({
      serviceName: 'second',
      attributes: { 'service.name': 'second', region: 'eu' },
    });
    expect(record?.attributes).toEqual({ k: 'new' });
  });

  it('skips unknown fields of every wire type at every level', () => {
    const unknown = concat(uint(90, 5), fixed64(91, 1n), string(92, 'future'), fixed32(93, 9));
    const plain = decodeProtobufTraceRequest(request(span(keyValue(9, 'a', uint(3, 1)))));
    const withUnknown = decodeProtobufTraceRequest(
      concat(
        unknown,
        message(
          1,
          unknown,
          message(1, unknown, keyValue(1, 'service.name', string(1, 'shop'))),
          message(
            2,
            unknown,
            message(1, unknown, string(1, 'scope'), string(2, '1.0.0')),
            message(2, span(unknown, message(9, unknown, string(1, 'a'), message(2, unknown, uint(3, 1))))),
          ),
        ),
      ),
    );
    expect(withUnknown).toEqual(plain);
  });

  it('skips the fields it does not keep: trace_state, flags, dropped counts, schema urls', () => {
    const record = decodeOne(
      string(3, 'vendor=x'),
      fixed32(16, 0x301),
      uint(10, 2),
      uint(12, 1),
      uint(14, 3),
    );
    expect(record).toMatchObject({ name: 'GET /', kind: SpanKind.UNSPECIFIED, attributes: {} });
  });

  it('decodes int64 extremes, doubles and bools', () => {
    const { attributes } = decodeOne(
      keyValue(9, 'negative', uint(3, -1)),
      keyValue(9, 'min', uint(3, -(2n ** 63n))),
      keyValue(9, 'max', uint(3, 2n ** 63n - 1n)),
      keyValue(9, 'nan', double(4, Number.NaN)),
      keyValue(9, 'infinity', double(4, Number.POSITIVE_INFINITY)),
      keyValue(9, 'true-ish', uint(2, 2)),
      keyValue(9, 'false', uint(2, 0)),
    );
    expect(attributes).toEqual({
      negative: -1,
      min: -(2 ** 63),
      max: 2 ** 63,
      nan: Number.NaN,
      infinity: Number.POSITIVE_INFINITY,
      'true-ish': true,
      false: false,
    });
  });

  it('stores a __proto__ key as an own attribute without touching the prototype', () => {
    const { attributes } = decodeOne(
      keyValue(9, '__proto__', message(6, keyValue(1, 'polluted', uint(2, 1)))),
    );
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
    expect(Object.hasOwn(attributes, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(attributes, '__proto__')?.value).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('maps span kinds and status codes, reading unknown enum values as unspecified', () => {
    expect(decodeOne(uint(6, 2)).kind).toBe(SpanKind.SERVER);
    expect(decodeOne(uint(6, 5)).kind).toBe(SpanKind.CONSUMER);
    expect(decodeOne(uint(6, 6)).kind).toBe(SpanKind.UNSPECIFIED);
    expect(decodeOne(uint(6, -1)).kind).toBe(SpanKind.UNSPECIFIED);
    // Wider than int32: the low bits alone would read as SERVER.
    expect(decodeOne(uint(6, 2n ** 32n + 2n)).kind).toBe(SpanKind.UNSPECIFIED);
    expect(decodeOne(message(15, string(2, 'boom'), uint(3, 2)))).toMatchObject({
      statusCode: StatusCode.ERROR,
      statusMessage: 'boom',
    });
    expect(decodeOne(message(15, uint(3, 9))).statusCode).toBe(StatusCode.UNSET);
  });

  it('gives each span of a request its own status, events and links, none carried to the next span', () => {
    const failed = span(
      message(15, string(2, 'boom'), uint(3, 2)),
      message(11, fixed64(1, 1_700_000_000_100_000_000n), string(2, 'exception')),
      message(13, bytes(1, Buffer.from(TRACE_ID, 'hex')), bytes(2, Buffer.from(PARENT_SPAN_ID, 'hex'))),
    );
    const ok = span(message(15, uint(3, 1)));
    const decoded = decodeProtobufTraceRequest(request(failed, span(), ok, failed));
    expect(
      decoded.map(({ statusCode, statusMessage, events, links }) => [
        statusCode,
        statusMessage,
        events.map((event) => event.name),
        links.map((link) => link.spanId),
      ]),
    ).toEqual([
      [StatusCode.ERROR, 'boom', ['exception'], [PARENT_SPAN_ID]],
      [StatusCode.UNSET, '', [], []],
      [StatusCode.OK, '', [], []],
      [StatusCode.ERROR, 'boom', ['exception'], [PARENT_SPAN_ID]],
    ]);
    // Each span's lists are its own.
    expect(decoded[0]?.events).not.toBe(decoded[3]?.events);
    expect(decoded[0]?.links).not.toBe(decoded[3]?.links);
  });

  it('turns fixed64 nanoseconds into fractional milliseconds, absurd values included', () => {
    expect(decodeOne(fixed64(7, 1_700_000_000_123_456_789n)).startTimeMs).toBeCloseTo(
      1_700_000_000_123 + 0.456_789,
      3,
    );
    expect(decodeOne(fixed64(7, 1n)).startTimeMs).toBe(0.000_001);
    expect(decodeOne(fixed64(7, 0n)).startTimeMs).toBe(0);
    const farFuture = decodeOne(fixed64(8, 2n ** 64n - 1n)).endTimeMs;
    expect(farFuture).toBeCloseTo(18_446_744_073_709 + 0.551_615, 1);
    const backwards = decodeOne(
      fixed64(7, 2_000_000_000_000_000_000n),
      fixed64(8, 1_000_000_000_000_000_000n),
    );
    expect(backwards).toMatchObject({ startTimeMs: 2_000_000_000_000, endTimeMs: 1_000_000_000_000 });
  });

  it('accepts a 1 MB attribute value, ASCII or not', () => {
    const ascii = 'x'.repeat(1_000_000);
    const accented = 'é'.repeat(500_000);
    const { attributes } = decodeOne(
      keyValue(9, 'ascii', string(1, ascii)),
      keyValue(9, 'accented', string(1, accented)),
    );
    expect(attributes.ascii).toBe(ascii);
    expect(attributes.accented).toBe(accented);
  });

  it(`accepts AnyValue nesting up to ${MAX_ANY_VALUE_DEPTH} levels and refuses deeper without overflowing the stack`, () => {
    const nested = (levels: number): Uint8Array => {
      // Built inside out as prefixes, so 100k levels cost linear time.
      const leaf = string(1, 'leaf');
      const prefixes: Uint8Array[] = [];
      let innerLength = leaf.length;
      for (let level = 1; level < levels; level++) {
        const values = concat(tag(1, LEN), varint(innerLength));
        const arrayValue = concat(tag(5, LEN), varint(values.length + innerLength), values);
        prefixes.push(arrayValue);
        innerLength += arrayValue.length;
      }
      return concat(...prefixes.reverse(), leaf);
    };
    const { attributes } = decodeOne(keyValue(9, 'deep', nested(MAX_ANY_VALUE_DEPTH)));
    let value = attributes.deep;
    for (let level = 1; level < MAX_ANY_VALUE_DEPTH; level++) value = (value as unknown[])[0] as typeof value;
    expect(value).toBe('leaf');

    expect(decodeError(request(span(keyValue(9, 'deep', nested(MAX_ANY_VALUE_DEPTH + 1))))).message).toMatch(
      /^AnyValue nested deeper than 64 levels at byte \d+$/,
    );
    expect(decodeError(request(span(keyValue(9, 'bomb', nested(100_000))))).message).toMatch(/nested deeper/);
  });
});

describe('decodeProtobufTraceRequest on malformed bytes', () => {
  it.each([
    ['Span.kind', () => request(span(string(6, 'server')))],
    ['Span.name', () => request(span(uint(5, 1)))],
    ['Span.start_time_unix_nano', () => request(span(uint(7, 1)))],
    ['Span.attributes', () => request(span(uint(9, 1)))],
    ['Status.code', () => request(span(message(15, string(3, 'error'))))],
    ['AnyValue.double_value', () => request(span(keyValue(9, 'd', uint(4, 1))))],
    ['AnyValue.bool_value', () => request(span(keyValue(9, 'b', string(2, 'yes'))))],
    ['ExportTraceServiceRequest.resource_spans', () => uint(1, 1)],
  ])('names the field with a wrong wire type: %s', (field, build) => {
    expect(decodeError(build()).message).toMatch(
      new RegExp(`^wrong wire type \\d for ${field} at byte \\d+$`),
    );
  });

  it.each([
    ['Span.name', () => request(span(bytes(5, [0x47, 0xff, 0x54])))],
    ['KeyValue.key', () => request(span(message(9, bytes(1, [0xc3, 0x28]), message(2, uint(3, 1)))))],
    ['AnyValue.string_value', () => request(span(keyValue(9, 'k', bytes(1, [0xed, 0xa0, 0x80]))))],
    [
      'InstrumentationScope.name',
      () => message(1, message(2, message(1, bytes(1, [0xe2, 0x82])), message(2, span()))),
    ],
    ['Status.message', () => request(span(message(15, bytes(2, [0x80]))))],
  ])('names the field holding invalid UTF-8: %s', (field, build) => {
    expect(decodeError(build()).message).toMatch(new RegExp(`^invalid UTF-8 in ${field} at byte \\d+$`));
  });

  it('reads every short string as its own, seen once, twice or often, however many share a slot', () => {
    // 20,000 values of one length over 8,192 slots: a string is kept from its second sighting on.
    const values = Array.from({ length: 20_000 }, (_, i) => `value-${String(i).padStart(6, '0')}`);
    const sightings = [...values, ...values, ...values.slice(0, 100), ...values.slice(0, 100)];
    const decoded = decodeProtobufTraceRequest(
      request(...sightings.map((value) => span(keyValue(9, 'key', string(1, value))))),
    );
    const wrong = decoded.filter((record, i) => record.attributes.key !== sightings[i]);
    expect(wrong).toEqual([]);
  });

  it('keeps valid multi-byte UTF-8 in short strings', () => {
    expect(decodeOne(string(5, 'é 🚀')).name).toBe('é 🚀');
  });

  it('finds a byte above ASCII wherever it sits in a short string: in a group of four or in the tail', () => {
    for (let length = 1; length <= 9; length++) {
      for (let at = 0; at < length; at++) {
        const text = `${'a'.repeat(at)}é${'b'.repeat(length - at - 1)}`;
        expect(decodeOne(string(5, text)).name).toBe(text);
        const invalid = Array.from({ length }, (_, i) => (i === at ? 0x80 : 0x61));
        expect(decodeError(request(span(bytes(5, invalid)))).message).toMatch(/^invalid UTF-8 in Span.name/);
      }
    }
  });

  it.each([
    ['Span.trace_id must be 16 bytes, got 15', () => request(span(bytes(1, new Array(15).fill(1))))],
    ['Span.trace_id must be 16 bytes, got 0', () => request(span(bytes(1, [])))],
    ['Span.span_id must be 8 bytes, got 9', () => request(span(bytes(2, new Array(9).fill(1))))],
    ['Span.parent_span_id must be 8 bytes or empty, got 4', () => request(span(bytes(4, [1, 2, 3, 4])))],
    [
      'Span.Link.span_id must be 8 bytes, got 16',
      () => request(span(message(13, bytes(1, new Array(16).fill(1)), bytes(2, new Array(16).fill(2))))),
    ],
  ])('refuses a wrong id length: %s', (reason, build) => {
    expect(decodeError(build()).message).toMatch(new RegExp(`^${reason} at byte \\d+$`));
  });

  it('refuses spans and links without ids', () => {
    expect(decodeError(request(string(5, 'no ids'))).message).toMatch(/^missing Span.trace_id/);
    expect(decodeError(request(bytes(1, new Array(16).fill(1)))).message).toMatch(/^missing Span.span_id/);
    expect(decodeError(request(span(message(13, bytes(2, new Array(8).fill(2)))))).message).toMatch(
      /^missing Span.Link.trace_id/,
    );
  });

  it('refuses broken framing with the byte offset', () => {
    expect(decodeError(Uint8Array.of(0x0a, 0x05, 0x0a)).message).toBe(
      'truncated ExportTraceServiceRequest.resource_spans at byte 1: length exceeds the enclosing message',
    );
    expect(decodeError(Uint8Array.of(0x0a, 0x80)).message).toBe('truncated varint at byte 1');
    expect(decodeError(concat(tag(1, LEN), new Uint8Array(11).fill(0x80), Uint8Array.of(0))).message).toBe(
      'varint longer than 10 bytes at byte 1',
    );
    expect(decodeError(Uint8Array.of(0x00, 0x00)).message).toBe('invalid field tag at byte 0');
    // Field 50's tag takes two bytes; offsets point at the field's value.
    expect(decodeError(tag(50, 3)).message).toBe('unsupported wire type 3 for field 50 at byte 2');
    expect(decodeError(tag(50, 7)).message).toBe('unsupported wire type 7 for field 50 at byte 2');
    expect(decodeError(concat(tag(50, I64), Uint8Array.of(1, 2, 3))).message).toBe(
      'truncated fixed64 field at byte 2',
    );
  });

  it('keeps every field inside its parent message', () => {
    // A span whose name claims more bytes than the span holds, though the request has them.
    const spanBody = concat(span(), tag(5, LEN), varint(20));
    const overrun = message(
      1,
      message(2, concat(tag(2, LEN), varint(spanBody.length), spanBody, string(99, 'x'.repeat(30)))),
    );
    expect(decodeError(overrun).message).toMatch(/^truncated Span.name at byte \d+/);
    // A varint that would continue past the end of its message.
    const straddle = concat(
      message(1, message(2, message(2, span(tag(6, VARINT), Uint8Array.of(0x80))))),
      Uint8Array.of(0x01),
    );
    expect(decodeError(straddle).message).toMatch(/^truncated varint at byte \d+$/);
    expect(decodeError(request(span(concat(tag(7, I64), Uint8Array.of(1, 2))))).message).toMatch(
      /^truncated Span.start_time_unix_nano at byte \d+$/,
    );
  });
});
