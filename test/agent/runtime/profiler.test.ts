import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import inspector from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../../agent/config.js';
import {
  createHotPathProfiler,
  type HotPathProfiler,
  summarizeProfile,
  type V8Profile,
} from '../../../agent/runtime/profiler.js';
import type { RuntimeSample } from '../../../model/runtime.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Holds the loop with arithmetic only, so the profile's self time lands in this function. */
function burnCpu(ms: number): number {
  const end = Date.now() + ms;
  let x = 1;
  while (true) {
    for (let i = 0; i < 20_000; i++) x = (x * 31 + i) % 1_000_003;
    if (Date.now() >= end) return x;
  }
}

function runtimeSample(lag: Partial<RuntimeSample['eventLoopLag']> = {}): RuntimeSample {
  return {
    service: 'shop',
    instanceId: 'web-1:42',
    timeMs: 1_700_000_000_000,
    intervalMs: 10_000,
    eventLoopLag: { minMs: 9.8, meanMs: 10.3, p50Ms: 10.2, p90Ms: 10.5, p99Ms: 11, maxMs: 12, ...lag },
    gc: { count: 0, pauseMs: 0, maxPauseMs: 0, byKind: {} },
    memory: { rssBytes: 80e6, heapUsedBytes: 20e6, heapTotalBytes: 40e6, externalBytes: 1e6 },
    cpu: { userMs: 100, systemMs: 10 },
  };
}

const STALLED = { maxMs: 260 };

const frame = (functionName: string, url = '', lineNumber = -1) => ({
  functionName,
  url,
  lineNumber,
  columnNumber: 0,
  scriptId: '0',
});

describe('summarizeProfile', () => {
  const cwd = '/srv/app';
  const options = {
    startMs: 1_700_000_000_000,
    startPauseMs: 31.5,
    offsetUs: 0,
    samplingIntervalUs: 1000,
    topFunctions: 10,
    cwd,
    home: '/home/dev',
  };

  /**
   * root → handler (app) → hashPassword (app) → pbkdf2Sync (node) → run (native),
   * root → handler → fib → fib (recursion), root → (idle), root → (garbage collector).
   */
  function profile(samples: number[], deltaUs = 1000): V8Profile {
    return {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 7, 8] },
        { id: 2, callFrame: frame('handler', 'file:///srv/app/src/server.js', 9), children: [3, 5] },
        { id: 3, callFrame: frame('hashPassword', 'file:///srv/app/src/auth.js', 11), children: [4] },
        { id: 4, callFrame: frame('pbkdf2Sync', 'node:internal/crypto/pbkdf2', 44), children: [9] },
        { id: 5, callFrame: frame('fib', '/srv/app/src/math.js', 0), children: [6] },
        { id: 6, callFrame: frame('fib', '/srv/app/src/math.js', 0) },
        { id: 7, callFrame: frame('(idle)') },
        { id: 8, callFrame: frame('(garbage collector)') },
        { id: 9, callFrame: frame('run') },
      ],
      startTime: 5_000_000,
      endTime: 5_000_000 + samples.length * deltaUs,
      samples,
      timeDeltas: samples.map(() => deltaUs),
    };
  }

  it('leaves the agent’s own wrappers out of callers, naming the app function that made the call', () => {
    const agentDir = '/srv/app/node_modules/chokepoint/dist/agent';
    const summary = summarizeProfile(
      {
        nodes: [
          { id: 1, callFrame: frame('(root)'), children: [2] },
          { id: 2, callFrame: frame('findOrders', 'file:///srv/app/src/orders.js', 20), children: [3] },
          {
            id: 3,
            callFrame: frame('applyTraced', `${agentDir}/instrumentations/better-sqlite3/utils.js`, 46),
            children: [4],
          },
          { id: 4, callFrame: frame('all') },
        ],
        startTime: 0,
        endTime: 4000,
        samples: [4, 4, 4, 3],
        timeDeltas: [1000, 1000, 1000, 1000],
      },
      [{ startUs: 0, endUs: 10_000 }],
      { ...options, agentDir },
    );
    expect(summary.functions.map((f) => [f.functionName, f.callers.map((c) => c.functionName)])).toEqual([
      ['all', ['findOrders']],
      // The wrapper's own time is still counted, where it is spent.
      ['applyTraced', ['findOrders']],
    ]);
  });

  it('sums self and total time by function inside the stalls only, with the heaviest callers', () => {
    // 10 samples: the first three before the stall, the last one after it.
    const summary = summarizeProfile(
      profile([7, 7, 5, 9, 9, 9, 6, 6, 8, 5]),
      [{ startUs: 5_003_500, endUs: 5_009_500 }],
      options,
    );
    expect(summary).toMatchObject({
      startMs: options.startMs,
      durationMs: 10,
      samplingIntervalUs: 1000,
      stalls: 1,
      stallMs: 6,
      // The last sample in the stall stands for the half millisecond left of it.
      sampledMs: 5.5,
      startPauseMs: 31.5,
      packages: [],
    });
    expect(summary.functions.map((f) => [f.functionName, f.selfMs, f.totalMs])).toEqual([
      ['run', 3, 3],
      // Recursion counts once per sample in total time.
      ['fib', 2, 2],
      ['(garbage collector)', 0.5, 0.5],
    ]);
    expect(summary.functions[0]).toEqual({
      functionName: 'run',
      url: '',
      line: 0,
      selfMs: 3,
      totalMs: 3,
      callers: [
        { functionName: 'pbkdf2Sync', url: 'node:internal/crypto/pbkdf2', line: 45 },
        { functionName: 'hashPassword', url: 'src/auth.js', line: 12 },
        { functionName: 'handler', url: 'src/server.js', line: 10 },
      ],
    });
  });

  it('counts a sample for two sampling intervals at most: a longer gap is the process not running', () => {
    const summary = summarizeProfile(
      profile([9, 6, 9], 30_000),
      [{ startUs: 5_000_000, endUs: 5_100_000 }],
      options,
    );
    expect(summary.functions.map((f) => [f.functionName, f.selfMs])).toEqual([
      // 2 ms, then 1 ms for the last sample, which has no next one.
      ['run', 3],
      ['fib', 2],
    ]);
  });

  it('counts nothing outside stalls, and never the idle loop', () => {
    expect(summarizeProfile(profile([9, 9, 9]), [], options)).toMatchObject({
      sampledMs: 0,
      functions: [],
    });
    const idle = summarizeProfile(profile([7, 7, 7]), [{ startUs: 5_000_000, endUs: 5_004_000 }], options);
    expect(idle).toMatchObject({ sampledMs: 0, functions: [] });
  });

  it('lines the profile clock up with the stalls’ clock', () => {
    const summary = summarizeProfile(profile([9, 9, 6, 6]), [{ startUs: 1_500, endUs: 3_500 }], {
      ...options,
      offsetUs: -5_000_000,
    });
    expect(summary.functions.map((f) => [f.functionName, f.selfMs])).toEqual([
      ['run', 1],
      ['fib', 0.5],
    ]);
  });

  it('names node_modules packages with their version, shortens home paths and long names, keeps no inline source', () => {
    const root = mkdtempSync(join(tmpdir(), 'chokepoint-profile-'));
    const lodash = join(root, 'node_modules', 'lodash');
    const scoped = join(root, 'node_modules', '@acme', 'parser');
    mkdirSync(lodash, { recursive: true });
    mkdirSync(scoped, { recursive: true });
    writeFileSync(join(lodash, 'package.json'), '{"name":"lodash","version":"4.17.21"}');
    writeFileSync(join(scoped, 'package.json'), '{"name":"@acme/parser","version":"2.0.0"}');
    const long = 'x'.repeat(300);
    const summary = summarizeProfile(
      {
        nodes: [
          { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 5, 6] },
          { id: 2, callFrame: frame('cloneDeep', `file://${lodash}/lodash.js`, 99) },
          { id: 3, callFrame: frame('parse', `${scoped}/lib/index.js`, 0) },
          { id: 4, callFrame: frame('', '/home/dev/tools/script.js', 4) },
          { id: 5, callFrame: frame(long, '/opt/other/file.js', 1) },
          {
            id: 6,
            callFrame: frame(
              'inline',
              'data:text/javascript,const secret = "s3cr3t"; export function inline() {}',
              0,
            ),
          },
        ],
        startTime: 0,
        endTime: 8000,
        samples: [2, 2, 2, 3, 3, 4, 5, 6],
        timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
      },
      [{ startUs: 0, endUs: 10_000 }],
      { ...options, cwd: root },
    );
    expect(summary.packages).toEqual([
      { name: 'lodash@4.17.21', selfMs: 3 },
      { name: '@acme/parser@2.0.0', selfMs: 2 },
    ]);
    expect(summary.functions.map(({ functionName, url, package: pkg }) => [functionName, url, pkg])).toEqual([
      ['cloneDeep', 'node_modules/lodash/lodash.js', 'lodash@4.17.21'],
      ['parse', 'node_modules/@acme/parser/lib/index.js', '@acme/parser@2.0.0'],
      ['(anonymous)', '~/tools/script.js', undefined],
      [`${'x'.repeat(119)}…`, '/opt/other/file.js', undefined],
      ['inline', 'data:', undefined],
    ]);
  });

  it('keeps at most the top functions asked for, and never more than 20', () => {
    const nodes: V8Profile['nodes'] = [
      { id: 1, callFrame: frame('(root)'), children: Array.from({ length: 30 }, (_, i) => i + 2) },
      ...Array.from({ length: 30 }, (_, i) => ({ id: i + 2, callFrame: frame(`f${i}`, '/srv/app/a.js', i) })),
    ];
    const samples = nodes.slice(1).flatMap((node, i) => Array.from({ length: 30 - i }, () => node.id));
    const input = { nodes, startTime: 0, endTime: 1e6, samples, timeDeltas: samples.map(() => 100) };
    const stalls = [{ startUs: 0, endUs: 1e6 }];
    expect(
      summarizeProfile(input, stalls, { ...options, topFunctions: 3 }).functions.map((f) => f.functionName),
    ).toEqual(['f0', 'f1', 'f2']);
    expect(summarizeProfile(input, stalls, { ...options, topFunctions: 50 }).functions).toHaveLength(20);
  });
});

describe('createHotPathProfiler', () => {
  let profiler: HotPathProfiler | undefined;
  afterEach(() => {
    profiler?.stop();
    vi.restoreAllMocks();
  });

  it('profiles the stalls that follow a stalled sample and attaches the summary to the next sample', async () => {
    const warnings: string[] = [];
    profiler = createHotPathProfiler({
      durationMs: 700,
      onWarning: (w) => warnings.push(w),
      cwd: process.cwd(),
    });
    // The first sample is start-up: it never starts a profile, however late the loop was.
    expect(profiler.observe(runtimeSample(STALLED)).cpuProfile).toBeUndefined();
    const stalled = runtimeSample(STALLED);
    expect(profiler.observe(stalled)).toBe(stalled);
    for (let i = 0; i < 4; i++) {
      await sleep(40);
      burnCpu(60);
    }
    await sleep(900);
    const { cpuProfile } = profiler.observe(runtimeSample());
    expect(warnings).toEqual([]);
    expect(cpuProfile?.stalls).toBeGreaterThanOrEqual(3);
    // How many samples land depends on the machine's load; what they name does not.
    expect(cpuProfile?.sampledMs).toBeGreaterThan(0);
    const [top] = cpuProfile?.functions ?? [];
    expect(top?.functionName).toBe('burnCpu');
    expect(top?.url).toMatch(/^test\/agent\/runtime\/profiler\.test\.ts$/);
    expect(top?.selfMs).toBeGreaterThan((cpuProfile?.sampledMs ?? 0) / 2);
    expect(top?.totalMs).toBeGreaterThanOrEqual(top?.selfMs ?? 0);
    expect(cpuProfile?.startPauseMs).toBeGreaterThan(0);
    // On three samples in a row, in case one is lost; the cooldown keeps another stalled
    // sample from starting a profile.
    expect(profiler.observe(runtimeSample(STALLED)).cpuProfile).toBe(cpuProfile);
    burnCpu(60);
    await sleep(900);
    expect(profiler.observe(runtimeSample()).cpuProfile).toBe(cpuProfile);
    expect(profiler.observe(runtimeSample()).cpuProfile).toBeUndefined();
  });

  it('sends nothing for a profile that saw no stall, and starts none on a healthy loop or a large heap', async () => {
    const starts = vi.spyOn(inspector.Session.prototype, 'connect');
    // No tick can count as late: the window sees no stall, however busy the machine.
    profiler = createHotPathProfiler({ durationMs: 200, maxHeapBytes: 100e6, stallMs: 60_000 });
    profiler.observe(runtimeSample());
    profiler.observe(runtimeSample({ p50Ms: 19, maxMs: 100 }));
    profiler.observe({
      ...runtimeSample(STALLED),
      memory: { ...runtimeSample().memory, heapUsedBytes: 200e6 },
    });
    expect(starts).not.toHaveBeenCalled();
    // A busy loop: median 10 ms beyond the resolution.
    profiler.observe(runtimeSample({ p50Ms: 20 }));
    expect(starts).toHaveBeenCalledTimes(1);
    await sleep(400);
    expect(profiler.observe(runtimeSample(STALLED)).cpuProfile).toBeUndefined();
    // Retried only after `retryMs`.
    expect(starts).toHaveBeenCalledTimes(1);
  });

  it('stops a running profile at once and closes its session', async () => {
    const disconnect = vi.spyOn(inspector.Session.prototype, 'disconnect');
    profiler = createHotPathProfiler({ durationMs: 300 });
    profiler.observe(runtimeSample());
    profiler.observe(runtimeSample(STALLED));
    burnCpu(80);
    expect(disconnect).not.toHaveBeenCalled();
    profiler.stop();
    expect(disconnect).toHaveBeenCalledTimes(1);
    await sleep(500);
    expect(profiler.observe(runtimeSample()).cpuProfile).toBeUndefined();
  });

  it('sends the profile whose start held the loop too long, then turns itself off', async () => {
    const warnings: string[] = [];
    profiler = createHotPathProfiler({
      durationMs: 300,
      cooldownMs: 0,
      maxStartPauseMs: 0,
      onWarning: (w) => warnings.push(w),
    });
    profiler.observe(runtimeSample());
    profiler.observe(runtimeSample(STALLED));
    await sleep(20);
    burnCpu(60);
    await sleep(400);
    expect(profiler.observe(runtimeSample(STALLED)).cpuProfile?.stalls).toBeGreaterThanOrEqual(1);
    expect(warnings).toEqual([
      expect.stringMatching(/^CPU profiles off: starting one held the event loop \d+ ms$/),
    ]);
    const starts = vi.spyOn(inspector.Session.prototype, 'connect');
    profiler.observe(runtimeSample(STALLED));
    expect(starts).not.toHaveBeenCalled();
  });

  it('turns itself off with one warning when the inspector fails, and never throws into the app', () => {
    vi.spyOn(inspector.Session.prototype, 'connect').mockImplementation(() => {
      throw new Error('inspector unavailable');
    });
    const warnings: string[] = [];
    profiler = createHotPathProfiler({ onWarning: (w) => warnings.push(w) });
    profiler.observe(runtimeSample());
    const stalled = runtimeSample(STALLED);
    expect(profiler.observe(stalled)).toBe(stalled);
    expect(profiler.observe(runtimeSample(STALLED))).toMatchObject({ service: 'shop' });
    expect(warnings).toEqual(['CPU profiles off: inspector unavailable']);
  });
});

describe('CHOKEPOINT_PROFILE', () => {
  const profile = (env: Record<string, string>, options = {}) => resolveConfig(options, env);

  it('is on by default, off by default in production, and on or off when told', () => {
    expect(profile({}).config.profile).toBe(true);
    expect(profile({ NODE_ENV: 'production' }).config.profile).toBe(false);
    expect(profile({ NODE_ENV: 'production', CHOKEPOINT_PROFILE: 'on' }).config.profile).toBe(true);
    expect(profile({ NODE_ENV: 'production', CHOKEPOINT_PROFILE: 'auto' }).config.profile).toBe(false);
    expect(profile({ CHOKEPOINT_PROFILE: 'off' }).config.profile).toBe(false);
    expect(profile({ CHOKEPOINT_PROFILE: 'off' }, { profile: true }).config.profile).toBe(true);
  });

  it('warns about a bad value and keeps the default', () => {
    const { config, warnings } = profile({ CHOKEPOINT_PROFILE: 'sometimes' });
    expect(config.profile).toBe(true);
    expect(warnings).toEqual(['ignoring CHOKEPOINT_PROFILE=sometimes: expected on, off or auto']);
  });
});
