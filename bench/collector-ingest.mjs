/**
 * Collector ingest: spans per second through `POST /v1/traces` of a collector child process
 * (`chokepoint collector`, one Node process, so one core for the pipeline), fed protobuf
 * batches of 512 spans from the SDK's serializer (bench/lib/span-workload.mjs) over
 * keep-alive connections. The floor is the decode-only rate of the same bodies in this
 * process: what the hand-written protobuf decoder alone costs. Afterwards the collector's
 * RSS (and its peak) says what holding 1M spans over 10k fingerprints costs in memory.
 *
 * Where the time goes, stage by stage, is measured in this process on the first 300k spans:
 * decode; decode + normalise; + assemble; and the whole pipeline (SQLite store, a detection
 * tick every 200k spans: every 2 s at 100k spans/s). CHOKEPOINT_BENCH_PROFILE=1 also runs
 * the collector under `--cpu-prof` and prints its share of samples by stage.
 *
 * On a shared machine wall-clock rates move with the load, so CPU time is measured too: the
 * collector's main thread (the ingest thread; the store writes on a thread of its own) from
 * /proc, and this process's CPU for the decode-only floor and the stage rows.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TraceAssembler } from '../dist/collector/assemble/trace-assembler.js';
import { normalizeSpan } from '../dist/collector/normalize/index.js';
import { Pipeline } from '../dist/collector/pipeline.js';
import { decodeProtobufTraceRequest } from '../dist/collector/receive/otlp-protobuf.js';
import { SqliteStore } from '../dist/collector/store/sqlite-store.js';
import { startNode } from './lib/children.mjs';
import { summarizeProfile } from './lib/profile.mjs';
import { buildWorkload } from './lib/span-workload.mjs';
import { ratio } from './lib/stats.mjs';
import { formatNumber, formatRatio } from './lib/table.mjs';

const ROOT = join(import.meta.dirname, '..');

/** From the last request to the memory read (see where it is used). */
const SETTLE_MS = 5_000;

export const ingestTargets = {
  spansPerSecond: 100_000,
  /** Ingest rate as a share of the decode-only rate. */
  shareOfDecodeOnly: 0.5,
  rssMB: 300,
};

/**
 * @example
 * const result = await benchCollectorIngest({ spans: 1_000_000 });
 */
export async function benchCollectorIngest({
  spans: wanted = 1_000_000,
  fingerprints = 10_000,
  concurrency = 4,
  profile = process.env.CHOKEPOINT_BENCH_PROFILE === '1',
} = {}) {
  const buildStart = performance.now();
  const workload = buildWorkload({ spans: wanted, fingerprints });
  const buildSeconds = (performance.now() - buildStart) / 1000;
  const decodeOnly = decodeRate(workload.bodies);
  const stages = stageCosts(workload.bodies.slice(0, Math.ceil(300_000 / 512)));

  const workDir = mkdtempSync(join(tmpdir(), 'chokepoint-bench-ingest-'));
  const profileDir = join(workDir, 'profile');
  const collector = await startNode(
    [
      ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      'dist/cli/main.js',
      'collector',
      '--port',
      '0',
      '--otlp-port',
      '0',
      '--db',
      join(workDir, 'ingest.db'),
    ],
    { cwd: ROOT, ready: /otlp listening on (\S+)[\s\S]*dashboard listening on (\S+)/ },
  );
  const [, otlpUrl, dashboardUrl] = collector.match;
  let result;
  try {
    const before = processCpuMicros(collector.pid);
    const mainBefore = processCpuMicros(collector.pid, collector.pid);
    const sendStart = performance.now();
    const rejected = await sendAll(`${otlpUrl}/v1/traces`, workload.bodies, concurrency);
    const seconds = (performance.now() - sendStart) / 1000;
    const cpuSeconds = (processCpuMicros(collector.pid) - before) / 1e6;
    const mainCpuSeconds = (processCpuMicros(collector.pid, collector.pid) - mainBefore) / 1e6;
    // Let detection ticks and writes to SQLite happen on what was ingested, then read memory. The
    // collector gives back what the burst grew once ingest has been quiet for a second (at the
    // next 2 s tick, 1-3 s after the last request; the release itself takes up to ~0.5 s): read
    // after that, so the figure is the settled one, not a race with it. The peak is read too.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const memory = processMemory(collector.pid);
    const health = await fetch(`${dashboardUrl}/api/health`);
    result = {
      spans: workload.spans,
      requests: workload.bodies.length,
      bytesPerSpan: workload.bytes / workload.spans,
      buildSeconds,
      seconds,
      spansPerSecond: workload.spans / seconds,
      spansPerCpuSecond: workload.spans / cpuSeconds,
      spansPerMainThreadCpuSecond: workload.spans / mainCpuSeconds,
      decodeOnlySpansPerSecond: decodeOnly.spansPerSecond,
      decodeOnlySpansPerCpuSecond: decodeOnly.spansPerCpuSecond,
      shareOfDecodeOnly: ratio(workload.spans / seconds, decodeOnly.spansPerSecond),
      cpuShareOfDecodeOnly: ratio(workload.spans / mainCpuSeconds, decodeOnly.spansPerCpuSecond),
      rssMB: memory.rssMB,
      peakRssMB: memory.peakRssMB,
      rejected,
      healthyAfter: health.ok,
      stages,
    };
  } finally {
    await collector.stop();
  }
  if (profile) {
    const file = join(profileDir, readdirSync(profileDir)[0]);
    result.profile = summarizeProfile(file, {
      inclusive: {
        'receive: read body': /^readBody /,
        'receive: decode': /^decodeProtobufTraceRequest /,
        normalize: /^normalizeSpan /,
        'normalize: SQL fingerprint': /^identifySql /,
        'assemble: add': /^add .*trace-assembler/,
        'assemble: trace index': /^(entryOf|labelOf|get|children) .*assemble\/trace\.js/,
        'detect per trace': /^inspectTrace /,
        'aggregate: record': /^record .*aggregate/,
        'tick: detect window': /^view .*aggregate|^detect .*detect\//,
        'tick: store findings': /^upsertFindings |^updateLifecycle /,
        'tick: write buckets': /^writeBuckets /,
        'tick: all': /^tick .*pipeline/,
        'garbage collector': /^\(garbage collector\)/,
      },
    });
  }
  rmSync(workDir, { recursive: true, force: true });
  return summarize(result, { wanted, fingerprints, concurrency });
}

function summarize(result, settings) {
  const notes = [`workload built in ${result.buildSeconds.toFixed(1)} s by the SDK serializer (not timed)`];
  if (result.rejected > 0) notes.push(`${result.rejected} requests were refused`);
  if (!result.healthyAfter) notes.push('the collector did not answer /api/health after ingest');
  if (result.profile) {
    for (const [label, part] of Object.entries(result.profile.inclusive)) {
      notes.push(`profile: ${label} ${(part.share * 100).toFixed(1)}% of the collector's samples`);
    }
  }
  return {
    name: 'collector-ingest',
    title: `Collector ingest: ${formatNumber(result.spans)} spans in protobuf batches of 512 over ${settings.fingerprints.toLocaleString('en-US')} fingerprints, ${settings.concurrency} requests in flight`,
    settings,
    result,
    notes,
    targets: [
      {
        what: 'ingest rate',
        target: `≥ ${formatNumber(ingestTargets.spansPerSecond)} spans/s`,
        measured: `${formatNumber(result.spansPerSecond)} spans/s`,
        met: result.spansPerSecond >= ingestTargets.spansPerSecond,
      },
      {
        what: 'ingest ÷ decode-only',
        target: `≥ ${ingestTargets.shareOfDecodeOnly}×`,
        measured: formatRatio(result.shareOfDecodeOnly),
        met: result.shareOfDecodeOnly >= ingestTargets.shareOfDecodeOnly,
      },
      {
        what: 'collector RSS after ingest',
        target: `≤ ${ingestTargets.rssMB} MB`,
        measured: `${formatNumber(result.rssMB)} MB`,
        met: result.rssMB <= ingestTargets.rssMB,
      },
    ],
    headers: ['measure', 'value'],
    cells: [
      ['ingest, spans/s (wall clock)', formatNumber(result.spansPerSecond)],
      ['ingest, spans per collector CPU-second (all threads)', formatNumber(result.spansPerCpuSecond)],
      ['ingest, spans per main-thread CPU-second', formatNumber(result.spansPerMainThreadCpuSecond)],
      ['decode only, spans/s (floor)', formatNumber(result.decodeOnlySpansPerSecond)],
      ['decode only, spans per CPU-second', formatNumber(result.decodeOnlySpansPerCpuSecond)],
      ['ingest ÷ decode only (wall clock)', formatRatio(result.shareOfDecodeOnly)],
      ['ingest ÷ decode only (main-thread CPU ÷ CPU)', formatRatio(result.cpuShareOfDecodeOnly)],
      ['bytes per span (protobuf)', formatNumber(result.bytesPerSpan)],
      [`collector RSS ${SETTLE_MS / 1000} s after the last request, MB`, formatNumber(result.rssMB)],
      ['collector peak RSS, MB', formatNumber(result.peakRssMB)],
      ...result.stages.map((stage) => [
        `in process: ${stage.name}, CPU µs/span (+ over the previous)`,
        `${formatNumber(stage.micros, 2)} (+${formatNumber(stage.addedMicros, 2)})`,
      ]),
    ],
  };
}

/**
 * Spans per second, and per CPU-second, the decoder alone reaches on these bodies (after one
 * warm-up pass over a tenth).
 */
function decodeRate(bodies) {
  for (const body of bodies.slice(0, Math.ceil(bodies.length / 10))) decodeProtobufTraceRequest(body);
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let spans = 0;
  for (const body of bodies) spans += decodeProtobufTraceRequest(body).length;
  const seconds = (performance.now() - start) / 1000;
  return { spansPerSecond: spans / seconds, spansPerCpuSecond: spans / cpuSeconds(cpuStart) };
}

function cpuSeconds(since) {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1e6;
}

/**
 * CPU per span of each stage, run cumulatively in this process (after a warm-up pass), so each
 * stage's own cost is its difference with the one before.
 */
function stageCosts(bodies) {
  const spanCount = bodies.reduce((sum, body) => sum + decodeProtobufTraceRequest(body).length, 0);
  const tickEvery = 200_000;
  const workDir = mkdtempSync(join(tmpdir(), 'chokepoint-bench-stages-'));
  const stages = [
    ['decode', () => () => {}],
    ['+ normalise', () => (spans) => spans.map(normalizeSpan)],
    [
      '+ assemble',
      () => {
        const assembler = new TraceAssembler();
        let now = Date.now();
        let sinceTick = 0;
        return (spans) => {
          now += spans.length / 100;
          assembler.add(spans.map(normalizeSpan), now);
          sinceTick += spans.length;
          if (sinceTick >= tickEvery) {
            sinceTick = 0;
            assembler.drainReady(now);
          }
        };
      },
    ],
    [
      '+ detect, aggregate, store (whole pipeline)',
      (round) => {
        const store = new SqliteStore(join(workDir, `stages-${round}.db`));
        let now = Date.now();
        let sinceTick = 0;
        const pipeline = new Pipeline(store, { onError: (message) => console.error(message) }, () => now);
        return (spans, last) => {
          now += spans.length / 100;
          pipeline.ingest(spans);
          sinceTick += spans.length;
          if (sinceTick >= tickEvery || last) {
            sinceTick = 0;
            pipeline.tick();
          }
          if (last) store.close();
        };
      },
    ],
  ];
  try {
    let previous = 0;
    return stages.map(([name, build]) => {
      const timed = [0, 1].map((round) => {
        const step = build(round);
        const start = process.cpuUsage();
        for (let i = 0; i < bodies.length; i++) {
          step(decodeProtobufTraceRequest(bodies[i]), i === bodies.length - 1);
        }
        return (cpuSeconds(start) * 1e6) / spanCount;
      });
      const micros = timed[1];
      const stage = { name, micros, addedMicros: micros - previous };
      previous = micros;
      return stage;
    });
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** POSTs every body, `concurrency` at a time; resolves with how many were not answered 200. */
async function sendAll(url, bodies, concurrency) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  let rejected = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const status = await post(url, body, agent);
      if (status !== 200) rejected++;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return rejected;
}

function post(url, body, agent) {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/x-protobuf', 'content-length': body.byteLength },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** User + system CPU of a process, or of one of its threads (the main thread's id is the pid), from /proc (Linux). */
function processCpuMicros(pid, thread) {
  const path = thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`;
  const fields = readFileSync(path, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks / 100) * 1e6;
}

function processMemory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMB: kib('VmRSS') / 1024, peakRssMB: kib('VmHWM') / 1024 };
}
