import { describe, expect, it } from 'vitest';
import { eventLoopBlockedDetector } from '../../../collector/detect/event-loop-blocked.js';
import { gcPressureDetector } from '../../../collector/detect/gc-pressure.js';
import { recommend } from '../../../collector/recommend/index.js';
import { runDetector } from '../../support/detect-harness.js';
import {
  busyLoop,
  heavyGc,
  idleProcess,
  moderateGc,
  oneBadInstance,
  repeatedStalls,
  singleStall,
} from './fixtures/runtime.js';

describe('event_loop_blocked detector', () => {
  it('fires on a loop whose median delay passes 10 ms beyond the resolution', () => {
    const [finding, ...rest] = runDetector(eventLoopBlockedDetector, [], {}, busyLoop());
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      kind: 'event_loop_blocked',
      service: 'api',
      key: 'event_loop',
      title: 'Event loop blocked in api: delays up to 80 ms, median 25 ms',
      evidence: {
        medianDelayMs: expect.closeTo(25, 0),
        maxDelayMs: 80,
        blockedInstances: 1,
        worstInstance: 'host-a:101',
      },
    });
    // Each 10 s interval: readings 28 ms late on average, each a 10 ms timer period after the last,
    // so 10 000 × 28 / 38 ms blocked; six intervals in the minute of data.
    expect((finding?.impact ?? 0) / ((6 * 10_000 * 28) / 38)).toBeCloseTo(1, 1);
  });

  it('fires on long stalls that come back, not on a single one or on an idle loop’s timer jitter', () => {
    const [stalls] = runDetector(eventLoopBlockedDetector, [], {}, repeatedStalls());
    expect(stalls?.evidence).toMatchObject({ maxDelayMs: 250, medianDelayMs: expect.closeTo(0.2, 1) });
    expect(stalls?.title).toBe('Event loop blocked in api: delays up to 250 ms');
    expect(runDetector(eventLoopBlockedDetector, [], {}, singleStall())).toEqual([]);
    const [single] = runDetector(eventLoopBlockedDetector, [], { eventLoopMinStalls: 1 }, singleStall());
    // However little the mean moved, the loop was blocked at least for its one 250 ms stall.
    expect(single?.impact).toBeGreaterThanOrEqual(250);
    expect(runDetector(eventLoopBlockedDetector, [], {}, idleProcess())).toEqual([]);
  });

  it('judges instances apart and reports the service once, worst instance first', () => {
    const findings = runDetector(eventLoopBlockedDetector, [], {}, oneBadInstance());
    expect(findings).toHaveLength(1);
    const instances = findings[0]?.evidence.instances as Array<{ instanceId: string }>;
    expect(instances.map((i) => i.instanceId)).toEqual(['host-b:202', 'host-a:101']);
    expect(findings[0]?.evidence.blockedInstances).toBe(1);
  });

  it('follows the configured thresholds', () => {
    expect(
      runDetector(eventLoopBlockedDetector, [], { eventLoopMedianMs: 30, eventLoopMaxMs: 100 }, busyLoop()),
    ).toEqual([]);
    expect(runDetector(eventLoopBlockedDetector, [], { eventLoopMaxMs: 300 }, repeatedStalls())).toEqual([]);
  });

  it('recommends a CPU profile and worker threads', () => {
    const [finding] = runDetector(eventLoopBlockedDetector, [], {}, busyLoop());
    const rec = recommend(finding as NonNullable<typeof finding>);
    expect(rec.detail).toContain('node --cpu-prof');
    expect(rec.code).toContain("require('node:worker_threads')");
  });
});

describe('gc_pressure detector', () => {
  it('fires when collection blocks 100+ ms per second, with heap and pause evidence', () => {
    const [finding] = runDetector(gcPressureDetector, [], {}, heavyGc());
    expect(finding).toMatchObject({
      kind: 'gc_pressure',
      key: 'gc',
      title: 'GC pressure in api: up to 150 ms of pauses per second',
      evidence: { worstMsPerSecond: 150, maxPauseMs: 180, heapUsedMaxMb: 700 },
    });
    const [instance] = (finding?.evidence.instances ?? []) as Array<Record<string, unknown>>;
    expect(instance).toMatchObject({ gcCount: 240, pauseMsByKind: { major: 7_200, minor: 1_800 } });
    // 6 intervals × 1.5 s of pauses: 9 000 ms of GC over the minute of data.
    expect((finding?.impact ?? 0) / 9_000).toBeCloseTo(1, 1);
    expect(recommend(finding as NonNullable<typeof finding>).code).toContain('--max-old-space-size=1536');
  });

  it('stays silent on moderate collection, unless the threshold is lowered', () => {
    expect(runDetector(gcPressureDetector, [], {}, moderateGc())).toEqual([]);
    expect(runDetector(gcPressureDetector, [], { gcMsPerSecond: 30 }, moderateGc())).toHaveLength(1);
    expect(runDetector(gcPressureDetector, [], {}, idleProcess())).toEqual([]);
  });
});
