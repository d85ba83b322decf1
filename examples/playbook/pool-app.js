// A plain node:http API over real database connections: pg by default, mysql2 (MySQL or
// MariaDB) with DRIVER=mysql2. Each request runs one 50 ms statement. With a pool whose size
// comes from POOL_MAX: under concurrent load, a pool of 1 makes requests queue for the
// connection (connection_pool, waiting), a pool as large as the concurrency does not. With
// CONNECT=client each request opens its own connection (pg `new Client()` + `connect()` +
// `end()`, mysql2 `createConnection()` + `end()`) and pays the handshake (connection_pool,
// new connections).
// Run: POOL_MAX=1 node --require chokepoint/agent examples/playbook/pool-app.js
//      DRIVER=mysql2 CONNECT=client node --require chokepoint/agent examples/playbook/pool-app.js
const http = require('node:http');

const poolMax = Number(process.env.POOL_MAX ?? 10);
const perRequest = process.env.CONNECT === 'client';

function postgres() {
  const { Client, Pool } = require('pg');
  const settings = {
    host: process.env.PGHOST ?? '127.0.0.1',
    user: process.env.PGUSER ?? 'postgres',
    database: process.env.PGDATABASE ?? 'test',
  };
  const statement = 'SELECT pg_sleep(0.05) AS slept';
  const pool = new Pool({ ...settings, max: poolMax });
  async function withOwnConnection() {
    const client = new Client(settings);
    await client.connect();
    try {
      return await client.query(statement);
    } finally {
      await client.end();
    }
  }
  return { run: perRequest ? withOwnConnection : () => pool.query(statement), end: () => pool.end() };
}

function mysql2() {
  const mysql = require('mysql2/promise');
  const settings = {
    host: process.env.MYSQL_HOST ?? '127.0.0.1',
    port: Number(process.env.MYSQL_PORT ?? 3306),
    user: process.env.MYSQL_USER ?? 'root',
    database: process.env.MYSQL_DATABASE ?? 'test',
  };
  const statement = 'SELECT SLEEP(0.05) AS slept';
  const pool = mysql.createPool({ ...settings, connectionLimit: poolMax });
  async function withOwnConnection() {
    const connection = await mysql.createConnection(settings);
    try {
      return await connection.query(statement);
    } finally {
      await connection.end();
    }
  }
  return { run: perRequest ? withOwnConnection : () => pool.query(statement), end: () => pool.end() };
}

const database = process.env.DRIVER === 'mysql2' ? mysql2() : postgres();

const server = http.createServer((req, res) => {
  if (req.url !== '/orders') {
    res.writeHead(404).end();
    return;
  }
  database.run().then(
    () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
    (error) => res.writeHead(500).end(String(error)),
  );
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () =>
  console.log(`listening on ${server.address().port}`),
);
process.on('SIGTERM', () => server.close(() => database.end()));
