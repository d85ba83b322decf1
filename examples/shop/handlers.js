/**
 * The shop's request handlers. Three of them carry a bottleneck planted on purpose, marked
 * PLANTED, for Chokepoint to find; the others are what healthy endpoints look like.
 */
'use strict';

/** Short TTL on purpose: see PLANTED (c) in `getProduct`. */
const PRODUCT_TTL_SECONDS = 5;
const EMAIL = /^[^\s@']+@[^\s@']+\.[a-z]{2,}$/i;

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * Builds the handlers over the shop's connections. A handler takes `(params, query)` and
 * returns the JSON body of a 200, or throws an `HttpError`.
 *
 * @param {{ db: import('better-sqlite3').Database, postgres: import('pg').Pool | null, redis: import('ioredis').Redis | null }} connections
 */
function createHandlers({ db, postgres, redis }) {
  const customerById = db.prepare('SELECT id, email, name, country FROM customers WHERE id = ?');
  const orderById = db.prepare(
    'SELECT id, customer_id, status, total_cents, created_at FROM orders WHERE id = ?',
  );
  const recentOrders = db.prepare(
    'SELECT id, customer_id, status, total_cents, created_at FROM orders ORDER BY created_at DESC LIMIT ?',
  );
  const itemsOfOrder = db.prepare(
    `SELECT oi.product_id, p.name, oi.quantity, oi.unit_price_cents
     FROM order_items oi JOIN products p ON p.id = oi.product_id
     WHERE oi.order_id = ?`,
  );
  const productById = db.prepare('SELECT id, sku, name, price_cents FROM products WHERE id = ?');

  return {
    /** Healthy: primary-key lookup. */
    getCustomer(params) {
      return customerById.get(positiveInteger(params.id)) ?? notFound('customer');
    },

    /** Healthy: primary-key lookup, then its items through the order_items (order_id) index. */
    getOrder(params) {
      const order = orderById.get(positiveInteger(params.id)) ?? notFound('order');
      return { ...order, items: itemsOfOrder.all(order.id) };
    },

    /**
     * PLANTED (b), N+1: one query for the recent orders, then one more per order for its
     * items — `limit` + 1 round trips where a single `WHERE order_id IN (…)` or a JOIN would do.
     */
    listRecentOrders(_params, query) {
      const limit = Math.min(positiveInteger(query.get('limit') ?? '20'), 50);
      return recentOrders.all(limit).map((order) => ({ ...order, items: itemsOfOrder.all(order.id) }));
    },

    /**
     * PLANTED (a), slow query: orders are filtered on customer_email, which has no index, so
     * SQLite walks all of order_items and looks up each one's order (≈ 150 ms per call on 250k
     * orders). The fix is `CREATE INDEX ON orders (customer_email)`. The email is also spliced
     * into the SQL text, as string-built queries do: the collector must scrub it.
     */
    listTopProductsOfCustomer(_params, query) {
      const email = query.get('email') ?? '';
      if (!EMAIL.test(email)) throw new HttpError(400, 'email must be an email address');
      const products = db
        .prepare(
          `SELECT p.id, p.name, SUM(oi.quantity) AS units
           FROM orders o
           JOIN order_items oi ON oi.order_id = o.id
           JOIN products p ON p.id = oi.product_id
           WHERE o.customer_email = '${email}'
           GROUP BY p.id
           ORDER BY units DESC
           LIMIT 5`,
        )
        .all();
      return { products };
    },

    /**
     * PLANTED (c), cache with a poor hit ratio: cache-aside on `product:{id}` in Redis in front
     * of Postgres, but with a 5 s TTL over 2,000 evenly requested products almost every lookup
     * misses and pays for both Redis and Postgres. Without Postgres, SQLite serves the product;
     * without Redis, nothing is cached.
     */
    async getProduct(params) {
      const id = positiveInteger(params.id);
      const key = `product:${id}`;
      const cached = redis ? await redis.get(key).catch(() => null) : null;
      if (cached) return { ...JSON.parse(cached), servedBy: 'redis' };
      const product = postgres
        ? (await postgres.query('SELECT id, sku, name, price_cents FROM shop_products WHERE id = $1', [id]))
            .rows[0]
        : productById.get(id);
      if (!product) notFound('product');
      if (redis) await redis.set(key, JSON.stringify(product), 'EX', PRODUCT_TTL_SECONDS).catch(() => {});
      return { ...product, servedBy: postgres ? 'postgres' : 'sqlite' };
    },

    health() {
      return { status: 'ok', postgres: postgres !== null, redis: redis !== null };
    },
  };
}

function positiveInteger(text) {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new HttpError(400, `not a positive integer: ${text}`);
  return value;
}

function notFound(what) {
  throw new HttpError(404, `${what} not found`);
}

module.exports = { createHandlers, HttpError };
