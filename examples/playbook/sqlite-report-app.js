// A plain node:http API over better-sqlite3 whose GET /report totals one customer's orders
// from a million-row table. Without an index on orders.customer_email (the default) each
// report scans the table, tens of milliseconds of CPU inside better-sqlite3's synchronous
// call, so back-to-back reports stall the event loop: the agent's CPU profile lands in the
// native statement call under customerReport (hot_path_cpu, linked to the query's slow_query
// finding and its index advice). With INDEX=1 the index exists and the loop stays free.
// Run: node --require chokepoint/agent examples/playbook/sqlite-report-app.js
const http = require('node:http');
const Database = require('better-sqlite3');

const ROWS = 1_000_000;
const CUSTOMERS = 5000;

const db = new Database(':memory:');
db.exec(
  'CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_email TEXT NOT NULL, total_cents INTEGER NOT NULL)',
);
db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS})
  INSERT INTO orders (customer_email, total_cents)
  SELECT 'customer' || (i % ${CUSTOMERS}) || '@example.com', i % 9973 FROM n`);
if (process.env.INDEX === '1') db.exec('CREATE INDEX orders_customer_email ON orders (customer_email)');

const totals = db.prepare(
  'SELECT count(*) AS orders, sum(total_cents) AS cents FROM orders WHERE customer_email = ?',
);

function customerReport(customer) {
  return totals.get(`customer${customer}@example.com`);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/report') {
    const report = customerReport(Number(url.searchParams.get('customer') ?? 1) % CUSTOMERS);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(report));
    return;
  }
  res.writeHead(404).end();
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () =>
  console.log(`listening on ${server.address().port}`),
);
