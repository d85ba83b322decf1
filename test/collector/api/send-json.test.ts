/**
 * A JSON answer made per request (a finding's detail) is gzip'd in one zlib call for a client
 * that accepts it, and sent as it is to one that does not, or when it is too small to gain.
 */
import { gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { sendJson } from '../../../collector/api/cached-body.js';

const big = { series: Array.from({ length: 200 }, (_, i) => ({ t: i, count: i * 3, note: 'ok ×' })) };
const app = new Hono().get('/big', (c) => sendJson(c, big)).get('/small', (c) => sendJson(c, { ok: true }));

describe('sendJson', () => {
  it('gzips for a client that accepts it, to the same JSON it sends plain', async () => {
    const plain = await app.request('/big');
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(plain.headers.get('content-type')).toBe('application/json');
    expect(plain.headers.get('vary')).toBe('accept-encoding');
    const text = await plain.text();
    expect(JSON.parse(text)).toEqual(big);

    const zipped = await app.request('/big', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    const bytes = Buffer.from(await zipped.arrayBuffer());
    expect(bytes.length).toBeLessThan(Buffer.byteLength(text) / 4);
    expect(gunzipSync(bytes).toString()).toBe(text);

    const refused = await app.request('/big', { headers: { 'accept-encoding': 'gzip;q=0' } });
    expect(refused.headers.get('content-encoding')).toBeNull();
    expect(await refused.text()).toBe(text);
  });

  it('sends a body under 1 KiB as it is', async () => {
    const small = await app.request('/small', { headers: { 'accept-encoding': 'gzip' } });
    expect(small.headers.get('content-encoding')).toBeNull();
    expect(await small.json()).toEqual({ ok: true });
  });
});
