/**
 * Fastify 5 under the http instrumentation and the agent's Fastify instrumentation: the
 * SERVER span carries the matched route, prefixes of encapsulated plugins included.
 */
import type * as FastifyModule from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, type SpanRecord } from '../../../../model/index.js';
import { traceInProcess } from '../../support/in-process.js';

const tracing = traceInProcess(['http', 'fastify']);
const fastify: typeof FastifyModule.default = tracing.require('fastify');

async function serverSpan(url: string, path: string): Promise<SpanRecord> {
  tracing.reset();
  await (await fetch(url + path)).text();
  const [span] = await tracing.waitFor((spans) => spans.some((span) => span.kind === SpanKind.SERVER));
  if (!span) throw new Error('no SERVER span');
  return span;
}

afterAll(() => tracing.shutdown());

describe('Fastify route names', () => {
  const apps: FastifyModule.FastifyInstance[] = [];
  let url: string;
  const onRequestSeen: string[] = [];

  beforeAll(async () => {
    const app = fastify();
    app.addHook('onRequest', async (request) => {
      onRequestSeen.push(request.url);
    });
    app.get('/orders/:id', async (request) => ({ id: (request.params as { id: string }).id }));
    app.register(
      async (plugin) => {
        plugin.get('/things/:thing', async () => 'thing');
      },
      { prefix: '/v1' },
    );
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    apps.push(app);
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  afterEach(() => tracing.reset());

  it.each([
    ['/orders/7', '/orders/:id'],
    ['/v1/things/9', '/v1/things/:thing'],
  ])('GET %s → http.route %s', async (path, route) => {
    const span = await serverSpan(url, path);
    expect(span.name).toBe(`GET ${route}`);
    expect(span.attributes['http.route']).toBe(route);
    expect(tracing.operations()[0]).toMatchObject({ type: 'http_server', method: 'GET', route });
  });

  it('leaves a 404 without a route, and the app’s own hooks running', async () => {
    const span = await serverSpan(url, '/nowhere/42');
    expect(span.attributes['http.route']).toBeUndefined();
    expect(span.attributes['http.response.status_code']).toBe(404);
    expect(onRequestSeen).toContain('/nowhere/42');
  });

  it('names the routes of every instance', async () => {
    const second = fastify();
    second.get('/carts/:id', async () => 'cart');
    const secondUrl = await second.listen({ host: '127.0.0.1', port: 0 });
    apps.push(second);

    expect((await serverSpan(secondUrl, '/carts/3')).attributes['http.route']).toBe('/carts/:id');
  });
});
