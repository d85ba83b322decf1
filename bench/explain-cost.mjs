/**
 * What plan capture (agent/explain/) adds to every query: the app's CPU time per query
 * under the built agent with `CHOKEPOINT_EXPLAIN` on and off, for fast better-sqlite3
 * statements (the cheapest query there is, so the added part shows most) and pg Pool
 * queries when PostgreSQL is up. Queries stay under the threshold, as nearly all do: the
 * cost measured is the wrappers, the announcement and the processor's check. Each round
 * runs both variants in separate processes, interleaved; medians of rounds.
 *
 *   node bench/explain-cost.mjs [rounds=5] [queries=20000] [sqlite|pg]
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOtlpSink } from './lib/otlp-sink.mjs';
import { median } from './lib/stats.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The child: warm up, then CPU microseconds per query over `queries` sequential queries. */
async function child(driver, queries) {
  // Required, as a CommonJS app does: the agent is loaded with --require, its hook patches require.
  const require = createRequire(import.meta.url);
  let run;
  if (driver === 'sqlite') {
    const Database = require('better-sqlite3');
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 1), (2, 2)');
    const statement = db.prepare('SELECT v FROM t WHERE id = ?');
    run = async () => statement.get(1);
  } else {
    const { Pool } = require('pg');
    const pool = new Pool({ host: '127.0.0.1', user: 'postgres', database: 'test', max: 2 });
    run = () => pool.query('SELECT $1::int AS v', [1]);
  }
  // A turn of the event loop every 200 queries lets the agent export: a queue that overflows
  // would drop spans, and a dropped span costs less than an exported one.
  const runMany = async (count) => {
    for (let i = 0; i < count; i++) {
      await run();
      if (i % 200 === 199) await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await runMany(queries / 4);
  const start = process.cpuUsage();
  await runMany(queries);
  const used = process.cpuUsage(start);
  process.stdout.write(`${JSON.stringify({ cpuUsPerQuery: (used.user + used.system) / queries })}\n`);
  process.exit(0);
}

function runChild(driver, queries, explain, endpoint) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--require',
        join(ROOT, 'dist/agent/register.js'),
        fileURLToPath(import.meta.url),
        '--child',
        driver,
        queries,
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          CHOKEPOINT_EXPLAIN: explain,
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          CHOKEPOINT_RUNTIME_INTERVAL_MS: '0',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out).cpuUsPerQuery)
        : reject(new Error(`${driver} child exited ${code}`)),
    );
  });
}

async function postgresUp() {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ host: '127.0.0.1', user: 'postgres', database: 'test' });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

async function main() {
  const rounds = Number(process.argv[2] ?? 5);
  const queries = String(process.argv[3] ?? 20_000);
  const sink = await startOtlpSink();
  const only = process.argv[4];
  const drivers = ['sqlite', ...((await postgresUp()) ? ['pg'] : [])].filter(
    (driver) => !only || driver === only,
  );
  for (const driver of drivers) {
    const on = [];
    const off = [];
    for (let round = 0; round < rounds; round++) {
      off.push(await runChild(driver, queries, 'false', sink.url));
      on.push(await runChild(driver, queries, 'true', sink.url));
    }
    const [medianOn, medianOff] = [median(on), median(off)];
    console.log(
      `${driver}: ${medianOff.toFixed(2)} µs CPU/query explain off, ${medianOn.toFixed(2)} µs on: ` +
        `+${(medianOn - medianOff).toFixed(2)} µs (rounds off ${off.map((v) => v.toFixed(2)).join(' ')}; on ${on.map((v) => v.toFixed(2)).join(' ')})`,
    );
  }
  await sink.close();
}

if (process.argv[2] === '--child') await child(process.argv[3], Number(process.argv[4]));
else await main();
