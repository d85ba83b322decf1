// A plain node:http API over a real pg Pool whose size comes from POOL_MAX. Each request
// runs one 50 ms statement: under concurrent load, a pool of 1 makes requests queue for
// the connection (connection_pool), a pool as large as the concurrency does not.
// Run: POOL_MAX=1 node --require chokepoint/agent examples/playbook/pool-app.js
const http = require('node:http');
const { Pool } = require('pg');

const pool = new Pool({
  host: process.env.PGHOST ?? '127.0.0.1',
  user: process.env.PGUSER ?? 'postgres',
  database: process.env.PGDATABASE ?? 'test',
  max: Number(process.env.POOL_MAX ?? 10),
});

const server = http.createServer((req, res) => {
  if (req.url !== '/orders') {
    res.writeHead(404).end();
    return;
  }
  pool.query('SELECT pg_sleep(0.05) AS slept').then(
    () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
    (error) => res.writeHead(500).end(String(error)),
  );
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () =>
  console.log(`listening on ${server.address().port}`),
);
process.on('SIGTERM', () => server.close(() => pool.end()));
