import { describe, expect, it } from 'vitest';
import { runtimeRoutes } from '../../../collector/receive/runtime-http.js';
import type { CpuProfileSummary, RuntimeSample } from '../../../model/index.js';

function cpuProfile(fields: Record<string, unknown> = {}): CpuProfileSummary {
  return {
    startMs: 1_700_000_000_000,
    durationMs: 2000,
    samplingIntervalUs: 1000,
    stalls: 4,
    stallMs: 620,
    sampledMs: 540,
    startPauseMs: 31.2,
    functions: [
      {
        functionName: 'run',
        url: '',
        line: 0,
        selfMs: 480,
        totalMs: 480,
        callers: [
          { functionName: 'pbkdf2Sync', url: 'node:internal/crypto/pbkdf2', line: 44 },
          { functionName: 'hashPassword', url: 'src/auth.js', line: 12 },
        ],
      },
      {
        functionName: 'parse',
        url: 'node_modules/qs/lib/parse.js',
        line: 230,
        package: 'qs@6.13.0',
        selfMs: 30,
        totalMs: 35,
        callers: [],
      },
    ],
    packages: [{ name: 'qs@6.13.0', selfMs: 30 }],
    ...fields,
  } as CpuProfileSummary;
}

function sample(profile: unknown): Record<string, unknown> {
  return {
    service: 'api',
    instanceId: 'host-a:4242',
    timeMs: 1_700_000_000_000,
    intervalMs: 10_000,
    eventLoopLag: { minMs: 9.8, meanMs: 30, p50Ms: 10.2, p90Ms: 10.6, p99Ms: 300, maxMs: 320 },
    gc: { count: 3, pauseMs: 4.5, maxPauseMs: 2, byKind: {} },
    memory: { rssBytes: 1e8, heapUsedBytes: 4e7, heapTotalBytes: 6e7, externalBytes: 1e6 },
    cpu: { userMs: 120, systemMs: 15 },
    cpuProfile: profile,
  };
}

async function post(profile: unknown): Promise<{ status: number; body: unknown; received: RuntimeSample[] }> {
  const received: RuntimeSample[] = [];
  const app = runtimeRoutes({ onSamples: (samples) => received.push(...samples) });
  const response = await app.request('/v1/runtime', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ samples: [sample(profile)] }),
  });
  return { status: response.status, body: await response.json(), received };
}

describe('POST /v1/runtime with a CPU profile summary', () => {
  it('accepts it and keeps only the known fields', async () => {
    const withExtra = cpuProfile();
    (withExtra.functions[0] as unknown as Record<string, unknown>).source = 'function run() { … }';
    const { status, received } = await post(withExtra);
    expect(status).toBe(200);
    expect(received[0]?.cpuProfile).toEqual(cpuProfile());
    expect(received[0]?.cpuProfile?.functions[0]).not.toHaveProperty('source');
  });

  it.each([
    ['a negative time', { sampledMs: -1 }, 'samples[0].cpuProfile.sampledMs: expected a number ≥ 0, got -1'],
    [
      'functions not a list',
      { functions: 'run' },
      'samples[0].cpuProfile.functions: expected an array, got "run"',
    ],
    [
      'too many functions',
      { functions: Array.from({ length: 21 }, () => cpuProfile().functions[1]) },
      'samples[0].cpuProfile.functions: expected at most 20 items, got 21',
    ],
    [
      'a fractional line',
      { functions: [{ ...cpuProfile().functions[1], line: 1.5 }] },
      'samples[0].cpuProfile.functions[0].line: expected an integer ≥ 0, got 1.5',
    ],
    [
      'a long url',
      { functions: [{ ...cpuProfile().functions[1], url: 'x'.repeat(300) }] },
      `samples[0].cpuProfile.functions[0].url: expected a string of at most 256 characters, got "${'x'.repeat(39)}…`,
    ],
    [
      'an empty caller name',
      { functions: [{ ...cpuProfile().functions[0], callers: [{ functionName: '', url: '', line: 0 }] }] },
      'samples[0].cpuProfile.functions[0].callers[0].functionName: expected a non-empty string of at most 256 characters, got ""',
    ],
    [
      'a package without its time',
      { packages: [{ name: 'qs' }] },
      'samples[0].cpuProfile.packages[0].selfMs: expected a number ≥ 0, got nothing',
    ],
  ])('refuses %s with 400 naming the field', async (_label, fields, reason) => {
    const { status, body, received } = await post(cpuProfile(fields));
    expect(status).toBe(400);
    expect(body).toEqual({ error: reason });
    expect(received).toEqual([]);
  });

  it('keeps no inline source: a data: URL is cut to its scheme', async () => {
    const inline = { functionName: 'f', url: 'data:text/javascript,const key = "k3y"', line: 1 };
    const { status, received } = await post(
      cpuProfile({ functions: [{ ...inline, selfMs: 1, totalMs: 1, callers: [inline] }] }),
    );
    expect(status).toBe(200);
    expect(JSON.stringify(received)).not.toContain('k3y');
    expect(received[0]?.cpuProfile?.functions[0]?.callers[0]?.url).toBe('data:');
  });

  it('refuses a profile that is not an object', async () => {
    const { status, body } = await post([1, 2]);
    expect(status).toBe(400);
    expect(body).toEqual({ error: 'samples[0].cpuProfile: expected an object, got [1,2]' });
  });
});
