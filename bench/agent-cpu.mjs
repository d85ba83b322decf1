/**
 * What the agent costs the app, every agent exporting to the same sink: the overhead
 * server (bench/overhead/server.js: `/ok` answers a constant, `/db` reads one row of a
 * 10k-row better-sqlite3 table and one Redis key) run bare, under vanilla OpenTelemetry
 * (`--require @opentelemetry/auto-instrumentations-node/register`, OTLP/protobuf) and under
 * Chokepoint's agent; with CHOKEPOINT_BASELINE_AGENT=<path to another build's
 * dist/agent/register.js>, under that build too, for a before/after in one run.
 *
 * Per variant and endpoint, variants interleaved in a rotated order every round, after a
 * warm-up: the saturated req/s autocannon gets (10 connections), then the server's own CPU
 * time per request (process.cpuUsage inside it, user and system) at a fixed rate every
 * variant sustains. Figures are medians over the rounds. Then start-up: how long after the
 * process started the app's first line runs, and the CPU spent by then, median of 15 runs.
 *
 *   node bench/agent-cpu.mjs                      # 3 rounds, 5 s per measure, 2000 req/s
 *   ROUNDS=6 SECONDS=8 RATE=2000 node bench/agent-cpu.mjs
 *
 * Needs the build (dist/) and Redis on 127.0.0.1:6379.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startNode } from './lib/children.mjs';
import { load, requireRedis, serverCpu } from './lib/load.mjs';
import { startOtlpSink } from './lib/otlp-sink.mjs';
import { median, ratio } from './lib/stats.mjs';
import { formatNumber, formatRatio, renderTable } from './lib/table.mjs';

const ROOT = join(import.meta.dirname, '..');
const SERVER = 'bench/overhead/server.js';
const PATHS = ['/ok', '/db'];
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS ?? 5);
const RATE = Number(process.env.RATE ?? 2_000);
const CONNECTIONS = 10;
const STARTUP_RUNS = 15;

await requireRedis();
const sink = await startOtlpSink();
const exportTo = { OTEL_SERVICE_NAME: 'bench', OTEL_EXPORTER_OTLP_ENDPOINT: sink.url };
const variants = {
  bare: [],
  vanilla: ['--require', '@opentelemetry/auto-instrumentations-node/register'],
  ...(process.env.CHOKEPOINT_BASELINE_AGENT
    ? { 'chokepoint before': ['--require', process.env.CHOKEPOINT_BASELINE_AGENT] }
    : {}),
  chokepoint: ['--require', 'chokepoint/agent'],
};
const envOf = (name) =>
  name === 'vanilla'
    ? {
        ...exportTo,
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process',
      }
    : exportTo;
const names = Object.keys(variants);

const samples = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of names.map((_, i) => names[(i + round) % names.length])) {
      const server = await startNode([...variants[name], SERVER], {
        cwd: ROOT,
        env: envOf(name),
        ready: /listening on (\d+)/,
      });
      const url = `http://127.0.0.1:${server.match[1]}`;
      try {
        for (const path of PATHS) {
          await load(url + path, { durationS: 2, connections: CONNECTIONS, rate: RATE });
          const saturated = await load(url + path, { durationS: SECONDS, connections: CONNECTIONS });
          const before = await serverCpu(url);
          const steady = await load(url + path, { durationS: SECONDS, connections: CONNECTIONS, rate: RATE });
          const after = await serverCpu(url);
          const served = after.served - before.served;
          samples.push({
            name,
            path,
            requestsPerS: saturated.requests / saturated.seconds,
            steadyRequestsPerS: steady.requests / steady.seconds,
            userMicros: (after.userMicros - before.userMicros) / served,
            systemMicros: (after.systemMicros - before.systemMicros) / served,
            failed: saturated.failed + steady.failed,
          });
        }
      } finally {
        await server.stop();
      }
    }
  }
} catch (error) {
  await sink.close();
  throw error;
}

const mid = (name, path, pick) =>
  median(samples.filter((sample) => sample.name === name && sample.path === path).map(pick));
const cells = [];
for (const path of PATHS) {
  const bareCpu = mid('bare', path, (sample) => sample.userMicros + sample.systemMicros);
  const vanillaRps = mid('vanilla', path, (sample) => sample.requestsPerS);
  for (const name of names) {
    const cpu = mid(name, path, (sample) => sample.userMicros + sample.systemMicros);
    const rps = mid(name, path, (sample) => sample.requestsPerS);
    cells.push([
      path,
      name,
      formatNumber(rps),
      formatRatio(ratio(rps, vanillaRps)),
      formatNumber(cpu, 1),
      formatNumber(
        mid(name, path, (sample) => sample.userMicros),
        1,
      ),
      name === 'bare' ? '–' : formatNumber(cpu - bareCpu, 1),
    ]);
  }
}
console.log(
  `\nOverhead server, every agent exporting to one sink: saturated req/s (${CONNECTIONS} connections), server CPU per request at ${RATE} req/s; median of ${ROUNDS} rounds × ${SECONDS} s\n`,
);
console.log(
  renderTable(['endpoint', 'variant', 'req/s', '÷ vanilla', 'CPU µs/req', 'user µs/req', 'added µs'], cells),
);
for (const sample of samples.filter((candidate) => candidate.steadyRequestsPerS < 0.95 * RATE)) {
  console.log(
    `note: ${sample.name} ${sample.path} sustained only ${formatNumber(sample.steadyRequestsPerS)} req/s`,
  );
}
const failed = samples.reduce((sum, sample) => sum + sample.failed, 0);
if (failed > 0) console.log(`note: ${failed} failed requests`);

/** When the app's first line runs under the variant, and the CPU spent by then (ms), as the process itself measures. */
function startup(name) {
  const firstLine = [];
  const cpu = [];
  for (let run = 0; run < STARTUP_RUNS; run++) {
    const report = execFileSync(
      process.execPath,
      [
        ...variants[name],
        '-e',
        'const u = process.cpuUsage(); process.stdout.write(JSON.stringify([performance.now(), (u.user + u.system) / 1000])); process.exit(0);',
      ],
      { cwd: ROOT, env: { ...process.env, ...envOf(name) } },
    );
    const [atMs, cpuMs] = JSON.parse(String(report));
    firstLine.push(atMs);
    cpu.push(cpuMs);
  }
  return [formatNumber(median(firstLine)), formatNumber(median(cpu))];
}
console.log(`\nStart-up: the app's first line (node -e), median of ${STARTUP_RUNS} runs\n`);
console.log(
  renderTable(
    ['variant', 'first line at, ms', 'CPU by then, ms'],
    names.map((name) => [name, ...startup(name)]),
  ),
);
await sink.close();
