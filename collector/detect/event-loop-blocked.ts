/**
 * event_loop_blocked — a process whose event loop runs late: the median delay of its
 * sampling intervals reaches `eventLoopMedianMs`, or delays reach `eventLoopMaxMs`
 * (Clinic Doctor's thresholds) in `eventLoopMinStalls` intervals or more — a single
 * stall is as likely start-up or the process being preempted on a busy host. While the
 * loop is blocked, every request, timer and reply in that process waits. Judged per
 * instance, reported per service with its instances. Impact is the estimated time the
 * loops were blocked, per minute.
 */
import type { FindingCandidate } from '../../model/index.js';
import type { RuntimeStats } from '../aggregate/stats.js';
import { formatMs, round2 } from './format.js';
import { severityForImpact } from './severity.js';
import type { DetectionConfig, Detector } from './types.js';

export const eventLoopBlockedDetector: Detector = {
  kind: 'event_loop_blocked',
  explain: (config) => ({
    rule:
      `a process whose median event-loop delay reaches ${config.eventLoopMedianMs} ms, ` +
      `or whose delay reaches ${config.eventLoopMaxMs} ms in ${config.eventLoopMinStalls}+ sampling intervals`,
    impact: 'estimated time the event loops were blocked, per minute',
  }),

  detect(window, config) {
    const candidates: FindingCandidate[] = [];
    for (const [service, instances] of byService(window.runtimes)) {
      const rows = instances.map((stats) => ({
        instanceId: stats.instanceId,
        samples: stats.samples,
        medianDelayMs: round2(stats.delayP50.quantile(0.5)),
        maxDelayMs: round2(stats.maxDelayMs),
        stalled: stalledEnough(stats, config),
        blockedMsPerMin: round2(stats.blockedMs / window.minutes),
        cpuMsPerMin: round2(stats.cpuMs / window.minutes),
      }));
      const blocked = rows.filter((row) => row.medianDelayMs >= config.eventLoopMedianMs || row.stalled);
      if (blocked.length === 0) continue;
      const worst = blocked.reduce((a, b) => (b.maxDelayMs > a.maxDelayMs ? b : a));
      const impact = instances.reduce((sum, stats) => sum + stats.blockedMs, 0) / window.minutes;
      const median = Math.max(...blocked.map((row) => row.medianDelayMs));
      candidates.push({
        kind: 'event_loop_blocked',
        service,
        key: 'event_loop',
        title: `Event loop blocked in ${service}: delays up to ${formatMs(worst.maxDelayMs)}${median >= config.eventLoopMedianMs ? `, median ${formatMs(median)}` : ''}`,
        severity: severityForImpact(impact),
        impact: round2(impact),
        evidence: {
          instances: rows.sort((a, b) => b.maxDelayMs - a.maxDelayMs),
          blockedInstances: blocked.length,
          medianDelayMs: median,
          maxDelayMs: worst.maxDelayMs,
          worstInstance: worst.instanceId,
        },
      });
    }
    return candidates;
  },
};

/** True when at least `eventLoopMinStalls` intervals' largest delays reach `eventLoopMaxMs`. */
function stalledEnough(stats: RuntimeStats, config: DetectionConfig): boolean {
  const needed = config.eventLoopMinStalls;
  if (stats.samples < needed) return false;
  // The needed-th largest per-interval maximum, read from their sketch (±1%).
  const rank = stats.samples === 1 ? 1 : (stats.samples - needed) / (stats.samples - 1);
  return stats.delayMax.quantile(rank) >= config.eventLoopMaxMs;
}

/** Runtime statistics grouped by service, instances in the order they came. */
export function byService(runtimes: RuntimeStats[]): Map<string, RuntimeStats[]> {
  const services = new Map<string, RuntimeStats[]>();
  for (const stats of runtimes) {
    const list = services.get(stats.service);
    if (list) list.push(stats);
    else services.set(stats.service, [stats]);
  }
  return services;
}
