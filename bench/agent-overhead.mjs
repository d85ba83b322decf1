/**
 * Agent overhead: the same two-endpoint server (bench/overhead/server.js) run bare, under
 * vanilla OpenTelemetry (`--require @opentelemetry/auto-instrumentations-node/register`,
 * OTLP/protobuf to a sink that answers 200) and under Chokepoint's agent (OTLP/protobuf to a
 * real collector in a child process). Variants take turns, in a rotated order every round,
 * so drift on the machine spreads over all of them; each figure is the median of the rounds.
 *
 * Per variant and endpoint, after a warm-up: the most req/s autocannon gets out of the server
 * (10 connections), then a fixed rate every variant sustains, at which every response is
 * timed (exact p50/p99) and the server's CPU time per request is read from its `/__cpu`
 * endpoint before and after. CPU is compared at one rate because a saturated server batches
 * its socket writes and wakes the load generator less often: per-request CPU there depends
 * on the throughput itself, and a slower variant would be charged for kernel wake-ups.
 * On a 2-core machine the load generator and the server share the CPUs, so throughput moves
 * with scheduling while CPU per request stays put.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode } from './lib/children.mjs';
import { load, requireRedis, serverCpu } from './lib/load.mjs';
import { startOtlpSink } from './lib/otlp-sink.mjs';
import { median, ratio } from './lib/stats.mjs';
import { formatNumber, formatRatio } from './lib/table.mjs';

const ROOT = join(import.meta.dirname, '..');
const SERVER = 'bench/overhead/server.js';
const PATHS = ['/ok', '/db'];
const VARIANTS = ['bare', 'vanilla', 'chokepoint'];

export const overheadTargets = {
  /** Chokepoint's throughput on `/db`, as a multiple of vanilla OpenTelemetry's. */
  dbThroughputVsVanilla: 1.5,
  /** CPU the agent adds to one request, over bare (µs). */
  addedCpuMicros: 40,
};

/**
 * @example
 * const result = await benchAgentOverhead({ durationS: 8, warmupS: 3, rounds: 2 });
 * console.log(result.table);
 */
export async function benchAgentOverhead({
  durationS = 5,
  warmupS = 2,
  rounds = 3,
  connections = 10,
  fixedRate = 2_000,
} = {}) {
  await requireRedis();
  const workDir = mkdtempSync(join(tmpdir(), 'chokepoint-bench-overhead-'));
  const sink = await startOtlpSink();
  const collector = await startNode(
    ['dist/cli/main.js', 'collector', '--port', '0', '--otlp-port', '0', '--db', join(workDir, 'bench.db')],
    { cwd: ROOT, ready: /otlp listening on (\S+)[\s\S]*dashboard listening on (\S+)/ },
  );
  const [, otlpUrl, dashboardUrl] = collector.match;
  const variants = {
    bare: { args: [], env: {}, exportedSpans: async () => 0 },
    vanilla: {
      args: ['--require', '@opentelemetry/auto-instrumentations-node/register'],
      env: {
        OTEL_SERVICE_NAME: 'bench',
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
        // The cloud detectors probe metadata endpoints at start; steady state is the same without them.
        OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process',
      },
      exportedSpans: async () => sink.spans,
    },
    chokepoint: {
      args: ['--require', 'chokepoint/agent'],
      env: { OTEL_SERVICE_NAME: 'bench', OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl },
      exportedSpans: () => spansReceived(dashboardUrl),
    },
  };

  const samples = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
      for (const name of order) {
        const variant = variants[name];
        const server = await startNode([...variant.args, SERVER], {
          cwd: ROOT,
          env: variant.env,
          ready: /listening on (\d+)/,
        });
        const url = `http://127.0.0.1:${server.match[1]}`;
        try {
          for (const path of PATHS) {
            await load(url + path, { durationS: warmupS, connections });
            const saturated = await load(url + path, { durationS, connections });
            const spansBefore = await variant.exportedSpans();
            const before = await serverCpu(url);
            const steady = await load(url + path, { durationS, connections, rate: fixedRate });
            const after = await serverCpu(url);
            const served = after.served - before.served;
            // Spans still in the agent's queue land within a batch delay; give them the time.
            await new Promise((resolve) => setTimeout(resolve, name === 'bare' ? 0 : 1_000));
            const spans = (await variant.exportedSpans()) - spansBefore;
            samples.push({
              variant: name,
              path,
              round,
              requestsPerS: saturated.requests / saturated.seconds,
              p50Ms: steady.p50Ms,
              p99Ms: steady.p99Ms,
              steadyRequestsPerS: steady.requests / steady.seconds,
              cpuMicrosPerRequest:
                (after.userMicros + after.systemMicros - before.userMicros - before.systemMicros) / served,
              userMicrosPerRequest: (after.userMicros - before.userMicros) / served,
              spansPerRequest: spans / served,
              rssMB: after.rssBytes / 2 ** 20,
              failed: saturated.failed + steady.failed,
            });
          }
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    await collector.stop();
    await sink.close();
    rmSync(workDir, { recursive: true, force: true });
  }
  return summarize(samples, { durationS, warmupS, rounds, connections, fixedRate });
}

function summarize(samples, settings) {
  const pick = (variant, path) => {
    const runs = samples.filter((sample) => sample.variant === variant && sample.path === path);
    const mid = (key) => median(runs.map((run) => run[key]));
    return {
      variant,
      path,
      requestsPerS: mid('requestsPerS'),
      p50Ms: mid('p50Ms'),
      p99Ms: mid('p99Ms'),
      steadyRequestsPerS: mid('steadyRequestsPerS'),
      cpuMicrosPerRequest: mid('cpuMicrosPerRequest'),
      userMicrosPerRequest: mid('userMicrosPerRequest'),
      spansPerRequest: mid('spansPerRequest'),
      rssMB: mid('rssMB'),
      failed: runs.reduce((sum, run) => sum + run.failed, 0),
    };
  };
  const rows = [];
  for (const path of PATHS) {
    const bare = pick('bare', path);
    const vanilla = pick('vanilla', path);
    for (const variant of VARIANTS) {
      const row = pick(variant, path);
      rows.push({
        ...row,
        throughputVsBare: ratio(row.requestsPerS, bare.requestsPerS),
        throughputVsVanilla: ratio(row.requestsPerS, vanilla.requestsPerS),
        cpuVsBare: ratio(row.cpuMicrosPerRequest, bare.cpuMicrosPerRequest),
        cpuVsVanilla: ratio(row.cpuMicrosPerRequest, vanilla.cpuMicrosPerRequest),
        addedCpuMicros: row.cpuMicrosPerRequest - bare.cpuMicrosPerRequest,
      });
    }
  }
  const notes = [];
  for (const row of rows) {
    if (row.steadyRequestsPerS < 0.95 * settings.fixedRate) {
      notes.push(
        `${row.variant} ${row.path} sustained ${formatNumber(row.steadyRequestsPerS)} of ${settings.fixedRate} req/s: its CPU per request is not comparable`,
      );
    }
    if (row.failed > 0) notes.push(`${row.variant} ${row.path}: ${row.failed} failed requests`);
  }
  const chokepointDb = rows.find((row) => row.variant === 'chokepoint' && row.path === '/db');
  const addedCpu = Math.max(
    ...rows.filter((row) => row.variant === 'chokepoint').map((row) => row.addedCpuMicros),
  );
  return {
    name: 'agent-overhead',
    title: `Agent overhead: saturated req/s; latency and server CPU per request at ${settings.fixedRate} req/s (median of ${settings.rounds} rounds)`,
    settings,
    rows,
    samples,
    notes,
    targets: [
      {
        what: '/db throughput, Chokepoint ÷ vanilla',
        target: `≥ ${overheadTargets.dbThroughputVsVanilla}×`,
        measured: formatRatio(chokepointDb.throughputVsVanilla),
        met: chokepointDb.throughputVsVanilla >= overheadTargets.dbThroughputVsVanilla,
      },
      {
        what: 'CPU added per request (worst endpoint)',
        target: `≤ ${overheadTargets.addedCpuMicros} µs`,
        measured: `${formatNumber(addedCpu, 1)} µs`,
        met: addedCpu <= overheadTargets.addedCpuMicros,
      },
    ],
    headers: [
      'endpoint',
      'variant',
      'req/s',
      '÷ bare',
      '÷ vanilla',
      'p50 ms',
      'p99 ms',
      'CPU µs/req',
      'added µs',
      'CPU ÷ bare',
      'CPU ÷ vanilla',
      'spans/req',
    ],
    cells: rows.map((row) => [
      row.path,
      row.variant,
      formatNumber(row.requestsPerS),
      formatRatio(row.throughputVsBare),
      formatRatio(row.throughputVsVanilla),
      formatNumber(row.p50Ms, 2),
      formatNumber(row.p99Ms, 2),
      formatNumber(row.cpuMicrosPerRequest, 1),
      row.variant === 'bare' ? '–' : formatNumber(row.addedCpuMicros, 1),
      formatRatio(row.cpuVsBare),
      formatRatio(row.cpuVsVanilla),
      row.variant === 'bare' ? '–' : formatNumber(row.spansPerRequest, 2),
    ]),
  };
}

/** The collector's `chokepoint_collector_spans_received_total`. */
async function spansReceived(dashboardUrl) {
  const text = await (await fetch(`${dashboardUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find((candidate) => candidate.startsWith('chokepoint_collector_spans_received_total'));
  return Number(line?.split(' ')[1] ?? 0);
}
