import { describe, expect, it } from 'vitest';
import { implausibleSpanTimes, MAX_SPAN_DURATION_MS } from '../../../collector/receive/span-times.js';
import type { SpanRecord } from '../../../model/index.js';

const NOW = Date.UTC(2026, 5, 1, 12);

function span(name: string, startTimeMs: number, endTimeMs: number): SpanRecord {
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    parentSpanId: '',
    name,
    kind: 3,
    startTimeMs,
    endTimeMs,
    attributes: {},
    statusCode: 0,
    statusMessage: '',
    events: [],
    links: [],
    resource: { serviceName: 'shop', attributes: {} },
    scopeName: 'test',
    scopeVersion: '1',
  };
}

describe('implausibleSpanTimes', () => {
  it('accepts real spans, instant ones and ones lasting just under a day', () => {
    expect(
      implausibleSpanTimes([
        span('GET /orders', NOW, NOW + 12.5),
        span('instant', NOW, NOW),
        span('nightly job', NOW - MAX_SPAN_DURATION_MS, NOW),
      ]),
    ).toBeUndefined();
  });

  it.each([
    [
      'an unset start',
      span('SELECT', 0, NOW),
      'span 1 ("SELECT"): start time 0 (unset) is not between 2000 and 2100',
    ],
    [
      'a 1970 start',
      span('SELECT', 1, NOW),
      'start time 1970-01-01T00:00:00.001Z is not between 2000 and 2100',
    ],
    ['an end in 2554', span('SELECT', NOW, 18_446_744_073_709), 'end time 2554-07-21T23:34:33.709Z is not'],
    ['an end before the start', span('SELECT', NOW, NOW - 1), 'span 1 ("SELECT"): it ends before it starts'],
    ['over a day', span('SELECT', NOW - MAX_SPAN_DURATION_MS - 1, NOW), 'it lasts more than 24 hours'],
    ['a NaN', span('SELECT', Number.NaN, NOW), 'start time'],
  ])('names the first span with %s', (_case, bad, reason) => {
    expect(implausibleSpanTimes([span('GET /orders', NOW, NOW + 5), bad, span('x', 0, 0)])).toContain(reason);
  });
});
