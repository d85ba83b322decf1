/**
 * The product catalogue: a Postgres table with a Redis cache in front, each used only when it
 * is reachable at start. A missing one costs a single log line, never the shop: products are
 * then read from the shop's SQLite copy, or read without the cache.
 */
'use strict';

const { SIZES, productName, productPriceCents } = require('./data.js');

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const CONNECT_TIMEOUT_MS = 1000;
/**
 * How long a query may wait for one of the pool's connections. pg applies one timeout to opening a
 * connection and to waiting for a free one; at 1 s, requests queued behind the planted synchronous
 * SQLite query (it holds the event loop up to ~2 s on a busy machine) failed with "timeout exceeded
 * when trying to connect". A server refusing connections at start still fails at once.
 */
const POOL_TIMEOUT_MS = 10_000;
/** Lock id that serialises concurrent seeders (two shops started at once against one database). */
const SEED_LOCK_ID = 0x5307;

/**
 * Connects what is reachable among Postgres and Redis and seeds the Postgres catalogue.
 *
 * @param {{ postgresUrl?: string, redisUrl?: string, warn?: (line: string) => void }} [options]
 * @returns {Promise<{ postgres: import('pg').Pool | null, redis: import('ioredis').Redis | null, close(): Promise<void> }>}
 *
 * @example
 * const catalog = await connectCatalog({ warn: console.warn });
 * if (catalog.postgres) await catalog.postgres.query('SELECT 1');
 * await catalog.close();
 */
async function connectCatalog(options = {}) {
  const { postgresUrl = DEFAULT_POSTGRES_URL, redisUrl = DEFAULT_REDIS_URL, warn = () => {} } = options;
  const [postgres, redis] = await Promise.all([
    connectPostgres(postgresUrl).catch((error) => {
      warn(
        `postgres not reachable at ${where(postgresUrl)} (${reason(error)}): products are read from SQLite`,
      );
      return null;
    }),
    connectRedis(redisUrl).catch((error) => {
      warn(`redis not reachable at ${where(redisUrl)} (${reason(error)}): product lookups are not cached`);
      return null;
    }),
  ]);
  return {
    postgres,
    redis,
    async close() {
      await Promise.all([postgres?.end(), redis?.quit().catch(() => redis.disconnect())]);
    },
  };
}

async function connectPostgres(url) {
  const { Pool } = require('pg');
  const pool = new Pool({ connectionString: url, connectionTimeoutMillis: POOL_TIMEOUT_MS, max: 4 });
  // An idle client losing its connection must not crash the shop; the next query reports it.
  pool.on('error', () => {});
  try {
    await seedPostgres(pool);
    return pool;
  } catch (error) {
    await pool.end();
    throw error;
  }
}

async function seedPostgres(pool) {
  const ids = Array.from({ length: SIZES.products }, (_, index) => index + 1);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [SEED_LOCK_ID]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS shop_products (
         id integer PRIMARY KEY, sku text NOT NULL, name text NOT NULL, price_cents integer NOT NULL)`,
    );
    await client.query(
      `INSERT INTO shop_products (id, sku, name, price_cents)
       SELECT * FROM unnest($1::integer[], $2::text[], $3::text[], $4::integer[])
       ON CONFLICT (id) DO NOTHING`,
      [
        ids,
        ids.map((id) => `SKU-${String(id).padStart(5, '0')}`),
        ids.map(productName),
        ids.map(productPriceCents),
      ],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

async function connectRedis(url) {
  const { Redis } = require('ioredis');
  let connected = false;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // Fail fast while the cache is down instead of queueing requests behind reconnection.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Give up at once if the first connection fails; once up, reconnect after an outage.
    retryStrategy: (attempt) => (connected ? Math.min(attempt * 200, 2000) : null),
  });
  // After start, connection errors surface as failed commands, which the product handler survives.
  let connectionError;
  redis.on('error', (error) => {
    connectionError = error;
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    // `connect()` only says "Connection is closed."; the error event said why.
    throw connectionError ?? error;
  }
  connected = true;
  return redis;
}

/** Host and port of a service URL, without credentials. */
function where(url) {
  const { hostname, port } = new URL(url);
  return port ? `${hostname}:${port}` : hostname;
}

function reason(error) {
  if (error?.code === 'MODULE_NOT_FOUND') return 'driver not installed';
  return error?.code ?? error?.message ?? String(error);
}

module.exports = { connectCatalog };
