/**
 * Where the agent's CPU goes on `/db` (on `/ok` with `CHOKEPOINT_BENCH_PATH=/ok`), step by
 * step: the same server at the same fixed rate, with one more part of the agent switched on
 * at each step, so each step's cost is its difference with the one before (median of
 * rounds, variants interleaved):
 *
 *   bare                      no agent
 *   http wrappers             agent, only its http instrumentation, sampler always_off
 *   all wrappers              agent, every instrumentation, sampler always_off
 *   recorded and exported     the agent as shipped: spans recorded, encoded, sent to a sink
 *
 * and three references: vanilla OpenTelemetry; the agent with its http instrumentation
 * swapped for a minimal SERVER span (bench/overhead/lean-http-span.js), the floor for that
 * part; and the agent as shipped with runtime sampling off (`CHOKEPOINT_RUNTIME_INTERVAL_MS=0`),
 * whose difference with the shipped agent is what the runtime sampler costs the requests:
 * its 10 ms event-loop delay timer (in an idle process on the bench VM, 5–7 ms of CPU a
 * second against 0.3 without) and each sample and report (every 10 s, the first 10 s after
 * start: past this bench's 7 s per variant, inside the overhead bench's windows). With
 * CHOKEPOINT_BENCH_PROFILE=1 the shipped agent and bare are also profiled under the same
 * load, and the extra CPU per request is split by package (the agent's own code by folder).
 * Self time only: V8 inlines small functions into their callers, which hides them from any
 * split by caller.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, requireRedis, serverCpu } from './lib/load.mjs';
import { startOtlpSink } from './lib/otlp-sink.mjs';
import { summarizeProfile } from './lib/profile.mjs';
import { median } from './lib/stats.mjs';
import { formatNumber } from './lib/table.mjs';
import { AGENT, agentEnv, measureEndpoint, startServer, VANILLA, vanillaEnv } from './overhead/harness.mjs';

/**
 * @example
 * const result = await benchAgentBreakdown({ rounds: 3 });
 */
export async function benchAgentBreakdown({
  path = process.env.CHOKEPOINT_BENCH_PATH ?? '/db',
  rate = 2_000,
  durationS = 5,
  warmupS = 2,
  rounds = 3,
  profile = process.env.CHOKEPOINT_BENCH_PROFILE === '1',
} = {}) {
  await requireRedis();
  const sink = await startOtlpSink();
  const agentToSink = agentEnv(sink.url);
  const steps = [
    { name: 'bare', args: [], env: {} },
    {
      name: 'http wrappers',
      args: AGENT,
      env: { ...agentToSink, OTEL_TRACES_SAMPLER: 'always_off', OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http' },
    },
    { name: 'all wrappers', args: AGENT, env: { ...agentToSink, OTEL_TRACES_SAMPLER: 'always_off' } },
    { name: 'recorded and exported', args: AGENT, env: agentToSink },
  ];
  const references = [
    {
      name: 'vanilla OpenTelemetry',
      args: VANILLA,
      env: vanillaEnv(sink.url),
    },
    {
      name: 'agent, runtime sampling off',
      args: AGENT,
      env: { ...agentToSink, CHOKEPOINT_RUNTIME_INTERVAL_MS: '0' },
    },
    {
      name: 'agent, lean http span',
      args: [...AGENT, '--require', './bench/overhead/lean-http-span.js'],
      env: { ...agentToSink, OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'http' },
    },
  ];
  const variants = [...steps, ...references];
  const samples = new Map(variants.map((variant) => [variant.name, []]));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const variant of variants) {
        samples.get(variant.name).push(await cpuPerRequest(variant, { path, rate, durationS, warmupS }));
      }
    }
  } finally {
    await sink.close();
  }
  const micros = (name) => median(samples.get(name));
  const bare = micros('bare');
  const rows = [
    ...steps.map((step, i) => ({
      name: step.name,
      micros: micros(step.name),
      stepMicros: i === 0 ? Number.NaN : micros(step.name) - micros(steps[i - 1].name),
      addedMicros: micros(step.name) - bare,
    })),
    ...references.map((reference) => ({
      name: reference.name,
      micros: micros(reference.name),
      stepMicros: Number.NaN,
      addedMicros: micros(reference.name) - bare,
    })),
  ];
  const result = {
    name: 'agent-breakdown',
    title: `Agent CPU on ${path}, part by part, at ${rate} req/s (median of ${rounds} rounds)`,
    settings: { path, rate, durationS, warmupS, rounds },
    rows,
    samples: Object.fromEntries(samples),
    notes: [],
    targets: [],
    headers: ['step', 'CPU µs/req', 'this step µs', 'over bare µs'],
    cells: rows.map((row) => [
      row.name,
      formatNumber(row.micros, 1),
      formatNumber(row.stepMicros, 1),
      row.name === 'bare' ? '–' : formatNumber(row.addedMicros, 1),
    ]),
  };
  if (profile) {
    result.profile = await profileAgent({ path, rate, durationS, agentToSink });
    for (const part of result.profile.slice(0, 12)) {
      result.notes.push(`profile: ${part.name} +${part.micros.toFixed(1)} µs/request`);
    }
  }
  return result;
}

async function cpuPerRequest(variant, { path, rate, durationS, warmupS }) {
  const server = await startServer(variant);
  try {
    const options = { durationS, warmupS, connections: 10, rate, saturate: false };
    return (await measureEndpoint(server.url, path, options)).cpuMicrosPerRequest;
  } finally {
    await server.stop();
  }
}

/**
 * Bare and the shipped agent profiled (V8 CPU profile) during the same fixed-rate load, after a
 * warm-up; the agent's extra self time per request, by package (`(native)` holds syscalls
 * such as socket writes, `node:internal` Node's own JavaScript).
 */
async function profileAgent({ path, rate, durationS, agentToSink }) {
  const dir = mkdtempSync(join(tmpdir(), 'chokepoint-bench-profile-'));
  try {
    const perRequest = {};
    for (const [name, args, env] of [
      ['bare', [], {}],
      ['agent', AGENT, agentToSink],
    ]) {
      const file = join(dir, `${name}.cpuprofile`);
      const server = await startServer({ args, env });
      try {
        const base = server.url;
        await load(base + path, { durationS: 2, connections: 10 });
        const before = await serverCpu(base);
        await fetch(`${base}/__profile/start`);
        await load(base + path, { durationS, connections: 10, rate });
        await fetch(`${base}/__profile/stop?file=${encodeURIComponent(file)}`);
        const served = (await serverCpu(base)).served - before.served;
        const summary = summarizeProfile(file, { top: 1_000 });
        perRequest[name] = new Map(summary.byPackage.map((part) => [part.name, (part.ms * 1000) / served]));
      } finally {
        await server.stop();
      }
    }
    const names = new Set([...perRequest.bare.keys(), ...perRequest.agent.keys()]);
    names.delete('(idle)');
    return [...names]
      .map((name) => ({ name, micros: (perRequest.agent.get(name) ?? 0) - (perRequest.bare.get(name) ?? 0) }))
      .sort((a, b) => b.micros - a.micros);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
