/**
 * Hono served by @hono/node-server, under the http instrumentation and the agent's Hono
 * instrumentation: the SERVER span carries the route Hono matched.
 */
import type { AddressInfo } from 'node:net';
import type * as HonoNodeServer from '@hono/node-server';
import type * as HonoModule from 'hono';
import type * as HonoRegExpRouter from 'hono/router/reg-exp-router';
import type * as HonoTiny from 'hono/tiny';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, type SpanRecord } from '../../../../model/index.js';
import { traceInProcess } from '../../support/in-process.js';

const tracing = traceInProcess(['http', 'hono']);
const { Hono }: typeof HonoModule = tracing.require('hono');
const { Hono: TinyHono }: typeof HonoTiny = tracing.require('hono/tiny');
const { RegExpRouter }: typeof HonoRegExpRouter = tracing.require('hono/router/reg-exp-router');
const { serve }: typeof HonoNodeServer = tracing.require('@hono/node-server');
const hono = tracing.instrumentations.find((instrumentation) =>
  instrumentation.instrumentationName.endsWith('hono'),
);

type Served = ReturnType<typeof serve>;

async function start(app: {
  fetch: (request: Request) => Response | Promise<Response>;
}): Promise<{ url: string; server: Served }> {
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Requests `path` and returns the SERVER span it produced. */
async function serverSpan(url: string, path: string): Promise<SpanRecord> {
  tracing.reset();
  await (await fetch(url + path)).text();
  const [span] = await tracing.waitFor((spans) => spans.some((span) => span.kind === SpanKind.SERVER));
  if (!span) throw new Error('no SERVER span');
  return span;
}

describe('Hono route names', () => {
  let app: InstanceType<typeof Hono>;
  let served: { url: string; server: Served };

  beforeAll(async () => {
    app = new Hono();
    app.use('*', async (_c, next) => {
      await next();
    });
    app.use('/admin/*', async (c) => c.text('no', 401));
    app.get('/users/:id', (c) => c.json({ id: c.req.param('id') }));
    const api = new Hono().basePath('/v2');
    api.get('/items/:sku{[a-z]+}', (c) => c.text(c.req.param('sku')));
    app.route('/api', api);
    served = await start(app);
  });

  afterAll(() => {
    served?.server.close();
  });

  afterEach(() => tracing.reset());

  it.each([
    ['/users/42', '/users/:id'],
    ['/api/v2/items/abc', '/api/v2/items/:sku{[a-z]+}'],
    // Middleware that answers by itself names the request after its own pattern.
    ['/admin/settings', '/admin/*'],
    // Nothing but the catch-all middleware matched: Hono's 404.
    ['/missing', '/*'],
  ])('GET %s → http.route %s', async (path, route) => {
    const span = await serverSpan(served.url, path);
    expect(span.name).toBe(`GET ${route}`);
    expect(span.attributes['http.route']).toBe(route);
    expect(tracing.operations()[0]).toMatchObject({ type: 'http_server', method: 'GET', route });
  });

  it('names routes of other Hono presets (hono/tiny: PatternRouter)', async () => {
    const tiny = new TinyHono();
    tiny.get('/carts/:id', (c) => c.text('cart'));
    const { url, server } = await start(tiny);
    try {
      expect((await serverSpan(url, '/carts/9')).attributes['http.route']).toBe('/carts/:id');
    } finally {
      server.close();
    }
  });

  it('leaves routers used on their own untouched', () => {
    const router = new RegExpRouter<string>();
    router.add('GET', '/plain', 'handler');
    expect(router.match('GET', '/plain')[0]).toEqual([['handler', {}]]);
  });

  it('names nothing once disabled', async () => {
    hono?.disable();
    try {
      const span = await serverSpan(served.url, '/users/42');
      expect(span.attributes['http.route']).toBeUndefined();
      expect(span.name).toBe('GET');
    } finally {
      hono?.enable();
    }
  });
});
