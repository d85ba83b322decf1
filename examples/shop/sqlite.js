/**
 * The shop's own database: SQLite through better-sqlite3, created and seeded at start.
 *
 * The seed is a handful of `INSERT … SELECT` statements over a recursive sequence, in one
 * transaction: generating rows inside SQLite takes about a second for 1M rows, and it is only
 * a few statements — a row-by-row loop would also emit a span per row under the agent.
 */
'use strict';

const Database = require('better-sqlite3');
const {
  SIZES,
  customerCountry,
  customerEmail,
  customerName,
  productName,
  productPriceCents,
} = require('./data.js');

const SCHEMA = `
  DROP TABLE IF EXISTS order_items;
  DROP TABLE IF EXISTS orders;
  DROP TABLE IF EXISTS products;
  DROP TABLE IF EXISTS customers;
  CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    country TEXT NOT NULL
  );
  CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    price_cents INTEGER NOT NULL
  );
  -- customer_email is copied onto the order at checkout (what the receipt was sent to).
  CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    customer_email TEXT NOT NULL,
    status TEXT NOT NULL,
    total_cents INTEGER NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    product_id INTEGER NOT NULL REFERENCES products (id),
    quantity INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL
  );
`;

const SEED = [
  `WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < @customers)
   INSERT INTO customers (id, email, name, country)
   SELECT n, customer_email(n), customer_name(n), customer_country(n) FROM seq`,
  `WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < @products)
   INSERT INTO products (id, sku, name, price_cents)
   SELECT n, printf('SKU-%05d', n), product_name(n), product_price_cents(n) FROM seq`,
  // Order n is placed (orders - n) × 2 minutes ago: the newest is order `orders`.
  `WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < @orders)
   INSERT INTO orders (id, customer_id, customer_email, status, total_cents, created_at)
   SELECT n, 1 + (n * 7919) % @customers, customer_email(1 + (n * 7919) % @customers),
          CASE n % 10 WHEN 0 THEN 'cancelled' WHEN 1 THEN 'pending' ELSE 'shipped' END,
          500 + (n * 104729) % 50000,
          strftime('%Y-%m-%dT%H:%M:%SZ', 'now', printf('-%d minutes', (@orders - n) * 2))
   FROM seq`,
  `WITH RECURSIVE seq (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < @orders * @itemsPerOrder - 1)
   INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)
   SELECT 1 + CAST(n / @itemsPerOrder AS INTEGER), 1 + (n * 48611) % @products, 1 + n % 4,
          product_price_cents(1 + (n * 48611) % @products)
   FROM seq`,
];

// Deliberately no index on orders (customer_email): that is planted bottleneck (a), see handlers.js.
const INDEXES = `
  CREATE INDEX orders_customer_id ON orders (customer_id);
  CREATE INDEX orders_created_at ON orders (created_at);
  CREATE INDEX order_items_order_id ON order_items (order_id);
`;

/**
 * Opens (creating if needed) the shop database at `path` and seeds it afresh in one transaction.
 *
 * @param {string} path SQLite file; its shop tables are dropped and recreated.
 * @returns {import('better-sqlite3').Database}
 */
function openShopDatabase(path) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  for (const [name, generate] of Object.entries({
    customer_email: customerEmail,
    customer_name: customerName,
    customer_country: customerCountry,
    product_name: productName,
    product_price_cents: productPriceCents,
  })) {
    db.function(name, { deterministic: true }, generate);
  }
  db.transaction(() => {
    db.exec(SCHEMA);
    for (const statement of SEED) db.prepare(statement).run(SIZES);
    db.exec(INDEXES);
  })();
  return db;
}

module.exports = { openShopDatabase };
