/**
 * gc_pressure — garbage collection blocks a process for `gcMsPerSecond` or more per
 * second in some sampling interval (Clinic Doctor's threshold: 100 ms in a second).
 * Pauses stop the event loop like synchronous code does, and heavy collection means
 * the process allocates faster than it should or runs short of heap.
 * Impact is the time spent paused in GC, per minute.
 */
import type { FindingCandidate } from '../../model/index.js';
import { topLabels } from '../aggregate/stats.js';
import { byService } from './event-loop-blocked.js';
import { round2 } from './format.js';
import { severityForImpact } from './severity.js';
import type { Detector } from './types.js';

const MIB = 1024 * 1024;

export const gcPressureDetector: Detector = {
  kind: 'gc_pressure',
  explain: (config) => ({
    rule: `a process whose garbage collection pauses add up to ${config.gcMsPerSecond}+ ms per second in a sampling interval`,
    impact: 'time spent paused in garbage collection, per minute',
  }),

  detect(window, config) {
    const candidates: FindingCandidate[] = [];
    for (const [service, instances] of byService(window.runtimes)) {
      const rows = instances.map((stats) => ({
        instanceId: stats.instanceId,
        gcCount: stats.gcCount,
        gcPauseMsPerMin: round2(stats.gcPauseMs / window.minutes),
        gcMsPerSecond: stats.intervalMs > 0 ? round2((stats.gcPauseMs * 1000) / stats.intervalMs) : 0,
        worstMsPerSecond: round2(stats.gcWorstMsPerSecond),
        maxPauseMs: round2(stats.gcMaxPauseMs),
        pauseMsByKind: Object.fromEntries(
          topLabels(stats.gcPauseMsByKind).map(({ label, count }) => [label, round2(count)]),
        ),
        heapUsedMaxMb: round2(stats.heapUsedMaxBytes / MIB),
        rssMaxMb: round2(stats.rssMaxBytes / MIB),
      }));
      const pressed = rows.filter((row) => row.worstMsPerSecond >= config.gcMsPerSecond);
      if (pressed.length === 0) continue;
      const worst = pressed.reduce((a, b) => (b.worstMsPerSecond > a.worstMsPerSecond ? b : a));
      const impact = instances.reduce((sum, stats) => sum + stats.gcPauseMs, 0) / window.minutes;
      candidates.push({
        kind: 'gc_pressure',
        service,
        key: 'gc',
        title: `GC pressure in ${service}: up to ${Math.round(worst.worstMsPerSecond)} ms of pauses per second`,
        severity: severityForImpact(impact),
        impact: round2(impact),
        evidence: {
          instances: rows.sort((a, b) => b.worstMsPerSecond - a.worstMsPerSecond),
          pressedInstances: pressed.length,
          worstMsPerSecond: worst.worstMsPerSecond,
          maxPauseMs: Math.max(...rows.map((row) => row.maxPauseMs)),
          heapUsedMaxMb: worst.heapUsedMaxMb,
          worstInstance: worst.instanceId,
        },
      });
    }
    return candidates;
  },
};
