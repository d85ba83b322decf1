import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseRuntimeReport, runtimeRoutes } from '../../../collector/receive/runtime-http.js';
import type { RuntimeSample } from '../../../model/index.js';

const JSON_TYPE = 'application/json';

function sample(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    service: 'api',
    serviceVersion: '2.1.0',
    instanceId: 'host-a:4242',
    timeMs: 1_700_000_000_000,
    intervalMs: 10_000,
    eventLoopLag: { minMs: 9.8, meanMs: 10.3, p50Ms: 10.2, p90Ms: 10.6, p99Ms: 12, maxMs: 14 },
    gc: { count: 3, pauseMs: 4.5, maxPauseMs: 2, byKind: { minor: { count: 3, pauseMs: 4.5 } } },
    memory: { rssBytes: 1e8, heapUsedBytes: 4e7, heapTotalBytes: 6e7, externalBytes: 1e6 },
    cpu: { userMs: 120, systemMs: 15 },
    activeHandles: 7,
    ...fields,
  };
}

function receiver(options: { maxBodyBytes?: number; maxSamples?: number } = {}) {
  const received: RuntimeSample[][] = [];
  const rejected: Array<[string, number]> = [];
  const app = runtimeRoutes({
    ...options,
    onSamples: (samples) => received.push(samples),
    onRejected: (reason, status) => rejected.push([reason, status]),
  });
  const post = (body: string | Uint8Array, headers: Record<string, string> = { 'content-type': JSON_TYPE }) =>
    app.request('/v1/runtime', { method: 'POST', headers, body });
  return { app, received, rejected, post };
}

async function errorOf(response: Response): Promise<string> {
  expect(response.headers.get('content-type')).toContain(JSON_TYPE);
  return ((await response.json()) as { error: string }).error;
}

describe('POST /v1/runtime', () => {
  it('accepts valid samples and hands over copies with only the known fields', async () => {
    const { post, received } = receiver();
    const response = await post(
      JSON.stringify({ samples: [sample({ extra: 'from a newer agent' }), sample()] }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 2 });
    expect(received).toHaveLength(1);
    expect(received[0]?.[0]).toEqual({ ...sample(), extra: undefined });
    expect(received[0]?.[0]).not.toHaveProperty('extra');
  });

  it('accepts a gzip body and an empty list, which reaches nobody', async () => {
    const { post, received } = receiver();
    const gzipped = await post(gzipSync(JSON.stringify({ samples: [sample()] })), {
      'content-type': 'application/json; charset=utf-8',
      'content-encoding': 'gzip',
    });
    expect(await gzipped.json()).toEqual({ accepted: 1 });
    expect(await (await post('{"samples":[]}')).json()).toEqual({ accepted: 0 });
    expect(received).toHaveLength(1);
  });

  it('refuses a whole report for one bad field, naming it on one line, and keeps nothing of it', async () => {
    const { post, received, rejected } = receiver();
    const cases: Array<[unknown, string]> = [
      [{ samples: [sample(), sample({ service: '' })] }, 'samples[1].service: expected a non-empty string'],
      [
        { samples: [sample({ timeMs: 'yesterday' })] },
        'samples[0].timeMs: expected a number > 0, got "yesterday"',
      ],
      [
        { samples: [sample({ eventLoopLag: { ...(sample().eventLoopLag as object), p99Ms: -1 } })] },
        'samples[0].eventLoopLag.p99Ms: expected a number ≥ 0, got -1',
      ],
      [
        { samples: [sample({ gc: { count: 1, pauseMs: 1, maxPauseMs: 1 } })] },
        'samples[0].gc.byKind: expected an object, got nothing',
      ],
      [{ samples: [sample({ cpu: [1, 2] })] }, 'samples[0].cpu: expected an object, got [1,2]'],
      [{ samples: 'none' }, 'body must be a JSON object with a "samples" array'],
      [[sample()], 'body must be a JSON object with a "samples" array'],
    ];
    for (const [body, reason] of cases) {
      const response = await post(JSON.stringify(body));
      expect(response.status).toBe(400);
      const error = await errorOf(response);
      expect(error).toContain(reason);
      expect(error).not.toContain('\n');
    }
    const broken = await post('{"samples": [');
    expect(broken.status).toBe(400);
    expect(await errorOf(broken)).toMatch(/^body is not valid JSON: /);
    expect(received).toEqual([]);
    expect(rejected).toHaveLength(cases.length + 1);
  });

  it('refuses a GC kind named __proto__ instead of letting it reach an object', () => {
    const text = JSON.stringify({ samples: [sample()] }).replace('"minor"', '"__proto__"');
    expect(() => parseRuntimeReport(text)).toThrow(
      'samples[0].gc.byKind: expected kind names of a GC, got "__proto__"',
    );
  });

  it('answers 415 to other content types and encodings, 405 to other methods', async () => {
    const { post, app } = receiver();
    expect((await post(JSON.stringify({ samples: [] }), { 'content-type': 'text/plain' })).status).toBe(415);
    const encoded = await post('x', { 'content-type': JSON_TYPE, 'content-encoding': 'br' });
    expect(encoded.status).toBe(415);
    expect(await errorOf(encoded)).toBe('unsupported content encoding: send gzip, deflate or identity');
    const get = await app.request('/v1/runtime');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('answers 413 naming the limit to a body too large, compressed or decompressed, and to too many samples', async () => {
    const { post } = receiver({ maxBodyBytes: 2_000, maxSamples: 3 });
    const large = JSON.stringify({
      samples: Array.from({ length: 3 }, () => sample({ instanceId: 'h'.repeat(250) })),
    });
    expect(large.length).toBeGreaterThan(2_000);
    const direct = await post(large);
    expect(direct.status).toBe(413);
    expect(await errorOf(direct)).toBe('request body exceeds the limit of 2000 bytes');
    const zipped = gzipSync(large);
    expect(zipped.length).toBeLessThan(2_000);
    const expanded = await post(zipped, { 'content-type': JSON_TYPE, 'content-encoding': 'gzip' });
    expect(expanded.status).toBe(413);
    expect(await errorOf(expanded)).toBe('gzip-decoded request body exceeds the limit of 2000 bytes');
    expect(() =>
      parseRuntimeReport(JSON.stringify({ samples: [sample(), sample(), sample(), sample()] }), 3),
    ).toThrow('too many samples: 4, the limit is 3');
  });

  it('answers 500 with the reason when the receiver of the samples fails, and keeps serving', async () => {
    let fail = true;
    const app = runtimeRoutes({
      onSamples: () => {
        if (fail) throw new Error('pipeline closed\nstack');
      },
    });
    const post = () =>
      app.request('/v1/runtime', {
        method: 'POST',
        headers: { 'content-type': JSON_TYPE },
        body: JSON.stringify({ samples: [sample()] }),
      });
    const failed = await post();
    expect(failed.status).toBe(500);
    expect(await errorOf(failed)).toBe('samples could not be accepted: pipeline closed');
    fail = false;
    expect((await post()).status).toBe(200);
  });

  it('refuses a limit that is not a byte count', () => {
    expect(() => runtimeRoutes({ onSamples: () => {}, maxBodyBytes: 0 })).toThrow(RangeError);
  });
});
