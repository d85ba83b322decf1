/**
 * A spliced JSON body is gzip'd segment by segment: its gzip is one stream that inflates to its
 * JSON, however the parts fall into segments, and the next body takes over the segments whose
 * parts did not change, compressing only the others.
 */
import { randomBytes } from 'node:crypto';
import { crc32, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  crc32Combine,
  SplicedJson,
  type SplicedPart,
  tableCrc32,
} from '../../../collector/api/spliced-json.js';

const utf8 = new TextEncoder();
const OPEN = utf8.encode('{"items":[');
const CLOSE = utf8.encode(']}');

function part(value: unknown, endsSegment = false): SplicedPart {
  return { json: utf8.encode(JSON.stringify(value)), endsSegment };
}

async function inflated(body: SplicedJson): Promise<string> {
  return gunzipSync(await body.gzipped()).toString();
}

describe('SplicedJson', () => {
  it('joins its parts, and its gzip inflates to the same JSON, in one segment or many', async () => {
    const values = Array.from({ length: 40 }, (_, i) => ({ id: i, text: `item ${i} `.repeat(i) }));
    const expected = JSON.stringify({ items: values });
    for (const every of [1, 3, 7, 100]) {
      const body = new SplicedJson(
        OPEN,
        values.map((value, i) => part(value, i % every === 0)),
        CLOSE,
      );
      expect(new TextDecoder().decode(body.json)).toBe(expected);
      expect(await inflated(body)).toBe(expected);
      // A segment ends after each marked part, and after the last.
      const marked = values.filter((_, i) => i % every === 0 && i < values.length - 1).length;
      expect(body.segments).toHaveLength(marked + 1);
    }
  });

  it('answers an empty list', async () => {
    const body = new SplicedJson(OPEN, [], CLOSE);
    expect(new TextDecoder().decode(body.json)).toBe('{"items":[]}');
    expect(await inflated(body)).toBe('{"items":[]}');
  });

  it('takes over the segments whose parts are unchanged, compressing only the changed one', async () => {
    const parts = Array.from({ length: 12 }, (_, i) => part({ id: i }, i % 4 === 3));
    const before = new SplicedJson(OPEN, parts, CLOSE);
    await before.gzipped();
    expect(before.segments).toHaveLength(3);

    const changed = [...parts];
    changed[5] = part({ id: 5, changed: true }, false);
    const after = new SplicedJson(OPEN, changed, CLOSE, before.segments);
    expect(after.segments[0]).toBe(before.segments[0]);
    expect(after.segments[1]).not.toBe(before.segments[1]);
    expect(after.segments[2]).toBe(before.segments[2]);
    const values = JSON.parse(new TextDecoder().decode(after.json)).items;
    expect(values[5]).toEqual({ id: 5, changed: true });
    expect(await inflated(after)).toBe(new TextDecoder().decode(after.json));
  });

  it('does not take over a segment that moved to the start or the end of the list', async () => {
    const parts = Array.from({ length: 6 }, (_, i) => part({ id: i }, i % 2 === 1));
    const before = new SplicedJson(OPEN, parts, CLOSE);
    await before.gzipped();
    // The first segment gone: the second now opens the list, the comma before it goes.
    const after = new SplicedJson(OPEN, parts.slice(2), CLOSE, before.segments);
    expect(after.segments[0]).not.toBe(before.segments[1]);
    expect(after.segments[1]).toBe(before.segments[2]);
    expect(await inflated(after)).toBe(JSON.stringify({ items: [2, 3, 4, 5].map((id) => ({ id })) }));
    // The last segment gone: the one before it now closes the list.
    const shorter = new SplicedJson(OPEN, parts.slice(0, 4), CLOSE, before.segments);
    expect(shorter.segments[0]).toBe(before.segments[0]);
    expect(shorter.segments[1]).not.toBe(before.segments[1]);
    expect(await inflated(shorter)).toBe(JSON.stringify({ items: [0, 1, 2, 3].map((id) => ({ id })) }));
  });
});

describe('CRC-32', () => {
  it('combines two runs as zlib computes their concatenation, and the table CRC agrees with zlib', () => {
    for (const [a, b] of [
      [0, 0],
      [1, 1],
      [10, 1_000],
      [70_000, 3],
      [5, 300_000],
    ] as const) {
      const first = randomBytes(a);
      const second = randomBytes(b);
      expect(crc32Combine(crc32(first), crc32(second), b)).toBe(crc32(Buffer.concat([first, second])));
      expect(tableCrc32(first)).toBe(crc32(first));
    }
  });
});
