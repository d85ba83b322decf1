/**
 * Hot-path CPU profiles: when a runtime sample shows the event loop stalling (the
 * event_loop_blocked thresholds: longest delay ≥ 100 ms or median ≥ 10 ms beyond the
 * 10 ms resolution), the agent takes a short V8 CPU profile through an in-process
 * inspector session and sends what it sampled *during stalls* — functions by self time,
 * with the callers they were reached through, and node_modules packages — with the next
 * runtime sample. Raw profiles never leave the process; neither do source text or
 * argument values: function names, file paths relative to the app, lines. The summary rides
 * on the next `copies` samples, so one sample lost on its way costs nothing; the collector
 * keeps one copy.
 *
 * What it can and cannot catch: a synchronous block holds the very thread a profile would
 * be started from, so a profile always starts after a sample reported a stall, and sees the
 * stalls that come back while it runs (`durationMs`). A one-off stall is missed by design;
 * stalls that repeat are the ones worth a finding. A short timer watches the loop while the
 * profile runs, so only samples taken while a tick was late count, not the work between.
 *
 * What it costs (bench/hot-path-profiler.mjs, a shared 2-core machine): nothing between
 * profiles — no session is kept open. Starting one holds the loop while V8 logs the compiled
 * code: 23–78 ms in a process of 2 000 functions, 63–254 ms with 20 000, 0.27–1 s with 20 000
 * and a 200 MB heap. So no profile starts above `maxHeapBytes`, the first sample (start-up)
 * never starts one, the pause is reported (`startPauseMs`), and a pause over
 * `maxStartPauseMs` turns profiling off once that profile is sent. While a profile runs, V8's
 * sampling costs 25–35 µs of CPU per request of a small route at 2 ms (about 45 µs at 1 ms);
 * stopping it and summarising take 5–50 ms. At most one profile that saw stalls is sent per
 * `cooldownMs`, and a profile that saw none waits `retryMs`. Every failure of the
 * inspector turns profiling off with one warning; nothing is ever thrown into the app.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CpuProfileSummary, ProfileFrame, ProfileFunction, RuntimeSample } from '../../model/runtime.js';
import { describeError } from '../warn.js';
import { EVENT_LOOP_RESOLUTION_MS } from './sampler.js';

export interface HotPathProfilerOptions {
  /** How long a profile runs. */
  durationMs: number;
  /** Least time between two profiles that saw stalls. */
  cooldownMs: number;
  /** Least time before trying again after a profile that saw no stall. */
  retryMs: number;
  /** V8's sampling interval, in microseconds. */
  samplingIntervalUs: number;
  /** Period of the timer that watches the loop while a profile runs. */
  watchIntervalMs: number;
  /** A watch tick this much later than its period marks a stall. */
  stallMs: number;
  /** A sample starts a profile when its longest event-loop delay reaches this beyond the resolution… */
  triggerMaxMs: number;
  /** …or its median delay reaches this beyond the resolution. */
  triggerMedianMs: number;
  /** The sampler's event-loop histogram resolution, which every reading includes. */
  resolutionMs: number;
  /** No profile starts above this heap: starting one walks the heap while the loop waits. */
  maxHeapBytes: number;
  /** A start that held the loop longer than this turns profiling off after that profile. */
  maxStartPauseMs: number;
  /** Most functions in a summary (at most 20). */
  topFunctions: number;
  /** Samples that carry each summary: a sample the collector never got would lose it (the collector keeps one). */
  copies: number;
  /** Paths are made relative to this directory. */
  cwd: string;
  /** Paths under this directory (outside `cwd`) become `~/…`. */
  home: string;
  /**
   * The agent's own code: its wrappers stand between the app and the driver calls they
   * trace, so they are left out of callers, and the app's function that made the call is named.
   */
  agentDir: string;
  /** Told once when profiling turns itself off, and of each profile when debugging. */
  onWarning: (message: string) => void;
  debug: boolean;
  now: () => number;
}

export const defaultHotPathProfilerOptions: HotPathProfilerOptions = {
  durationMs: 2_000,
  cooldownMs: 5 * 60_000,
  retryMs: 60_000,
  // Less CPU than 1 ms while profiling (bench/hot-path-profiler.mjs), still 50 samples per 100 ms stall.
  samplingIntervalUs: 2_000,
  watchIntervalMs: 10,
  stallMs: 20,
  triggerMaxMs: 100,
  triggerMedianMs: 10,
  resolutionMs: EVENT_LOOP_RESOLUTION_MS,
  maxHeapBytes: 128 * 1024 * 1024,
  maxStartPauseMs: 250,
  topFunctions: 10,
  copies: 3,
  cwd: process.cwd(),
  home: homedir(),
  agentDir: join(__dirname, '..'),
  onWarning: () => {},
  debug: false,
  now: Date.now,
};

const MAX_FUNCTIONS = 20;
const MAX_CALLERS = 6;
const MAX_PACKAGES = 10;
const MAX_NAME_LENGTH = 120;
const MAX_URL_LENGTH = 200;
/** V8's pseudo-frames: not code anyone can change (the garbage collector is kept: it is telling). */
const NOT_CODE = new Set(['(root)', '(program)', '(idle)']);

/** The parts of a V8 `Profiler.Profile` the summary reads (node:inspector's shape). */
export interface V8Profile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }>;
  /** Microseconds, on the monotonic clock of `process.hrtime`. */
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** A stretch of the monotonic clock (µs) during which the loop was late. */
export interface Stall {
  startUs: number;
  endUs: number;
}

export interface HotPathProfiler {
  /**
   * Returns the sample with the last finished profile attached (to `copies` samples in a
   * row), and starts a profile when the sample shows the loop stalling. Never throws.
   */
  observe(sample: RuntimeSample): RuntimeSample;
  /** Stops a running profile and closes its session. */
  stop(): void;
}

type InspectorSession = import('node:inspector').Session;

/**
 * Creates the profiler; nothing runs until a sample shows a stall.
 *
 * @example
 * const profiler = createHotPathProfiler({ onWarning: warn });
 * const sample = profiler.observe(await sampler.sample()); // sample.cpuProfile once a profile finished
 * profiler.stop();
 */
export function createHotPathProfiler(options: Partial<HotPathProfilerOptions> = {}): HotPathProfiler {
  const settings = { ...defaultHotPathProfilerOptions, ...options };
  const { now, onWarning } = settings;
  let disabled = false;
  let seenFirstSample = false;
  let nextStartMs = 0;
  let finished: CpuProfileSummary | undefined;
  let copiesLeft = 0;
  let running:
    | { session: InspectorSession; stopTimer: NodeJS.Timeout; watchTimer: NodeJS.Timeout }
    | undefined;

  function turnOff(reason: string): void {
    if (disabled) return;
    disabled = true;
    onWarning(`CPU profiles off: ${reason}`);
  }

  /** Closes the running profile; hands back the session's profile when asked to keep it. */
  function finish(keep: boolean): V8Profile | undefined {
    if (!running) return undefined;
    const { session, stopTimer, watchTimer } = running;
    running = undefined;
    clearTimeout(stopTimer);
    clearInterval(watchTimer);
    let profile: V8Profile | undefined;
    try {
      session.post('Profiler.stop', (error, result) => {
        if (!error && keep) profile = result.profile as V8Profile;
      });
    } finally {
      session.disconnect();
    }
    return profile;
  }

  function start(): void {
    const inspector = require('node:inspector') as typeof import('node:inspector');
    const session = new inspector.Session();
    session.connect();
    // An in-process session answers synchronously; a callback must never throw into the app.
    let failure: Error | undefined;
    const note = (error: Error | null) => {
      failure ??= error ?? undefined;
    };
    session.post('Profiler.enable', note);
    session.post('Profiler.setSamplingInterval', { interval: settings.samplingIntervalUs }, note);
    const startMs = now();
    const beforeUs = monotonicUs();
    session.post('Profiler.start', note);
    if (failure) {
      session.disconnect();
      throw failure;
    }
    // Ticks are watched from here: the pause of starting is the profiler's own, not the app's.
    let lastTickUs = monotonicUs();
    const startPauseMs = (lastTickUs - beforeUs) / 1000;
    const stalls: Stall[] = [];
    const lateUs = (settings.watchIntervalMs + settings.stallMs) * 1000;
    const watchTimer = setInterval(() => {
      const tickUs = monotonicUs();
      if (tickUs - lastTickUs >= lateUs) stalls.push({ startUs: lastTickUs, endUs: tickUs });
      lastTickUs = tickUs;
    }, settings.watchIntervalMs);
    watchTimer.unref();
    const stopTimer = setTimeout(() => {
      try {
        const profile = finish(stalls.length > 0);
        // Already paid for this one: its summary still goes out.
        if (startPauseMs > settings.maxStartPauseMs) {
          turnOff(`starting one held the event loop ${Math.round(startPauseMs)} ms`);
        }
        if (!profile) {
          nextStartMs = now() + settings.retryMs;
          if (settings.debug) onWarning('CPU profile saw no stall; not sent');
          return;
        }
        copiesLeft = settings.copies;
        finished = summarizeProfile(profile, stalls, {
          ...settings,
          startMs,
          startPauseMs,
          // Profile times are on V8's monotonic clock, the stalls on hrtime's: line them up at the start.
          offsetUs: beforeUs - profile.startTime,
        });
        nextStartMs = now() + settings.cooldownMs;
        if (settings.debug) {
          const top = finished.functions[0];
          onWarning(
            `CPU profile: ${finished.stalls} stalls, ${Math.round(finished.sampledMs)} ms sampled` +
              (top ? `, top ${top.functionName} (${top.url}:${top.line}) ${Math.round(top.selfMs)} ms` : ''),
          );
        }
      } catch (error) {
        turnOff(describeError(error));
      }
    }, settings.durationMs);
    stopTimer.unref();
    running = { session, stopTimer, watchTimer };
  }

  return {
    observe(sample) {
      try {
        const attached = finished && copiesLeft > 0 ? { ...sample, cpuProfile: finished } : sample;
        copiesLeft = Math.max(0, copiesLeft - 1);
        const firstSample = !seenFirstSample;
        seenFirstSample = true;
        if (
          !disabled &&
          !running &&
          !firstSample &&
          now() >= nextStartMs &&
          isStalled(sample, settings) &&
          sample.memory.heapUsedBytes <= settings.maxHeapBytes
        ) {
          start();
        }
        return attached;
      } catch (error) {
        try {
          finish(false);
        } catch {
          // Already reported below.
        }
        turnOff(describeError(error));
        return sample;
      }
    },
    stop() {
      try {
        finish(false);
      } catch {
        // Shutting down: nothing left to report to.
      }
    },
  };
}

/** Whether a sample's event-loop readings reach the thresholds that start a profile. */
function isStalled(sample: RuntimeSample, settings: HotPathProfilerOptions): boolean {
  const lag = sample.eventLoopLag;
  return (
    lag.maxMs - settings.resolutionMs >= settings.triggerMaxMs ||
    lag.p50Ms - settings.resolutionMs >= settings.triggerMedianMs
  );
}

function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export interface SummaryOptions {
  startMs: number;
  startPauseMs: number;
  /** Added to profile times to put them on the stalls' clock. */
  offsetUs: number;
  samplingIntervalUs: number;
  topFunctions: number;
  cwd: string;
  home: string;
  /** Frames under this directory (the agent's own) are left out of callers. */
  agentDir?: string;
}

/**
 * Sums what a profile sampled inside the stalls by function and by package. O(samples ×
 * stack depth), on bounded input: a profile of `durationMs` holds at most that many
 * sampling intervals.
 *
 * @example
 * const summary = summarizeProfile(profile, [{ startUs, endUs }], { startMs, startPauseMs: 30, offsetUs: 0, samplingIntervalUs: 1000, topFunctions: 10, cwd, home });
 * summary.functions[0]; // { functionName: 'hashPassword', url: 'src/auth.js', line: 12, selfMs: 412, totalMs: 415, callers: [...] }
 */
export function summarizeProfile(
  profile: V8Profile,
  stalls: readonly Stall[],
  options: SummaryOptions,
): CpuProfileSummary {
  const { nodes } = profile;
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const indexOf = new Map(nodes.map((node, index) => [node.id, index]));
  const parent = new Int32Array(nodes.length).fill(-1);
  nodes.forEach((node, index) => {
    for (const child of node.children ?? []) {
      const at = indexOf.get(child);
      if (at !== undefined) parent[at] = index;
    }
  });
  // Functions are identified by name and position; V8 keeps one node per call path.
  const functionKeys = new Map<string, number>();
  const functionOf = new Int32Array(nodes.length);
  const firstNodeOf: number[] = [];
  nodes.forEach((node, index) => {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const key = `${functionName}\u0000${url}\u0000${lineNumber}\u0000${columnNumber}`;
    let fn = functionKeys.get(key);
    if (fn === undefined) {
      fn = firstNodeOf.length;
      functionKeys.set(key, fn);
      firstNodeOf.push(index);
    }
    functionOf[index] = fn;
  });
  const counted = nodes.map((node) => !NOT_CODE.has(node.callFrame.functionName));
  const agentRoot = options.agentDir === undefined ? undefined : options.agentDir + sep;
  const isCaller = nodes.map(
    (node, index) => counted[index] && !(agentRoot && safeFilePath(node.callFrame.url).startsWith(agentRoot)),
  );
  const selfUs = new Float64Array(firstNodeOf.length);
  const totalUs = new Float64Array(firstNodeOf.length);
  const lastSample = new Int32Array(firstNodeOf.length).fill(-1);
  const nodeSelfUs = new Float64Array(nodes.length);

  let sampledUs = 0;
  let stall = 0;
  let timeUs = profile.startTime + options.offsetUs;
  for (let i = 0; i < samples.length; i++) {
    timeUs += deltas[i] ?? 0;
    const nextUs = i + 1 < samples.length ? timeUs + (deltas[i + 1] ?? 0) : timeUs;
    while (stall < stalls.length && (stalls[stall]?.endUs ?? 0) <= timeUs) stall += 1;
    const current = stalls[stall];
    if (!current || timeUs < current.startUs) continue;
    // A sample stands for the time until the next one, within its stall, and for two sampling
    // intervals at most: a longer gap is the process waiting for a CPU, not running this code.
    const untilUs = Math.min(nextUs, current.endUs, timeUs + 2 * options.samplingIntervalUs);
    const durationUs = Math.max(untilUs - timeUs, 0) || options.samplingIntervalUs;
    const node = indexOf.get(samples[i] ?? -1);
    if (node === undefined || nodes[node]?.callFrame.functionName === '(idle)') continue;
    sampledUs += durationUs;
    if (!counted[node]) continue;
    const own = functionOf[node] ?? 0;
    nodeSelfUs[node] = (nodeSelfUs[node] ?? 0) + durationUs;
    selfUs[own] = (selfUs[own] ?? 0) + durationUs;
    // Total time counts a function once per sample, however deep it recurses.
    for (let at = node; at !== -1; at = parent[at] ?? -1) {
      const fn = functionOf[at] ?? 0;
      if (!counted[at] || lastSample[fn] === i) continue;
      lastSample[fn] = i;
      totalUs[fn] = (totalUs[fn] ?? 0) + durationUs;
    }
  }

  const paths = createPathReader(options.cwd, options.home);
  const frameOf = (index: number): ProfileFrame => paths.frame(nodes[index]?.callFrame);
  // Each function's callers: the call path of its node that ran the longest itself.
  const heaviestNode = new Int32Array(firstNodeOf.length).fill(-1);
  nodes.forEach((_, index) => {
    const fn = functionOf[index] ?? 0;
    const best = heaviestNode[fn] ?? -1;
    if (best === -1 || (nodeSelfUs[index] ?? 0) > (nodeSelfUs[best] ?? 0)) heaviestNode[fn] = index;
  });
  const ranked = [...selfUs.keys()]
    .filter((fn) => (selfUs[fn] ?? 0) > 0)
    .sort((a, b) => (selfUs[b] ?? 0) - (selfUs[a] ?? 0));
  const functions: ProfileFunction[] = ranked
    .slice(0, Math.min(options.topFunctions, MAX_FUNCTIONS))
    .map((fn) => {
      const node = heaviestNode[fn] ?? firstNodeOf[fn] ?? 0;
      const callers: ProfileFrame[] = [];
      for (let at = parent[node] ?? -1; at !== -1 && callers.length < MAX_CALLERS; at = parent[at] ?? -1) {
        if (isCaller[at]) callers.push(frameOf(at));
      }
      return {
        ...frameOf(node),
        selfMs: round(selfUs[fn] ?? 0),
        totalMs: round(totalUs[fn] ?? 0),
        callers,
      };
    });
  const byPackage = new Map<string, number>();
  for (const fn of ranked) {
    const name = frameOf(firstNodeOf[fn] ?? 0).package;
    if (name) byPackage.set(name, (byPackage.get(name) ?? 0) + (selfUs[fn] ?? 0));
  }
  return {
    startMs: options.startMs,
    durationMs: round(profile.endTime - profile.startTime),
    samplingIntervalUs: options.samplingIntervalUs,
    stalls: stalls.length,
    stallMs: round(stalls.reduce((sum, { startUs, endUs }) => sum + (endUs - startUs), 0)),
    sampledMs: round(sampledUs),
    startPauseMs: Math.round(options.startPauseMs * 100) / 100,
    functions,
    packages: [...byPackage]
      .sort((a, b) => b[1] - a[1])
      .slice(0, MAX_PACKAGES)
      .map(([name, us]) => ({ name, selfMs: round(us) })),
  };
}

/** Microseconds → milliseconds, two decimals. */
function round(us: number): number {
  return Math.round(us / 10) / 100;
}

/**
 * Turns V8 call frames into reported frames: paths relative to `cwd` (or `~/…`), the
 * node_modules package and its version (package.json read once per package).
 */
function createPathReader(cwd: string, home: string) {
  const versions = new Map<string, string | undefined>();
  const frames = new Map<string, ProfileFrame>();

  function packageOf(path: string): string | undefined {
    const marker = `${sep}node_modules${sep}`;
    const at = path.lastIndexOf(marker);
    if (at === -1) return undefined;
    const parts = path.slice(at + marker.length).split(sep);
    const name = parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : parts[0];
    if (!name) return undefined;
    const dir = join(path.slice(0, at + marker.length), name);
    if (!versions.has(dir)) versions.set(dir, readVersion(dir));
    const version = versions.get(dir);
    return version ? `${name}@${version}` : name;
  }

  function displayPath(path: string): string {
    const fromCwd = relative(cwd, path);
    if (!fromCwd.startsWith('..') && !isAbsolute(fromCwd)) return fromCwd;
    if (home && home !== sep && path.startsWith(home + sep)) return `~${path.slice(home.length)}`;
    return path;
  }

  return {
    frame(callFrame: V8Profile['nodes'][number]['callFrame'] | undefined): ProfileFrame {
      const functionName = callFrame?.functionName || '(anonymous)';
      const rawUrl = callFrame?.url ?? '';
      const key = `${functionName}\u0000${rawUrl}\u0000${callFrame?.lineNumber}`;
      const known = frames.get(key);
      if (known) return known;
      // A data: URL holds the module's source: only its scheme is kept.
      const path = rawUrl.startsWith('file:')
        ? safeFilePath(rawUrl)
        : rawUrl.startsWith('data:')
          ? 'data:'
          : rawUrl;
      const local = isAbsolute(path);
      const frame: ProfileFrame = {
        functionName: truncate(functionName, MAX_NAME_LENGTH),
        url: truncate(local ? displayPath(path) : path, MAX_URL_LENGTH),
        line: (callFrame?.lineNumber ?? -1) >= 0 ? (callFrame?.lineNumber ?? 0) + 1 : 0,
      };
      const pkg = local ? packageOf(path) : undefined;
      if (pkg) frame.package = truncate(pkg, MAX_NAME_LENGTH);
      frames.set(key, frame);
      return frame;
    },
  };
}

function safeFilePath(url: string): string {
  try {
    return fileURLToPath(url);
  } catch {
    return url;
  }
}

function readVersion(dir: string): string | undefined {
  try {
    const { readFileSync } = require('node:fs') as typeof import('node:fs');
    const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps the end of a long path (the file name) and the start of a long name. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return text.includes(sep) ? `…${text.slice(-(max - 1))}` : `${text.slice(0, max - 1)}…`;
}
