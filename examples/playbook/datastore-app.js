// A plain node:http API whose dependencies are a database, a cache and a broker. With
// FAULTS=1 each fails the way production ones do: `/report` hits the pool's 100 ms
// statement_timeout, `/legacy` queries a table that does not exist, `/product` reads
// from a Redis that is not there (a closed port; ioredis gives up after one retry), and
// `/order` publishes through a confirm channel to a queue that holds no message and rejects
// what it cannot take (`x-max-length: 0`, `x-overflow: reject-publish`): the broker nacks
// every publish. Without FAULTS the same routes run against healthy servers.
// Run: FAULTS=1 node --require chokepoint/agent examples/playbook/datastore-app.js
const http = require('node:http');
const net = require('node:net');
const amqp = require('amqplib');
const Redis = require('ioredis');
const { Pool } = require('pg');

const faults = process.env.FAULTS === '1';

const pool = new Pool({
  host: process.env.PGHOST ?? '127.0.0.1',
  user: process.env.PGUSER ?? 'postgres',
  database: process.env.PGDATABASE ?? 'test',
  statement_timeout: 100,
});

/** A local port nothing listens on: bound, then released. */
function closedPort() {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function start() {
  const redis = new Redis({
    host: '127.0.0.1',
    port: faults ? await closedPort() : 6379,
    // Keeps reconnecting every 50 ms; each command gives up after one retry.
    maxRetriesPerRequest: 1,
    retryStrategy: () => 50,
  });
  redis.on('error', () => {});
  const broker = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
  const channel = await broker.createConfirmChannel();
  const { queue } = await channel.assertQueue('', {
    exclusive: true,
    arguments: faults ? { 'x-max-length': 0, 'x-overflow': 'reject-publish' } : {},
  });

  const routes = {
    '/report': () => pool.query(faults ? 'SELECT pg_sleep(0.3)' : 'SELECT pg_sleep(0.01)'),
    '/legacy': () => pool.query(faults ? 'SELECT * FROM chokepoint_orders_v1' : 'SELECT 1 AS one'),
    '/product': () => redis.get('product:42'),
    '/order': () =>
      new Promise((resolve, reject) => {
        channel.publish('', queue, Buffer.from('{}'), {}, (nacked) => (nacked ? reject(nacked) : resolve()));
      }),
  };

  const server = http.createServer((req, res) => {
    const route = routes[req.url];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    route().then(
      () => res.writeHead(200).end('{"ok":true}'),
      // The API degrades: the request answers, the dependency's failure is in the trace.
      () => res.writeHead(503).end('{"ok":false}'),
    );
  });
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () =>
    console.log(`listening on ${server.address().port}`),
  );
  process.on('SIGTERM', () =>
    server.close(() => Promise.allSettled([pool.end(), broker.close(), redis.disconnect()])),
  );
}

start();
