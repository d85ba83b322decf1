/**
 * hot_path_cpu — the code that holds a stalled event loop, read from the CPU profiles
 * agents take while their loop stalls (`CHOKEPOINT_PROFILE`, agent/runtime/profiler.ts).
 * Per service, the self time the profiles sampled inside stalls is summed by hot spot:
 * the function the time went to, and when that is Node's or native code, the app's own
 * function that called it (`run` in native code ← `pbkdf2Sync` ← `hashPassword`, src/auth.js).
 * A hot spot fires when it holds `hotPathMinShare` of the sampled stall time, over at least
 * `hotPathMinSampledMs` of it; a node_modules package likewise when none of its functions did
 * (time spread over many of a library's functions). GC time is left to gc_pressure.
 * Impact: the service's estimated blocked time (as event_loop_blocked counts it, and at
 * least the stalls the profiles saw) times the hot spot's share.
 */
import type { FindingCandidate, ProfileFrame, ProfileFunction } from '../../model/index.js';
import type { ReceivedProfile } from '../aggregate/profiles.js';
import type { WindowView } from '../aggregate/window.js';
import { round2 } from './format.js';
import { severityForImpact } from './severity.js';
import type { Detector } from './types.js';

/** Hot spots and packages listed in the evidence for context. */
const TOP_LISTED = 5;
const GC_FRAME = '(garbage collector)';

/** A place in the code, as evidence carries it. */
type Place = Pick<ProfileFrame, 'functionName' | 'url' | 'line'> & { package?: string };

interface HotSpot {
  key: string;
  /** The call to change: the function itself, or the first one above native code. */
  site: Place;
  /** The app's own function the time was spent under, when the site is not the app's. */
  origin?: Place;
  /** Where the samples landed. */
  leaf: Place;
  /** The leaf's heaviest call path, nearest first. */
  callers: Place[];
  selfMs: number;
  heaviestMs: number;
  instances: Set<string>;
}

export const hotPathCpuDetector: Detector = {
  kind: 'hot_path_cpu',
  explain: (config) => ({
    rule:
      `a function (or node_modules package) holding ${config.hotPathMinShare * 100}%+ of the CPU time sampled ` +
      `while the event loop stalled, over ${config.hotPathMinSampledMs}+ ms of samples (agent CPU profiles, CHOKEPOINT_PROFILE)`,
    impact: 'estimated time the event loops were blocked, per minute, times the hot spot’s share',
  }),

  detect(window, config) {
    const candidates: FindingCandidate[] = [];
    for (const [service, profiles] of byService(window.profiles)) {
      const sampledMs = profiles.reduce((sum, { profile }) => sum + profile.sampledMs, 0);
      if (sampledMs < config.hotPathMinSampledMs) continue;
      const spots = hotSpots(profiles);
      const packages = packageTimes(profiles);
      const gcMs = profiles.reduce(
        (sum, { profile }) =>
          sum +
          profile.functions.filter((f) => f.functionName === GC_FRAME).reduce((s, f) => s + f.selfMs, 0),
        0,
      );
      const blockedMsPerMin = blockedPerMinute(window, service, profiles);
      const share = (ms: number) => round2(ms / sampledMs);
      const context = {
        sampledMs: round2(sampledMs),
        stalls: profiles.reduce((sum, { profile }) => sum + profile.stalls, 0),
        stallMs: round2(profiles.reduce((sum, { profile }) => sum + profile.stallMs, 0)),
        profiles: profiles.length,
        instances: [...new Set(profiles.map((p) => p.instanceId))],
        gcShare: share(gcMs),
        maxStartPauseMs: round2(Math.max(...profiles.map(({ profile }) => profile.startPauseMs))),
        blockedMsPerMin: round2(blockedMsPerMin),
        hotSpots: spots.slice(0, TOP_LISTED).map((spot) => ({
          ...spot.site,
          ...(spot.origin ? { origin: spot.origin } : {}),
          selfMs: round2(spot.selfMs),
          share: share(spot.selfMs),
        })),
        packages: packages
          .slice(0, TOP_LISTED)
          .map((pkg) => ({ ...pkg, selfMs: round2(pkg.selfMs), share: share(pkg.selfMs) })),
      };

      const fired = spots.filter((spot) => spot.selfMs / sampledMs >= config.hotPathMinShare);
      for (const spot of fired) {
        const impact = blockedMsPerMin * (spot.selfMs / sampledMs);
        candidates.push({
          kind: 'hot_path_cpu',
          service,
          key: spot.key,
          title: `CPU hot path in ${service}: ${describeSpot(spot)} holds ${percent(spot.selfMs / sampledMs)} of stalled time`,
          severity: severityForImpact(impact),
          impact: round2(impact),
          evidence: {
            ...spot.site,
            ...(spot.origin ? { origin: spot.origin } : {}),
            leaf: spot.leaf,
            callers: spot.callers,
            selfMs: round2(spot.selfMs),
            share: share(spot.selfMs),
            hotInstances: [...spot.instances],
            ...context,
          },
        });
      }
      const coveredPackages = new Set(
        fired
          .flatMap((spot) => [spot.site.package, spot.leaf.package])
          .map((name) => name && packageName(name)),
      );
      for (const pkg of packages) {
        if (pkg.selfMs / sampledMs < config.hotPathMinShare || coveredPackages.has(pkg.name)) continue;
        const impact = blockedMsPerMin * (pkg.selfMs / sampledMs);
        candidates.push({
          kind: 'hot_path_cpu',
          service,
          key: `package ${pkg.name}`,
          title: `CPU hot path in ${service}: package ${pkg.name} holds ${percent(pkg.selfMs / sampledMs)} of stalled time`,
          severity: severityForImpact(impact),
          impact: round2(impact),
          evidence: {
            package: pkg.name,
            versions: pkg.versions,
            selfMs: round2(pkg.selfMs),
            share: share(pkg.selfMs),
            ...context,
          },
        });
      }
    }
    return candidates;
  },
};

function byService(profiles: readonly ReceivedProfile[]): Map<string, ReceivedProfile[]> {
  const services = new Map<string, ReceivedProfile[]>();
  for (const received of profiles) {
    const list = services.get(received.service);
    if (list) list.push(received);
    else services.set(received.service, [received]);
  }
  return services;
}

/** Self time summed by hot spot over every profile, largest first. */
function hotSpots(profiles: readonly ReceivedProfile[]): HotSpot[] {
  const spots = new Map<string, HotSpot>();
  for (const { instanceId, profile } of profiles) {
    for (const fn of profile.functions) {
      if (fn.functionName === GC_FRAME) continue;
      const { site, origin } = locate(fn);
      const key = origin ? `${placeKey(site)} ← ${placeKey(origin)}` : placeKey(site);
      let spot = spots.get(key);
      if (!spot) {
        spot = {
          key,
          site,
          origin,
          leaf: place(fn),
          callers: [],
          selfMs: 0,
          heaviestMs: -1,
          instances: new Set(),
        };
        spots.set(key, spot);
      }
      spot.selfMs += fn.selfMs;
      spot.instances.add(instanceId);
      if (fn.selfMs > spot.heaviestMs) {
        spot.heaviestMs = fn.selfMs;
        spot.leaf = place(fn);
        spot.callers = fn.callers.map(place);
      }
    }
  }
  return [...spots.values()].sort((a, b) => b.selfMs - a.selfMs);
}

/**
 * The call to change and the app code it runs under: native code (no file) is named by
 * its first caller with one; Node's or a package's code, by the first app frame above it.
 */
function locate(fn: ProfileFunction): { site: Place; origin?: Place } {
  const frames: ProfileFrame[] = [fn, ...fn.callers];
  const site = frames.find((frame) => frame.url !== '') ?? fn;
  if (isAppCode(site)) return { site: place(site) };
  const origin = frames.slice(frames.indexOf(site) + 1).find(isAppCode);
  return origin ? { site: place(site), origin: place(origin) } : { site: place(site) };
}

function isAppCode(frame: ProfileFrame): boolean {
  return frame.url !== '' && !frame.url.startsWith('node:') && frame.package === undefined;
}

function place(frame: ProfileFrame): Place {
  const { functionName, url, line } = frame;
  return frame.package === undefined
    ? { functionName, url, line }
    : { functionName, url, line, package: frame.package };
}

function placeKey(frame: Place): string {
  return frame.url ? `${frame.functionName} ${frame.url}:${frame.line}` : frame.functionName;
}

/** `pbkdf2Sync called from hashPassword (src/auth.js:12)`, `fib (src/math.js:3)` */
function describeSpot(spot: HotSpot): string {
  const at = (frame: Place) =>
    frame.url ? `${frame.functionName} (${frame.url}:${frame.line})` : frame.functionName;
  return spot.origin ? `${spot.site.functionName} called from ${at(spot.origin)}` : at(spot.site);
}

/** `express@4.21.2` → `express`, `@acme/parser@2.0.0` → `@acme/parser` */
function packageName(nameAtVersion: string): string {
  const at = nameAtVersion.lastIndexOf('@');
  return at > 0 ? nameAtVersion.slice(0, at) : nameAtVersion;
}

/** Self time by package name (versions merged), largest first. */
function packageTimes(profiles: readonly ReceivedProfile[]) {
  const byName = new Map<string, { name: string; selfMs: number; versions: string[] }>();
  for (const { profile } of profiles) {
    for (const { name: full, selfMs } of profile.packages) {
      const name = packageName(full);
      const entry = byName.get(name) ?? { name, selfMs: 0, versions: [] };
      entry.selfMs += selfMs;
      const version = full.slice(name.length + 1);
      if (version && !entry.versions.includes(version)) entry.versions.push(version);
      byName.set(name, entry);
    }
  }
  return [...byName.values()].sort((a, b) => b.selfMs - a.selfMs);
}

/** The profiled instances' blocked time per minute, and at least the stalls their profiles saw. */
function blockedPerMinute(window: WindowView, service: string, profiles: readonly ReceivedProfile[]): number {
  const instances = new Set(profiles.map((p) => p.instanceId));
  const blockedMs = window.runtimes
    .filter((stats) => stats.service === service && instances.has(stats.instanceId))
    .reduce((sum, stats) => sum + stats.blockedMs, 0);
  const stallMs = profiles.reduce((sum, { profile }) => sum + profile.stallMs, 0);
  return Math.max(blockedMs, stallMs) / window.minutes;
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}
