// A plain node:http API over real pg connections. Each request runs one 50 ms statement.
// With a Pool whose size comes from POOL_MAX: under concurrent load, a pool of 1 makes
// requests queue for the connection (connection_pool, waiting), a pool as large as the
// concurrency does not. With CONNECT=client each request opens its own connection
// (`new Client()` + `connect()` + `end()`) and pays the handshake (connection_pool, new
// connections).
// Run: POOL_MAX=1 node --require chokepoint/agent examples/playbook/pool-app.js
const http = require('node:http');
const { Client, Pool } = require('pg');

const settings = {
  host: process.env.PGHOST ?? '127.0.0.1',
  user: process.env.PGUSER ?? 'postgres',
  database: process.env.PGDATABASE ?? 'test',
};
const STATEMENT = 'SELECT pg_sleep(0.05) AS slept';

const pool = new Pool({ ...settings, max: Number(process.env.POOL_MAX ?? 10) });

async function withOwnConnection() {
  const client = new Client(settings);
  await client.connect();
  try {
    return await client.query(STATEMENT);
  } finally {
    await client.end();
  }
}

const run = process.env.CONNECT === 'client' ? withOwnConnection : () => pool.query(STATEMENT);

const server = http.createServer((req, res) => {
  if (req.url !== '/orders') {
    res.writeHead(404).end();
    return;
  }
  run().then(
    () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
    (error) => res.writeHead(500).end(String(error)),
  );
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () =>
  console.log(`listening on ${server.address().port}`),
);
process.on('SIGTERM', () => server.close(() => pool.end()));
