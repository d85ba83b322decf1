import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { MAX_ANY_VALUE_DEPTH } from '../../../collector/receive/decoding.js';
import { decodeJsonTraceRequest, OtlpDecodeError } from '../../../collector/receive/otlp-json.js';
import { decodeProtobufTraceRequest } from '../../../collector/receive/otlp-protobuf.js';
import { SpanKind, StatusCode } from '../../../model/index.js';
import { bySpanId, expectedRecord, recordSdkSpans } from './sdk-spans.js';

const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';

/** A request with one span; `span` fields override the minimal valid ones. */
function requestWith(span: Record<string, unknown>, resource: unknown = { attributes: [] }): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource,
        scopeSpans: [
          {
            scope: { name: 'scope', version: '1' },
            spans: [{ traceId: TRACE_ID, spanId: SPAN_ID, name: 'op', ...span }],
          },
        ],
      },
    ],
  });
}

function decodeOne(span: Record<string, unknown>) {
  const [record, ...rest] = decodeJsonTraceRequest(requestWith(span));
  expect(rest).toEqual([]);
  if (!record) throw new Error('no span decoded');
  return record;
}

function decodeError(body: string | Uint8Array): OtlpDecodeError {
  try {
    decodeJsonTraceRequest(body);
  } catch (error) {
    if (error instanceof OtlpDecodeError) return error;
    throw error;
  }
  throw new Error('expected the body to be rejected');
}

function attribute(value: unknown) {
  return decodeOne({ attributes: [{ key: 'k', value }] }).attributes.k;
}

describe('decodeJsonTraceRequest on SDK output', () => {
  const sdkSpans = recordSdkSpans();
  const body = JsonTraceSerializer.serializeRequest(sdkSpans) as Uint8Array;

  it('reproduces every field of every span', () => {
    const decoded = decodeJsonTraceRequest(body);
    expect(decoded).toHaveLength(sdkSpans.length);
    const decodedById = bySpanId(decoded);
    for (const sdkSpan of sdkSpans) {
      expect(decodedById.get(sdkSpan.spanContext().spanId)).toEqual(expectedRecord(sdkSpan));
    }
  });

  it('yields the same records as the protobuf decoder, from bytes or from a string', () => {
    const fromProtobuf = decodeProtobufTraceRequest(
      ProtobufTraceSerializer.serializeRequest(sdkSpans) as Uint8Array,
    );
    expect(decodeJsonTraceRequest(body)).toEqual(fromProtobuf);
    expect(decodeJsonTraceRequest(Buffer.from(body).toString('utf8'))).toEqual(fromProtobuf);
  });

  it('shares one ResourceInfo among the spans of a resource', () => {
    const decoded = decodeJsonTraceRequest(body);
    const checkout = decoded.filter((record) => record.resource.serviceName === 'checkout');
    expect(checkout.length).toBeGreaterThan(1);
    for (const record of checkout) expect(record.resource).toBe(checkout[0]?.resource);
    expect(decoded.find((record) => record.resource.serviceName === 'unknown_service')?.resource).toEqual({
      serviceName: 'unknown_service',
      attributes: { 'host.name': 'worker-1' },
    });
  });
});

describe('decodeJsonTraceRequest mapping', () => {
  it('decodes an empty request to no spans', () => {
    expect(decodeJsonTraceRequest('{}')).toEqual([]);
    expect(decodeJsonTraceRequest('{"resourceSpans":[]}')).toEqual([]);
  });

  it('accepts snake_case keys as the proto names them', () => {
    const body = JSON.stringify({
      resource_spans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'snake' } }] },
          scope_spans: [
            {
              scope: { name: 's' },
              spans: [
                {
                  trace_id: TRACE_ID,
                  span_id: SPAN_ID,
                  parent_span_id: 'AAAAAAAAAAAAAAAA',
                  start_time_unix_nano: '1700000000000000000',
                  end_time_unix_nano: 1_700_000_000_500_000_000,
                  attributes: [
                    { key: 'i', value: { int_value: '7' } },
                    { key: 'd', value: { double_value: 1.5 } },
                    { key: 'b', value: { bool_value: true } },
                    { key: 'a', value: { array_value: { values: [{ string_value: 'x' }] } } },
                    {
                      key: 'm',
                      value: { kvlist_value: { values: [{ key: 'n', value: { int_value: 1 } }] } },
                    },
                    { key: 'y', value: { bytes_value: 'AQI=' } },
                  ],
                  events: [{ time_unix_nano: '1700000000250000000', name: 'e' }],
                  links: [{ trace_id: TRACE_ID, span_id: SPAN_ID }],
                },
              ],
            },
          ],
        },
      ],
    });
    expect(decodeJsonTraceRequest(body)).toEqual([
      expect.objectContaining({
        traceId: TRACE_ID,
        spanId: SPAN_ID,
        parentSpanId: 'aaaaaaaaaaaaaaaa',
        startTimeMs: 1_700_000_000_000,
        endTimeMs: 1_700_000_000_500,
        attributes: { i: 7, d: 1.5, b: true, a: ['x'], m: { n: 1 }, y: '0102' },
        events: [{ name: 'e', timeMs: 1_700_000_000_250, attributes: {} }],
        links: [{ traceId: TRACE_ID, spanId: SPAN_ID, attributes: {} }],
        resource: { serviceName: 'snake', attributes: { 'service.name': 'snake' } },
        scopeName: 's',
        scopeVersion: '',
      }),
    ]);
  });

  it('lowercases hex ids given in any case and reads an empty parent as a root', () => {
    const record = decodeOne({
      traceId: TRACE_ID.toUpperCase(),
      spanId: SPAN_ID.toUpperCase(),
      parentSpanId: '',
    });
    expect(record).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, parentSpanId: '' });
  });

  it('reads int64 values given as strings or numbers', () => {
    expect(attribute({ intValue: '-9007199254740991' })).toBe(-9_007_199_254_740_991);
    expect(attribute({ intValue: 42 })).toBe(42);
    expect(attribute({ intValue: '9223372036854775807' })).toBe(2 ** 63);
  });

  it('reads doubles, including the special values proto JSON spells as strings', () => {
    expect(attribute({ doubleValue: 0.5 })).toBe(0.5);
    expect(attribute({ doubleValue: '2.5' })).toBe(2.5);
    expect(attribute({ doubleValue: 'NaN' })).toBeNaN();
    expect(attribute({ doubleValue: 'Infinity' })).toBe(Number.POSITIVE_INFINITY);
    expect(attribute({ doubleValue: '-Infinity' })).toBe(Number.NEGATIVE_INFINITY);
  });

  it('turns base64 bytes, standard or URL-safe, into hex', () => {
    expect(attribute({ bytesValue: 'AH+A/w==' })).toBe('007f80ff');
    expect(attribute({ bytesValue: 'AH-A_w' })).toBe('007f80ff');
    expect(attribute({ bytesValue: '' })).toBe('');
  });

  it('reads an empty AnyValue, or null members, as null and ignores unknown keys', () => {
    expect(attribute({})).toBeNull();
    expect(attribute({ stringValue: null })).toBeNull();
    expect(attribute({ futureValue: 1 })).toBeNull();
    expect(attribute({ arrayValue: { values: [null, {}, { stringValue: 'x' }] } })).toEqual([
      null,
      null,
      'x',
    ]);
    const record = decodeOne({
      traceState: 'a=b',
      flags: 257,
      droppedAttributesCount: 3,
      someFutureField: { x: 1 },
    });
    expect(record).toMatchObject({ name: 'op', attributes: {} });
  });

  it('maps kinds and status codes, reading unknown enum values as unspecified', () => {
    expect(decodeOne({ kind: 3 }).kind).toBe(SpanKind.CLIENT);
    expect(decodeOne({ kind: 9 }).kind).toBe(SpanKind.UNSPECIFIED);
    expect(decodeOne({ status: { code: 2, message: 'boom' } })).toMatchObject({
      statusCode: StatusCode.ERROR,
      statusMessage: 'boom',
    });
    expect(decodeOne({ status: { code: -1 } }).statusCode).toBe(StatusCode.UNSET);
  });

  it('keeps sub-millisecond precision of string timestamps and handles absurd ones', () => {
    expect(decodeOne({ startTimeUnixNano: '1700000000123456789' }).startTimeMs).toBeCloseTo(
      1_700_000_000_123 + 0.456_789,
      3,
    );
    expect(decodeOne({ startTimeUnixNano: '999' }).startTimeMs).toBe(0.000_999);
    expect(decodeOne({ startTimeUnixNano: '0' }).startTimeMs).toBe(0);
    expect(decodeOne({ endTimeUnixNano: '18446744073709551615' }).endTimeMs).toBeCloseTo(
      18_446_744_073_709 + 0.551_615,
      1,
    );
    expect(decodeOne({}).startTimeMs).toBe(0);
  });

  it('stores a __proto__ key as an own attribute without touching the prototype', () => {
    const { attributes } = decodeOne({
      attributes: [
        {
          key: '__proto__',
          value: { kvlistValue: { values: [{ key: 'polluted', value: { boolValue: true } }] } },
        },
      ],
    });
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(attributes, '__proto__')?.value).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('accepts a 1 MB attribute value', () => {
    const big = 'ü'.repeat(500_000);
    expect(attribute({ stringValue: big })).toBe(big);
  });
});

describe('decodeJsonTraceRequest on bad input', () => {
  it.each([
    ['not JSON', 'resourceSpans: []', /^request body is not valid JSON/],
    ['misplaced JSON', '{"resourceSpans" []}', /^request body is not valid JSON \(at position \d+\)$/],
    ['truncated JSON', '{"resourceSpans": [', /^request body is not valid JSON/],
    ['an array', '[]', /^request body must be an object$/],
    ['a number', '42', /^request body must be an object$/],
    ['null', 'null', /^request body must be an object$/],
    ['resourceSpans not an array', '{"resourceSpans": {}}', /^resourceSpans must be an array$/],
    ['a ResourceSpans not an object', '{"resourceSpans": [1]}', /^resourceSpans\[0\] must be an object$/],
    [
      'spans not an array',
      '{"resourceSpans": [{"scopeSpans": [{"spans": "x"}]}]}',
      /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans must be an array$/,
    ],
  ])('refuses %s', (_, body, reason) => {
    expect(decodeError(body).message).toMatch(reason);
  });

  it('refuses a body that is not UTF-8', () => {
    expect(decodeError(Uint8Array.of(0x7b, 0xff, 0x7d)).message).toBe('request body is not valid UTF-8');
  });

  const span = 'resourceSpans[0].scopeSpans[0].spans[0]';
  it.each([
    ['a short trace id', { traceId: 'abc' }, `${span}.traceId must be 32 hex characters, got 3 characters`],
    [
      'a non-hex trace id',
      { traceId: 'z'.repeat(32) },
      `${span}.traceId must be 32 hex characters, got 32 characters`,
    ],
    [
      'a base64 trace id',
      { traceId: 'W47/95gDgQPSabYzgT/GDA==' },
      `${span}.traceId must be 32 hex characters, got 24 characters`,
    ],
    ['a numeric span id', { spanId: 12 }, `${span}.spanId must be 16 hex characters, got number`],
    ['a missing trace id', { traceId: undefined }, `${span}.traceId is missing`],
    [
      'a bad parent id',
      { parentSpanId: 'abcd' },
      `${span}.parentSpanId must be 16 hex characters, got 4 characters`,
    ],
    ['a kind given by name', { kind: 'SPAN_KIND_SERVER' }, `${span}.kind must be an integer`],
    [
      'a fractional timestamp',
      { startTimeUnixNano: '1.5' },
      `${span}.startTimeUnixNano must be an unsigned 64-bit integer`,
    ],
    [
      'a negative timestamp',
      { startTimeUnixNano: -1 },
      `${span}.startTimeUnixNano must be an unsigned 64-bit integer`,
    ],
    [
      'a timestamp past uint64',
      { endTimeUnixNano: '18446744073709551616' },
      `${span}.endTimeUnixNano must be an unsigned 64-bit integer`,
    ],
    ['a name that is not a string', { name: 5 }, `${span}.name must be a string`],
    ['attributes that are an object', { attributes: { k: 'v' } }, `${span}.attributes must be an array`],
    [
      'a fractional intValue',
      { attributes: [{ key: 'k', value: { intValue: '1.5' } }] },
      `${span}.attributes[0].value.intValue must be a 64-bit integer`,
    ],
    [
      'a string boolValue',
      { attributes: [{ key: 'k', value: { boolValue: 'true' } }] },
      `${span}.attributes[0].value.boolValue must be a boolean`,
    ],
    [
      'a bad doubleValue',
      { attributes: [{ key: 'k', value: { doubleValue: 'many' } }] },
      `${span}.attributes[0].value.doubleValue must be a number`,
    ],
    [
      'invalid base64',
      { attributes: [{ key: 'k', value: { bytesValue: '**' } }] },
      `${span}.attributes[0].value.bytesValue must be a base64 string`,
    ],
    [
      'a non-string key',
      { attributes: [{ key: 1, value: {} }] },
      `${span}.attributes[0].key must be a string`,
    ],
    ['a link without span id', { links: [{ traceId: TRACE_ID }] }, `${span}.links[0].spanId is missing`],
    ['an event that is a string', { events: ['boom'] }, `${span}.events[0] must be an object`],
    [
      'a status code given by name',
      { status: { code: 'STATUS_CODE_ERROR' } },
      `${span}.status.code must be an integer`,
    ],
  ])('refuses %s, naming its path', (_, fields, reason) => {
    expect(decodeError(requestWith(fields)).message).toBe(reason);
  });

  it('never echoes values from the body in its reasons', () => {
    const secret = 'password=hunter2';
    expect(decodeError(`{"resourceSpans": [${secret}]}`).message).not.toContain('hunter2');
    expect(decodeError(requestWith({ traceId: secret })).message).not.toContain('hunter2');
    expect(decodeError(`${secret}`).message).not.toContain('hunter2');
  });

  it(`accepts AnyValue nesting up to ${MAX_ANY_VALUE_DEPTH} levels and refuses deeper without overflowing the stack`, () => {
    const nested = (levels: number) => {
      // Built as text: JSON.stringify itself would recurse on a 100k-deep object.
      const open = '{"arrayValue":{"values":['.repeat(levels - 1);
      const close = ']}}'.repeat(levels - 1);
      return `${open}{"stringValue":"leaf"}${close}`;
    };
    const body = (levels: number) =>
      requestWith({ attributes: [{ key: 'deep', value: '@' }] }).replace('"@"', nested(levels));
    const [record] = decodeJsonTraceRequest(body(MAX_ANY_VALUE_DEPTH));
    expect(JSON.stringify(record?.attributes.deep)).toBe(
      `${'['.repeat(MAX_ANY_VALUE_DEPTH - 1)}"leaf"${']'.repeat(MAX_ANY_VALUE_DEPTH - 1)}`,
    );
    expect(decodeError(body(MAX_ANY_VALUE_DEPTH + 1)).message).toMatch(
      /AnyValue nested deeper than 64 levels$/,
    );
    expect(decodeError(body(100_000)).message).toMatch(/AnyValue nested deeper than 64 levels$/);
  });
});
