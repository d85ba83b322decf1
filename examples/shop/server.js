/**
 * Shop: a small orders API with bottlenecks planted for Chokepoint to find (see handlers.js).
 *
 *   node --require chokepoint/agent examples/shop/server.js
 *
 * Plain `node:http` with a ten-line router rather than express: the shop then runs on the
 * package's runtime dependencies alone (better-sqlite3; pg and ioredis are optional), which is
 * what `npx chokepoint demo` has outside this repository. Routes reach the collector as paths
 * with their ids folded (`/orders/{id}`), as they do for any app without a framework router.
 *
 * Environment: PORT (3000; 0 picks a free one), SHOP_DB (SQLite file, reseeded at start;
 * default: a temporary one, removed at exit), SHOP_POSTGRES_URL, SHOP_REDIS_URL.
 * Prints `shop listening on http://127.0.0.1:PORT` once it serves.
 */
'use strict';

const { mkdtempSync, rmSync } = require('node:fs');
const { createServer } = require('node:http');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { connectCatalog } = require('./catalog.js');
const { SIZES } = require('./data.js');
const { createHandlers, HttpError } = require('./handlers.js');
const { openShopDatabase } = require('./sqlite.js');

const ROUTES = [
  ['GET', '/health', 'health'],
  ['GET', '/customers/top-products', 'listTopProductsOfCustomer'],
  ['GET', '/customers/:id', 'getCustomer'],
  ['GET', '/orders/recent', 'listRecentOrders'],
  ['GET', '/orders/:id', 'getOrder'],
  ['GET', '/products/:id', 'getProduct'],
].map(([method, path, handler]) => ({
  method,
  pattern: new RegExp(`^${path.replace(/:(\w+)/g, '(?<$1>[^/]+)')}$`),
  handler,
}));

/** The first route matching the request, with its path parameters, or undefined. */
function matchRoute(method, pathname) {
  for (const route of ROUTES) {
    const match = route.method === method && route.pattern.exec(pathname);
    if (match) return { handler: route.handler, params: { ...match.groups } };
  }
  return undefined;
}

function createRequestListener(handlers) {
  return async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://shop.invalid');
    const route = matchRoute(request.method, url.pathname);
    let status = 200;
    let body;
    try {
      if (!route) throw new HttpError(404, 'no such route');
      body = await handlers[route.handler](route.params, url.searchParams);
    } catch (error) {
      status = error instanceof HttpError ? error.status : 500;
      body = { error: status === 500 ? 'internal error' : error.message };
      if (status === 500) console.error(`${request.method} ${url.pathname} failed:`, error);
    }
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
}

async function main() {
  const port = Number(process.env.PORT ?? 3000);
  const temporaryDir = process.env.SHOP_DB ? null : mkdtempSync(join(tmpdir(), 'chokepoint-shop-'));
  if (temporaryDir) process.once('exit', () => rmSync(temporaryDir, { recursive: true, force: true }));
  let db;
  let catalog;
  let server;
  let stopping = false;
  const shutdown = async () => {
    // Ctrl-C signals the whole process group, and a supervisor may send SIGTERM as well: close once.
    if (stopping) return;
    stopping = true;
    server?.close();
    server?.closeAllConnections();
    await catalog?.close();
    db?.close();
    // Exit by draining (so the agent's exit hooks flush spans), but never hang on a stray handle.
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  const seedStart = performance.now();
  db = openShopDatabase(process.env.SHOP_DB ?? join(temporaryDir, 'shop.db'));
  console.log(
    `seeded ${SIZES.customers} customers, ${SIZES.products} products, ${SIZES.orders} orders ` +
      `in ${Math.round(performance.now() - seedStart)} ms`,
  );
  catalog = await connectCatalog({
    postgresUrl: process.env.SHOP_POSTGRES_URL,
    redisUrl: process.env.SHOP_REDIS_URL,
    warn: console.warn,
  });

  server = createServer(createRequestListener(createHandlers({ db, ...catalog })));
  server.listen(port, '127.0.0.1', () => {
    console.log(`shop listening on http://127.0.0.1:${server.address().port}`);
  });
}

main().catch((error) => {
  console.error('shop failed to start:', error);
  process.exitCode = 1;
});
