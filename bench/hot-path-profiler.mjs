/**
 * What the agent's hot-path profiler (agent/runtime/profiler.ts) costs the app:
 *
 * - CPU per request of a small JSON route at a fixed rate, in a server with no profiler,
 *   with the profiler idle (fed healthy samples, as between profiles), and while a profile
 *   runs at 1, 2 and 10 ms sampling. Server CPU is read in the server (process.cpuUsage)
 *   over each round; rounds alternate states and the median is reported.
 * - The one-off costs of one profile: how long `Profiler.start` holds the loop (V8 logs the
 *   compiled code), `Profiler.stop` (the profile comes back as JSON) and the summary, with
 *   every sample counted as in a stall (its worst case), in processes holding 2 000 and
 *   20 000 compiled functions, the latter also with about 200 MB of live objects.
 *
 * Run after `node scripts/build.mjs`:
 *   node bench/hot-path-profiler.mjs [--rounds 3] [--seconds 5] [--rate 1000]
 */
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { load } from './lib/load.mjs';
import { describeMachine } from './lib/machine.mjs';
import { median } from './lib/stats.mjs';
import { formatNumber, renderTable } from './lib/table.mjs';

const PROFILER = new URL('../dist/agent/runtime/profiler.js', import.meta.url).pathname;

if (process.argv[2] === 'server') await serve();
else if (process.argv[2] === 'one-off') await oneOff(Number(process.argv[3]), Number(process.argv[4]));
else await main();

async function main() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '5' },
      rate: { type: 'string', default: '1000' },
    },
  });
  const rounds = Number(values.rounds);
  const durationS = Number(values.seconds);
  const rate = Number(values.rate);
  console.log(JSON.stringify(describeMachine()));

  const states = ['none', 'idle', 'profiling 1 ms', 'profiling 2 ms', 'profiling 10 ms'];
  const perRequest = Object.fromEntries(states.map((state) => [state, []]));
  const server = await child(['server']);
  try {
    const url = `http://127.0.0.1:${server.port}`;
    await load(`${url}/hello`, { durationS: 2, connections: 4, rate });
    for (let round = 0; round < rounds; round++) {
      for (const state of round % 2 === 0 ? states : [...states].reverse()) {
        await fetch(`${url}/__state?to=${encodeURIComponent(state)}`, { method: 'POST' });
        const before = await (await fetch(`${url}/__cpu`)).json();
        const result = await load(`${url}/hello`, { durationS, connections: 4, rate });
        const after = await (await fetch(`${url}/__cpu`)).json();
        if (result.failed > 0) throw new Error(`${result.failed} failed requests in state ${state}`);
        perRequest[state].push((after.cpuUs - before.cpuUs) / (after.requests - before.requests));
      }
    }
  } finally {
    server.kill();
  }
  console.log(
    renderTable(
      ['state', 'CPU µs/request (median)', 'rounds'],
      states.map((state) => [
        state,
        formatNumber(median(perRequest[state]), 1),
        perRequest[state].map((v) => v.toFixed(1)).join(' '),
      ]),
    ),
  );

  const sizes = [
    [2_000, 0],
    [20_000, 0],
    [20_000, 200],
  ];
  const rows = [];
  for (const [functions, heapMb] of sizes) {
    const runs = [];
    for (let round = 0; round < rounds; round++)
      runs.push(await child(['one-off', String(functions), String(heapMb)]));
    const pick = (field) => median(runs.map((run) => run[field]));
    rows.push([
      formatNumber(functions),
      formatNumber(pick('heapMb')),
      formatNumber(pick('startMs'), 1),
      formatNumber(pick('stopMs'), 1),
      formatNumber(pick('summaryMs'), 1),
      formatNumber(pick('samples')),
    ]);
  }
  console.log(
    renderTable(['functions', 'heap MB', 'start ms', 'stop ms', 'summary ms', 'samples in 2 s'], rows),
  );
}

/** Forks this file in a role; resolves with its first message. */
function child(args) {
  return new Promise((resolve, reject) => {
    const forked = fork(new URL(import.meta.url).pathname, args, { stdio: 'inherit' });
    forked.once('message', (message) => resolve({ ...message, kill: () => forked.kill() }));
    forked.once('exit', (code) => code !== 0 && reject(new Error(`${args[0]} exited with ${code}`)));
  });
}

function healthySample() {
  return {
    service: 'bench',
    instanceId: 'bench:1',
    timeMs: Date.now(),
    intervalMs: 10_000,
    eventLoopLag: { minMs: 10, meanMs: 10.2, p50Ms: 10.2, p90Ms: 10.4, p99Ms: 10.8, maxMs: 11 },
    gc: { count: 0, pauseMs: 0, maxPauseMs: 0, byKind: {} },
    memory: { rssBytes: 1e8, heapUsedBytes: 2e7, heapTotalBytes: 4e7, externalBytes: 1e6 },
    cpu: { userMs: 0, systemMs: 0 },
  };
}

async function serve() {
  const { createServer } = await import('node:http');
  const { createHotPathProfiler } = await import(PROFILER);
  let profiler;
  let feeder;
  let requests = 0;
  const stalled = () => ({
    ...healthySample(),
    eventLoopLag: { ...healthySample().eventLoopLag, maxMs: 300 },
  });
  const states = {
    none() {},
    idle() {
      profiler = createHotPathProfiler();
      // As between profiles: every sample goes through observe(), none starts one.
      feeder = setInterval(() => profiler.observe(healthySample()), 250);
    },
    'profiling 1 ms': () => profileAt(1_000),
    'profiling 2 ms': () => profileAt(2_000),
    'profiling 10 ms': () => profileAt(10_000),
  };
  function profileAt(samplingIntervalUs) {
    profiler = createHotPathProfiler({ durationMs: 600_000, samplingIntervalUs });
    profiler.observe(stalled());
    profiler.observe(stalled());
  }
  const server = createServer((req, res) => {
    if (req.url === '/__cpu') {
      const { user, system } = process.cpuUsage();
      res.end(JSON.stringify({ cpuUs: user + system, requests }));
      return;
    }
    if (req.url?.startsWith('/__state')) {
      profiler?.stop();
      clearInterval(feeder);
      profiler = undefined;
      states[new URL(req.url, 'http://x').searchParams.get('to')]();
      res.end('{}');
      return;
    }
    requests += 1;
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ id: requests, ok: true }));
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
}

/** One profile's start, stop and summary, in a process of the given size. */
async function oneOff(functionCount, heapMb) {
  const inspector = await import('node:inspector');
  const { defaultHotPathProfilerOptions, summarizeProfile } = await import(PROFILER);
  const { samplingIntervalUs } = defaultHotPathProfilerOptions;
  const functions = Array.from({ length: functionCount }, (_, i) => new Function('a', `return a + ${i};`));
  for (const fn of functions) fn(1);
  const heap = [];
  for (let i = 0; i < heapMb * 10_000; i++) heap.push({ i, label: `item-${i}` });
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
  const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
  let at = process.hrtime.bigint();
  session.post('Profiler.start');
  const startMs = ms(at);
  // Two seconds of work for the sampler to see: timers, allocation, a little JSON.
  const end = Date.now() + 2_000;
  while (Date.now() < end) {
    JSON.stringify(functions.slice(0, 100).map((fn, i) => ({ i, v: fn(i) })));
    await new Promise((resolve) => setImmediate(resolve));
  }
  at = process.hrtime.bigint();
  let profile;
  session.post('Profiler.stop', (_error, result) => {
    profile = result.profile;
  });
  const stopMs = ms(at);
  session.disconnect();
  at = process.hrtime.bigint();
  summarizeProfile(profile, [{ startUs: 0, endUs: Number.MAX_SAFE_INTEGER }], {
    startMs: Date.now(),
    startPauseMs: startMs,
    offsetUs: 0,
    samplingIntervalUs,
    topFunctions: 20,
    cwd: process.cwd(),
    home: '/nonexistent',
  });
  const summaryMs = ms(at);
  process.send({
    heapMb: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    startMs,
    stopMs,
    summaryMs,
    samples: profile.samples.length,
    kept: heap.length,
  });
  process.exit(0);
}
