/**
 * The CPU profile summaries agents send with their runtime samples (`cpuProfile`), kept
 * in memory per process for the detection window and read by hot_path_cpu. They are not
 * bucketed or stored: an agent sends at most one every few minutes, summaries do not merge
 * into a sketch, and only detection reads them — after a collector restart the finding
 * waits for the next profiles.
 */
import type { CpuProfileSummary, RuntimeSample } from '../../model/index.js';

/** One summary, with the process and the bucket it arrived in. */
export interface ReceivedProfile {
  service: string;
  instanceId: string;
  /** Start of the bucket of the sample that carried it. */
  bucketStartMs: number;
  profile: CpuProfileSummary;
}

/**
 * The latest summaries of each process, oldest first, each once (agents repeat a summary on
 * a few samples in a row).
 *
 * @example
 * const profiles = new RecentProfiles();
 * profiles.add(sample, bucketStartMs);
 * profiles.within(fromMs, toMs); // [{ service: 'shop', instanceId: 'web-1:42', bucketStartMs, profile }]
 */
export class RecentProfiles {
  private readonly byInstance = new Map<string, ReceivedProfile[]>();

  /** @param maxPerInstance an hour of one profile per five minutes */
  constructor(private readonly maxPerInstance = 12) {}

  add(sample: RuntimeSample, bucketStartMs: number): void {
    const profile = sample.cpuProfile;
    if (!profile) return;
    const id = `${sample.service}\u0000${sample.instanceId}`;
    let list = this.byInstance.get(id);
    if (!list) {
      list = [];
      this.byInstance.set(id, list);
    }
    // Agents send each summary with a few samples in a row, in case one is lost.
    if (list.some((received) => received.profile.startMs === profile.startMs)) return;
    list.push({
      service: sample.service,
      instanceId: sample.instanceId,
      bucketStartMs,
      profile,
    });
    if (list.length > this.maxPerInstance) list.splice(0, list.length - this.maxPerInstance);
  }

  /** Summaries that arrived in buckets starting in [fromMs, toMs). */
  within(fromMs: number, toMs: number): ReceivedProfile[] {
    const found: ReceivedProfile[] = [];
    for (const list of this.byInstance.values()) {
      for (const received of list) {
        if (received.bucketStartMs >= fromMs && received.bucketStartMs < toMs) found.push(received);
      }
    }
    return found.sort((a, b) => a.bucketStartMs - b.bucketStartMs);
  }

  prune(beforeMs: number): void {
    for (const [id, list] of this.byInstance) {
      const kept = list.filter((received) => received.bucketStartMs >= beforeMs);
      if (kept.length === 0) this.byInstance.delete(id);
      else this.byInstance.set(id, kept);
    }
  }
}
