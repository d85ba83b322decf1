/**
 * What the agent benches share: the server they load (bench/overhead/server.js), how each
 * agent is switched on, where each process runs, and how one endpoint is measured.
 *
 * With two CPUs or more and `taskset`, the server gets CPU 1 to itself and everything else
 * (this process with its load generator and OTLP sink, the collector) is pinned to CPU 0:
 * a server's saturated req/s is then what one core gives it, whatever its spans cost the
 * receiving end. Unpinned, a real collector takes its CPU from the server it listens to,
 * and the variant that exports to it is charged for the collector's work. CPU 0 has to keep
 * up in turn: per `/db` request the load generator spends 20–40 µs and the collector 50–60
 * (three spans), measured on the 2-vCPU bench machine, against the server's 60–150; the
 * server's busy share, reported beside its req/s, says when the load side held it back.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { startNode } from '../lib/children.mjs';
import { flatOut, load, serverCpu } from '../lib/load.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
const SERVER = 'bench/overhead/server.js';

export const AGENT = ['--require', 'chokepoint/agent'];
export const VANILLA = ['--require', '@opentelemetry/auto-instrumentations-node/register'];

/**
 * How long either agent holds a partial batch (`OTEL_BSP_SCHEDULE_DELAY`; 5 s by default).
 * Spans per request are counted between two reads of what arrived, each taken after this
 * much and a margin, so a phase's last partial batch is not counted in the next one. At
 * 2 000 req/s a 2 048-span batch fills within about a second either way.
 */
const BATCH_DELAY_MS = 1_000;

/** Chokepoint's agent exporting to `endpoint` (an OTLP/HTTP base URL). */
export function agentEnv(endpoint) {
  return {
    OTEL_SERVICE_NAME: 'bench',
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_BSP_SCHEDULE_DELAY: String(BATCH_DELAY_MS),
  };
}

/** Vanilla OpenTelemetry exporting OTLP/protobuf to `endpoint`. */
export function vanillaEnv(endpoint) {
  return {
    ...agentEnv(endpoint),
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    // The cloud detectors probe metadata endpoints at start; steady state is the same without them.
    OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process',
  };
}

/**
 * Where the processes run: `{ server: '1', others: '0' }` (taskset CPU lists), or
 * `undefined` when the machine has one CPU or no `taskset`.
 */
export function corePlan() {
  if (availableParallelism() < 2) return undefined;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return { server: '1', others: '0' };
}

/**
 * Pins every thread of this process to `cpus`; returns what puts the previous affinity back.
 *
 * @example
 * const unpin = pinThisProcess('0');
 * try { await load(url, options); } finally { unpin(); }
 */
export function pinThisProcess(cpus) {
  const pid = String(process.pid);
  const current = execFileSync('taskset', ['-p', '-c', pid], { encoding: 'utf8' });
  const previous = current.trim().split(': ').at(-1);
  execFileSync('taskset', ['-a', '-p', '-c', cpus, pid], { stdio: 'ignore' });
  return () => execFileSync('taskset', ['-a', '-p', '-c', previous, pid], { stdio: 'ignore' });
}

/**
 * Every variant runs as a production deployment would (`NODE_ENV=production`). Of the three,
 * only Chokepoint's agent reads it: its hot-path profiler is on by default only outside
 * production (a saturated server's event loop looks stalled to it, and 2 s of V8 sampling
 * costs 25–35 µs per request: bench/hot-path-profiler.mjs measures that on its own).
 */
const PRODUCTION = { NODE_ENV: 'production' };

/**
 * Starts the bench server under `args` (an agent's `--require`, or none), on the plan's server
 * CPU, reading Redis on `redisPort` (bench/lib/redis.mjs starts one of the bench's own).
 *
 * @example
 * const server = await startServer({ args: AGENT, env: agentEnv(otlpUrl) }, corePlan());
 * await measureEndpoint(server.url, '/db', { durationS: 5, warmupS: 2, connections: 10, rate: 2000 });
 */
export async function startServer({ args = [], env = {} }, plan, redisPort = 6379) {
  const startedAtMs = performance.now();
  const server = await startNode([...args, SERVER], {
    cwd: ROOT,
    env: { ...PRODUCTION, BENCH_REDIS_PORT: String(redisPort), ...env },
    ready: /listening on (\d+)/,
    taskset: plan?.server,
  });
  return { ...server, url: `http://127.0.0.1:${server.match[1]}`, startedAtMs };
}

/**
 * One endpoint of a running server: a warm-up (then held at `rate` until `steadyFromMs` when given,
 * see `untilSteady`: its CPU per request is returned as `early`), then (with `saturate`) the most
 * req/s the load generator gets (`flatOut`: wrk when the machine has it), how busy the server was meanwhile,
 * what it served per CPU-second and, given `exportedSpans` (what the receiving end counted so
 * far), the spans it exported per request flat out (an SDK whose queue overflows drops spans
 * there, and is cheaper for it); then `rate` req/s with every response timed and the server's
 * CPU per request (user and system, as the server reads its own `process.cpuUsage()`) and the
 * spans exported per request at that rate. CPU is compared at one rate because a saturated
 * server batches its socket writes and wakes the load generator less often: per-request CPU
 * there depends on the throughput itself.
 */
export async function measureEndpoint(
  url,
  path,
  { durationS, warmupS, connections, rate, saturate = true, exportedSpans, steadyFromMs },
) {
  await load(url + path, { durationS: warmupS, connections });
  const early =
    steadyFromMs === undefined
      ? undefined
      : await untilSteady(url, path, steadyFromMs, { connections, rate });
  // Spans still in the agent's queue land within a batch delay: read after it, each side.
  const settle = () => exportedSpans && new Promise((resolve) => setTimeout(resolve, 2 * BATCH_DELAY_MS));
  /** Spans exported per request while `phase` runs (undefined without `exportedSpans`). */
  const spansPer = async (phase) => {
    await settle();
    const spansBefore = await exportedSpans?.();
    const before = await serverCpu(url);
    const run = await phase();
    const after = await serverCpu(url);
    const served = after.served - before.served;
    let spansPerRequest;
    if (exportedSpans) {
      await settle();
      spansPerRequest = ((await exportedSpans()) - spansBefore) / served;
    }
    return { run, before, after, served, spansPerRequest };
  };
  let saturated;
  if (saturate) {
    const { run, before, after, served, spansPerRequest } = await spansPer(() =>
      flatOut(url + path, { durationS, connections }),
    );
    saturated = {
      requestsPerS: run.requests / run.seconds,
      serverBusy: cpuMicros(before, after) / (run.seconds * 1e6),
      // What one core of the server would serve flat out, however much of it the machine gave.
      requestsPerCpuS: served / (cpuMicros(before, after) / 1e6),
      spansPerRequest,
      failed: run.failed,
      by: run.by,
    };
  }
  const {
    run: steady,
    before,
    after,
    served,
    spansPerRequest,
  } = await spansPer(() => load(url + path, { durationS, connections, rate }));
  return {
    saturated,
    early,
    p50Ms: steady.p50Ms,
    p99Ms: steady.p99Ms,
    steadyRequestsPerS: steady.requests / steady.seconds,
    cpuMicrosPerRequest: cpuMicros(before, after) / served,
    userMicrosPerRequest: (after.userMicros - before.userMicros) / served,
    served,
    spansPerRequest,
    rssMB: after.rssBytes / 2 ** 20,
    failed: steady.failed,
  };
}

/**
 * Holds `rate` req/s on `url` until `steadyFromMs` (a `performance.now()` time), and returns the
 * server's CPU per request meanwhile (undefined if that time has passed). An agent's first
 * periodic work lands in a server's first seconds: Chokepoint's first runtime report goes out
 * 10 s after start, and a process's first HTTP requests as a client make V8 drop and rebuild
 * the optimised code its server side shares with them (14–21 deoptimisations between 12 and 22 s
 * under the agent, 2 bare, counted with --trace-deopt). A window that starts sooner measures
 * that once-only warm-up, not the per-request cost; it is reported apart.
 */
async function untilSteady(url, path, steadyFromMs, { connections, rate }) {
  const durationS = Math.ceil((steadyFromMs - performance.now()) / 1000);
  if (durationS <= 0) return undefined;
  const before = await serverCpu(url);
  await load(url + path, { durationS, connections, rate });
  const after = await serverCpu(url);
  return {
    cpuMicrosPerRequest: cpuMicros(before, after) / (after.served - before.served),
    seconds: durationS,
  };
}

function cpuMicros(before, after) {
  return after.userMicros + after.systemMicros - before.userMicros - before.systemMicros;
}
