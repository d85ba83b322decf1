/**
 * Agent overhead: the same two-endpoint server (bench/overhead/server.js: `/ok` answers a
 * constant, `/db` reads one row of a 10k-row better-sqlite3 table and one Redis key) run
 * bare, under vanilla OpenTelemetry (`--require @opentelemetry/auto-instrumentations-node/register`,
 * OTLP/protobuf to a sink that answers 200) and under Chokepoint's agent, twice: exporting to
 * a real collector in a child process (the official figures), and to the same sink as
 * vanilla (nothing differs but the agent). With CHOKEPOINT_BASELINE_AGENT=<another build's
 * dist/agent/register.js>, that build runs too, to the sink, for a before/after in one run.
 *
 * The server has CPU 1 to itself; the load generator, the sink, the collector and the bench's
 * own Redis (bench/lib/redis.mjs) share CPU 0 (bench/overhead/harness.mjs), so the
 * collector's work is not taken from the server it measures. Variants take turns, in a rotated order every round, so drift on the machine
 * spreads over all of them; each figure is the median of the rounds.
 *
 * Per variant and endpoint, after a warm-up that lasts until the server has run 25 s (the agents'
 * first exports and periodic reports, and the V8 re-optimisation they bring, are a once-only cost
 * reported apart in the notes): the most req/s the load generator gets (wrk
 * when the machine has it, else autocannon; 10 connections), the share of its core the
 * server used meanwhile and the spans exported per request flat out (an SDK that drops spans
 * when its queue overflows is cheaper for it), then a fixed rate every variant sustains, at
 * which every response is timed (exact p50/p99) and the server's CPU per request is read
 * from its `/__cpu` endpoint. Last, start-up: when the app's first line runs
 * under each variant and the CPU spent by then.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, withoutTelemetrySettings } from './lib/children.mjs';
import { startOtlpSink } from './lib/otlp-sink.mjs';
import { startBenchRedis } from './lib/redis.mjs';
import { median, ratio } from './lib/stats.mjs';
import { formatNumber, formatRatio } from './lib/table.mjs';
import {
  AGENT,
  agentEnv,
  corePlan,
  measureEndpoint,
  pinThisProcess,
  startServer,
  VANILLA,
  vanillaEnv,
} from './overhead/harness.mjs';

const ROOT = join(import.meta.dirname, '..');
const PATHS = ['/ok', '/db'];
/** A saturated server below this share of its core was held back by the load side. */
const BUSY_ENOUGH = 0.9;
/** Fewer exported spans per request than the server span alone: an agent that dropped spans or did not start. */
const MIN_SPANS_PER_REQUEST = 0.95;
/**
 * Measured windows start once a server has run this long: the agents' first exports and
 * Chokepoint's first runtime report (10 s after start) are behind it, with the V8 warm-up they
 * bring (bench/overhead/harness.mjs, `untilSteady`). The CPU per request before it is reported
 * apart, as the warm-up's cost.
 */
const STEADY_AFTER_MS = 25_000;

export const overheadTargets = {
  /** Chokepoint's throughput on `/db`, as a multiple of vanilla OpenTelemetry's. */
  dbThroughputVsVanilla: 1.5,
  /** CPU the agent adds to one request, over bare (µs). */
  addedCpuMicros: 40,
};

/**
 * @example
 * const result = await benchAgentOverhead({ durationS: 8, warmupS: 3, rounds: 2 });
 * console.log(result.title, result.cells, result.moreTables);
 */
export async function benchAgentOverhead({
  durationS = 5,
  warmupS = 2,
  rounds = 5,
  connections = 10,
  fixedRate = 2_000,
  startupRuns = 15,
  baselineAgent = process.env.CHOKEPOINT_BASELINE_AGENT,
} = {}) {
  const plan = corePlan();
  const redis = await startBenchRedis({ taskset: plan?.others });
  const unpin = plan ? pinThisProcess(plan.others) : () => {};
  const workDir = mkdtempSync(join(tmpdir(), 'chokepoint-bench-overhead-'));
  const sink = await startOtlpSink();
  const collector = await startNode(
    ['dist/cli/main.js', 'collector', '--port', '0', '--otlp-port', '0', '--db', join(workDir, 'bench.db')],
    {
      cwd: ROOT,
      ready: /otlp listening on (\S+)[\s\S]*dashboard listening on (\S+)/,
      taskset: plan?.others,
    },
  );
  const [, otlpUrl, dashboardUrl] = collector.match;
  const toSink = async () => sink.spans;
  const variants = {
    bare: { args: [], env: {} },
    vanilla: { args: VANILLA, env: vanillaEnv(sink.url), exportedSpans: toSink },
    chokepoint: { args: AGENT, env: agentEnv(otlpUrl), exportedSpans: () => spansReceived(dashboardUrl) },
    'chokepoint, to the sink': { args: AGENT, env: agentEnv(sink.url), exportedSpans: toSink },
    ...(baselineAgent
      ? {
          'chokepoint before, to the sink': {
            args: ['--require', baselineAgent],
            env: agentEnv(sink.url),
            exportedSpans: toSink,
          },
        }
      : {}),
  };
  const names = Object.keys(variants);

  const samples = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const name of names.map((_, i) => names[(i + round) % names.length])) {
        const variant = variants[name];
        const server = await startServer(variant, plan, redis.port);
        try {
          for (const path of PATHS) {
            const { saturated, early, ...steady } = await measureEndpoint(server.url, path, {
              durationS,
              warmupS,
              connections,
              rate: fixedRate,
              exportedSpans: variant.exportedSpans,
              steadyFromMs: server.startedAtMs + STEADY_AFTER_MS,
            });
            samples.push({
              variant: name,
              path,
              round,
              requestsPerS: saturated.requestsPerS,
              serverBusy: saturated.serverBusy,
              requestsPerCpuS: saturated.requestsPerCpuS,
              flatOutSpansPerRequest: saturated.spansPerRequest,
              loadGenerator: saturated.by,
              earlyCpuMicrosPerRequest: early?.cpuMicrosPerRequest,
              earlySeconds: early?.seconds,
              ...steady,
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
    await redis.stop();
    rmSync(workDir, { recursive: true, force: true });
    unpin();
  }
  const settings = {
    durationS,
    warmupS,
    rounds,
    connections,
    fixedRate,
    startupRuns,
    pinned: plan ?? null,
    steadyAfterMs: STEADY_AFTER_MS,
    ownRedis: redis.own,
  };
  // The agent starts the same whichever its endpoint: once is enough.
  const startup = names
    .filter((name) => name !== 'chokepoint, to the sink')
    .map((name) => ({ variant: name, ...startupOf(variants[name], startupRuns) }));
  return summarize(samples, startup, settings);
}

function summarize(samples, startup, settings) {
  const pick = (variant, path) => {
    const runs = samples.filter((sample) => sample.variant === variant && sample.path === path);
    const mid = (key) => median(runs.map((run) => run[key]));
    return {
      variant,
      path,
      requestsPerS: mid('requestsPerS'),
      serverBusy: mid('serverBusy'),
      requestsPerCpuS: mid('requestsPerCpuS'),
      p50Ms: mid('p50Ms'),
      p99Ms: mid('p99Ms'),
      steadyRequestsPerS: mid('steadyRequestsPerS'),
      cpuMicrosPerRequest: mid('cpuMicrosPerRequest'),
      userMicrosPerRequest: mid('userMicrosPerRequest'),
      spansPerRequest: mid('spansPerRequest'),
      flatOutSpansPerRequest: mid('flatOutSpansPerRequest'),
      rssMB: mid('rssMB'),
      failed: runs.reduce((sum, run) => sum + run.failed, 0),
    };
  };
  const variants = [...new Set(samples.map((sample) => sample.variant))];
  const rows = [];
  for (const path of PATHS) {
    const bare = pick('bare', path);
    const vanilla = pick('vanilla', path);
    for (const variant of variants) {
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
    if (settings.pinned && row.serverBusy < BUSY_ENOUGH) {
      notes.push(
        `${row.variant} ${row.path}: the saturated server used ${formatPercent(row.serverBusy)} of its core; held back by the load side or other work on its core`,
      );
    }
    if (row.failed > 0) notes.push(`${row.variant} ${row.path}: ${row.failed} failed requests`);
    if (row.variant !== 'bare' && !(row.spansPerRequest >= MIN_SPANS_PER_REQUEST)) {
      notes.push(
        `${row.variant} ${row.path}: ${formatNumber(row.spansPerRequest, 2)} spans exported per request`,
      );
    }
    if (row.variant !== 'bare' && row.flatOutSpansPerRequest < 0.95 * row.spansPerRequest) {
      notes.push(
        `${row.variant} ${row.path}: flat out it exported ${formatNumber(row.flatOutSpansPerRequest, 2)} spans per request of ${formatNumber(row.spansPerRequest, 2)}: it dropped ${formatPercent(1 - row.flatOutSpansPerRequest / row.spansPerRequest)} of its spans, and its req/s there is cheaper for it`,
      );
    }
  }
  {
    // The warm-up window, held at the fixed rate on the first endpoint of each server.
    const early = samples.filter((sample) => sample.earlyCpuMicrosPerRequest !== undefined);
    const earlyOf = (variant) =>
      median(
        early.filter((sample) => sample.variant === variant).map((sample) => sample.earlyCpuMicrosPerRequest),
      );
    const bareEarly = earlyOf('bare');
    const paths = [...new Set(early.map((sample) => sample.path))];
    if (early.length > 0 && Number.isFinite(bareEarly)) {
      const cells = variants.map((variant) => {
        const micros = earlyOf(variant);
        return variant === 'bare'
          ? `bare ${formatNumber(micros, 1)}`
          : `${variant} ${formatNumber(micros, 1)} (+${formatNumber(micros - bareEarly, 1)})`;
      });
      notes.push(
        `warm-up: every measurement starts once its server has run ${settings.steadyAfterMs / 1000} s; before that, held at ${settings.fixedRate} req/s on ${paths.join(', ')} from the end of a ${settings.warmupS} s flat-out warm-up, CPU µs/request was ${cells.join(', ')} (median of rounds): the agents' first exports and Chokepoint's first runtime report (at 10 s) land there, with the V8 re-optimisation they bring`,
      );
    }
  }
  const loadGenerators = [...new Set(samples.map((sample) => sample.loadGenerator))];
  notes.push(
    `flat out: ${loadGenerators.join(', ')} (${settings.connections} connections); at ${settings.fixedRate} req/s: autocannon, every response timed`,
  );
  {
    // What the throughput target asks for, in the bare server's terms.
    const bareDb = rows.find((row) => row.variant === 'bare' && row.path === '/db');
    const vanillaDb = rows.find((row) => row.variant === 'vanilla' && row.path === '/db');
    const wanted = overheadTargets.dbThroughputVsVanilla * vanillaDb.requestsPerS;
    notes.push(
      `/db: vanilla ran at ${formatRatio(vanillaDb.throughputVsBare)} bare here, so ${overheadTargets.dbThroughputVsVanilla}× vanilla is ${formatNumber(wanted)} req/s = ${formatRatio(wanted / bareDb.requestsPerS)} bare${wanted > bareDb.requestsPerS ? ': more than the uninstrumented server serves' : ''}`,
    );
  }
  notes.push(
    settings.pinned
      ? `server pinned to CPU ${settings.pinned.server}; load generator, sink, collector${settings.ownRedis ? " and the bench's own Redis" : ''} to CPU ${settings.pinned.others}`
      : 'not pinned (one CPU or no taskset): the collector competes with the server it measures',
  );
  if (!settings.ownRedis)
    notes.push("/db read the machine's Redis on 127.0.0.1:6379 (no redis-server on the PATH), unpinned");
  const official = ['bare', 'vanilla', 'chokepoint'];
  const sameSink = variants.filter((variant) => variant !== 'chokepoint');
  const targetsOf = (chokepoint) => {
    const db = rows.find((row) => row.variant === chokepoint && row.path === '/db');
    const added = Math.max(
      ...rows.filter((row) => row.variant === chokepoint).map((row) => row.addedCpuMicros),
    );
    return { throughput: db.throughputVsVanilla, added };
  };
  const measured = targetsOf('chokepoint');
  const withSink = targetsOf('chokepoint, to the sink');
  notes.push(
    `to the sink: /db throughput Chokepoint ÷ vanilla ${formatRatio(withSink.throughput)}, CPU added per request ${formatNumber(withSink.added, 1)} µs (worst endpoint)`,
  );
  for (const chokepoint of ['chokepoint', 'chokepoint, to the sink']) {
    const byRound = (key) => {
      const ratios = [];
      for (let round = 0; round < settings.rounds; round++) {
        const of = (variant) =>
          samples.find(
            (sample) => sample.variant === variant && sample.path === '/db' && sample.round === round,
          )[key];
        ratios.push(of(chokepoint) / of('vanilla'));
      }
      return `${formatRatio(Math.min(...ratios))}–${formatRatio(Math.max(...ratios))}`;
    };
    notes.push(
      `${chokepoint} ÷ vanilla on /db, round by round: req/s ${byRound('requestsPerS')}, req/CPU-s ${byRound('requestsPerCpuS')}`,
    );
  }
  const rounds = `median of ${settings.rounds} rounds`;
  return {
    name: 'agent-overhead',
    title: `Agent overhead, Chokepoint exporting to a real collector: saturated req/s; latency and server CPU per request at ${settings.fixedRate} req/s (${rounds})`,
    settings,
    rows,
    startup,
    samples,
    notes,
    targets: [
      {
        what: '/db throughput, Chokepoint ÷ vanilla',
        target: `≥ ${overheadTargets.dbThroughputVsVanilla}×`,
        measured: formatRatio(measured.throughput),
        met: measured.throughput >= overheadTargets.dbThroughputVsVanilla,
      },
      {
        what: 'CPU added per request (worst endpoint)',
        target: `≤ ${overheadTargets.addedCpuMicros} µs`,
        measured: `${formatNumber(measured.added, 1)} µs`,
        met: measured.added <= overheadTargets.addedCpuMicros,
      },
    ],
    headers: HEADERS,
    cells: cellsOf(rows.filter((row) => official.includes(row.variant))),
    moreTables: [
      {
        title: `The same, every agent exporting to one sink (${rounds})`,
        headers: HEADERS,
        cells: cellsOf(rows.filter((row) => sameSink.includes(row.variant))),
      },
      {
        title: `Start-up: when the app's first line runs (\`node -e\`), median of ${settings.startupRuns} runs`,
        headers: ['variant', 'first line at, ms', 'CPU by then, ms'],
        cells: startup.map((row) => [row.variant, formatNumber(row.firstLineMs), formatNumber(row.cpuMs)]),
      },
    ],
  };
}

const HEADERS = [
  'endpoint',
  'variant',
  'req/s',
  '÷ bare',
  '÷ vanilla',
  'server busy',
  'req/CPU-s',
  'p50 ms',
  'p99 ms',
  'CPU µs/req',
  'added µs',
  'CPU ÷ bare',
  'CPU ÷ vanilla',
  'spans/req',
  'spans/req flat out',
];

function cellsOf(rows) {
  return rows.map((row) => [
    row.path,
    row.variant,
    formatNumber(row.requestsPerS),
    formatRatio(row.throughputVsBare),
    formatRatio(row.throughputVsVanilla),
    formatPercent(row.serverBusy),
    formatNumber(row.requestsPerCpuS),
    formatNumber(row.p50Ms, 2),
    formatNumber(row.p99Ms, 2),
    formatNumber(row.cpuMicrosPerRequest, 1),
    row.variant === 'bare' ? '–' : formatNumber(row.addedCpuMicros, 1),
    formatRatio(row.cpuVsBare),
    formatRatio(row.cpuVsVanilla),
    row.variant === 'bare' ? '–' : formatNumber(row.spansPerRequest, 2),
    row.variant === 'bare' ? '–' : formatNumber(row.flatOutSpansPerRequest, 2),
  ]);
}

function formatPercent(share) {
  return Number.isFinite(share) ? `${Math.round(share * 100)}%` : '–';
}

/**
 * When the app's first line runs under the variant, and the CPU spent by then (ms), as the
 * process itself measures: an agent's exit-time flushing does not count.
 */
function startupOf(variant, runs) {
  const firstLine = [];
  const cpu = [];
  for (let run = 0; run < runs; run++) {
    const report = execFileSync(
      process.execPath,
      [
        ...variant.args,
        '-e',
        'const u = process.cpuUsage(); process.stdout.write(JSON.stringify([performance.now(), (u.user + u.system) / 1000])); process.exit(0);',
      ],
      { cwd: ROOT, env: { ...withoutTelemetrySettings(process.env), ...variant.env } },
    );
    const [atMs, cpuMs] = JSON.parse(String(report));
    firstLine.push(atMs);
    cpu.push(cpuMs);
  }
  return { firstLineMs: median(firstLine), cpuMs: median(cpu) };
}

/** The collector's `chokepoint_collector_spans_received_total`. */
async function spansReceived(dashboardUrl) {
  const text = await (await fetch(`${dashboardUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find((candidate) => candidate.startsWith('chokepoint_collector_spans_received_total'));
  return Number(line?.split(' ')[1] ?? 0);
}
