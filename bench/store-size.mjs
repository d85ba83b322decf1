/**
 * How big the SQLite file gets under constant load: simulated minutes of query buckets
 * for `--fingerprints` distinct statements (each active every minute, the worst case),
 * written, rolled up and pruned by the real store code on a simulated clock, the way the
 * pipeline does once a minute (with its per-call roll-up budget). Prints, per simulated
 * hour, the rows and the file size, and how long the minute's write and roll-up held the
 * thread. With a retention shorter than the run, the size must stop growing.
 *
 * With --threaded the store is the collector's own (`ThreadedStore`: SQLite work on a writer
 * thread): the pause columns are then what the calling (ingest) thread spends handing the work
 * over, and "writer ms/min" how long the writer thread took to commit each minute's work.
 *
 *   node bench/store-size.mjs                               6 h, 10k fingerprints, 4 h retention
 *   node bench/store-size.mjs --hours 4 --fingerprints 2000
 *   node bench/store-size.mjs --threaded
 *
 * Needs the built collector (npm run build).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { QuantileSketch } from '../dist/collector/aggregate/sketch.js';
import { mergeBucketData, queryFamily } from '../dist/collector/aggregate/stats.js';
import { HOUR_MS, SqliteStore } from '../dist/collector/store/sqlite-store.js';
import { ThreadedStore } from '../dist/collector/store/threaded-store.js';
import { describeMachine } from './lib/machine.mjs';
import { formatNumber, renderTable } from './lib/table.mjs';

const { values } = parseArgs({
  options: {
    hours: { type: 'string', default: '6' },
    fingerprints: { type: 'string', default: '10000' },
    'executions-per-minute': { type: 'string', default: '20' },
    'rollup-after-hours': { type: 'string', default: '2' },
    'retention-hours': { type: 'string', default: '4' },
    threaded: { type: 'boolean', default: false },
  },
});
const threaded = values.threaded;
const hours = Number(values.hours);
const fingerprints = Number(values.fingerprints);
const executions = Number(values['executions-per-minute']);
const rollupAfterMs = Number(values['rollup-after-hours']) * HOUR_MS;
const retentionMs = Number(values['retention-hours']) * HOUR_MS;
const MINUTE = 60_000;
const START = Date.parse('2026-01-05T00:00:00Z');

const dir = mkdtempSync(join(tmpdir(), 'chokepoint-store-size-'));
const path = join(dir, 'size.db');
const store = threaded ? new ThreadedStore(path) : new SqliteStore(path);

/** Milliseconds the calling thread spends in `work`, including the hand-over a threaded store does right after it. */
async function pause(work) {
  const start = performance.now();
  work();
  await null; // ThreadedStore posts its batch in a microtask
  return performance.now() - start;
}

/** Deterministic pseudo-random durations, log-normal-ish around a fingerprint's own scale. */
let seed = 42;
function random() {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
}

const shapes = Array.from({ length: fingerprints }, (_, i) => ({
  fingerprintId: i.toString(16).padStart(16, '0'),
  fingerprint: `select o.id, o.total, o.status, o.created_at from orders_${i % 97} o join customers c on c.id = o.customer_id where o.status = ? and c.region_${i} = ? order by o.created_at desc limit ?`,
  tables: [`orders_${i % 97}`, 'customers'],
  scaleMs: 0.5 + (i % 200),
  route: `GET /api/resource_${i % 150}/:id`,
}));

function minuteBucket(shape, startMs) {
  const sketch = new QuantileSketch();
  let totalMs = 0;
  let maxMs = 0;
  for (let n = 0; n < executions; n++) {
    const ms = shape.scaleMs * Math.exp((random() - 0.5) * 2);
    sketch.add(ms);
    totalMs += ms;
    maxMs = Math.max(maxMs, ms);
  }
  return {
    family: 'query',
    service: 'shop',
    key: shape.fingerprintId,
    bucketStartMs: startMs,
    data: queryFamily.serialize({
      count: executions,
      errors: 0,
      totalMs,
      maxMs,
      sketch,
      service: 'shop',
      system: 'postgresql',
      fingerprintId: shape.fingerprintId,
      fingerprint: shape.fingerprint,
      statementType: 'select',
      tables: shape.tables,
      entries: { [shape.route]: executions },
      exampleTraceId: `${shape.fingerprintId}${startMs.toString(16)}`.padStart(32, '0'),
      exampleDurationMs: maxMs,
    }),
  };
}

function mean(values) {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function fileBytes() {
  let bytes = 0;
  for (const suffix of ['', '-wal']) {
    try {
      bytes += statSync(path + suffix).size;
    } catch {}
  }
  return bytes;
}

const rows = [];
const started = performance.now();
let writeMs = [];
let rollupMs = [];
let longestRollupCallMs = 0;
let pruneMs = [];
let writerMs = [];
for (let minute = 0; minute < hours * 60; minute++) {
  const now = START + minute * MINUTE;
  const records = shapes.map((shape) => minuteBucket(shape, now));
  const minuteStart = performance.now();
  writeMs.push(await pause(() => store.writeBuckets(records, mergeBucketData)));
  // What Pipeline does: prune once a minute, roll up a little on every run (every 2 s).
  pruneMs.push(await pause(() => store.pruneBuckets(now - retentionMs)));
  let minuteRollupMs = 0;
  for (let run = 0; run < 30; run++) {
    const callMs = await pause(() => store.rollUpBuckets(now + run * 2_000 - rollupAfterMs, mergeBucketData));
    longestRollupCallMs = Math.max(longestRollupCallMs, callMs);
    minuteRollupMs += callMs;
  }
  rollupMs.push(minuteRollupMs);
  if (threaded) {
    await store.flushed();
    writerMs.push(performance.now() - minuteStart);
  }
  if ((minute + 1) % 60 === 0) {
    const all = store.readBuckets({ fromMs: 0 });
    const hourly = all.filter((record) => record.bucketMs === HOUR_MS).length;
    rows.push([
      `${(minute + 1) / 60} h`,
      formatNumber(all.length - hourly),
      formatNumber(hourly),
      formatNumber(store.sizeBytes() / 2 ** 20, 1),
      formatNumber(fileBytes() / 2 ** 20, 1),
      `${formatNumber(mean(writeMs))} / ${formatNumber(Math.max(...writeMs))}`,
      formatNumber(mean(rollupMs)),
      formatNumber(longestRollupCallMs),
      formatNumber(Math.max(...pruneMs)),
      threaded ? `${formatNumber(mean(writerMs))} / ${formatNumber(Math.max(...writerMs))}` : '–',
    ]);
    console.log(rows.at(-1).join('  '));
    writeMs = [];
    rollupMs = [];
    longestRollupCallMs = 0;
    pruneMs = [];
    writerMs = [];
  }
}
const seconds = (performance.now() - started) / 1000;
await store.close();
const finalBytes = statSync(path).size;
rmSync(dir, { recursive: true, force: true });

console.log();
console.log(
  `store size under constant load: ${formatNumber(fingerprints)} fingerprints active every minute, ` +
    `${executions} executions each; roll-up after ${values['rollup-after-hours']} h, retention ${values['retention-hours']} h; ` +
    (threaded ? 'threaded store (pauses: the calling thread)' : 'store on the calling thread'),
);
console.log(
  renderTable(
    [
      'simulated',
      'minute rows',
      'hourly rows',
      'pages in use (MiB)',
      'file + WAL (MiB)',
      'write ms/min (mean / max)',
      'roll-up ms/min',
      'longest roll-up call (ms)',
      'longest prune (ms)',
      'writer ms/min (mean / max)',
    ],
    rows,
  ),
);
console.log(`final file ${formatNumber(finalBytes / 2 ** 20, 1)} MiB; ${seconds.toFixed(0)} s to simulate`);
console.log(JSON.stringify(describeMachine()));
