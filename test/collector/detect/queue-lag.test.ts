import { describe, expect, it } from 'vitest';
import { queueLagDetector } from '../../../collector/detect/queue-lag.js';
import { recommend } from '../../../collector/recommend/index.js';
import { runDetector } from '../../support/detect-harness.js';
import { backloggedQueue, consumesWithoutPublishTime, growingLag, risingButTiny } from './fixtures/queues.js';

describe('queue_lag detector', () => {
  it('fires on a queue whose messages wait past the threshold, with the rates Little’s law needs', () => {
    const findings = runDetector(queueLagDetector, backloggedQueue());
    expect(findings).toHaveLength(1);
    const [finding] = findings;
    expect(finding).toMatchObject({
      kind: 'queue_lag',
      service: 'worker',
      key: 'rabbitmq orders',
      evidence: {
        system: 'rabbitmq',
        destination: 'orders',
        consumed: 120,
        processingMeanMs: 400,
        growing: false,
      },
    });
    expect(finding?.title).toMatch(/^Queue orders \(rabbitmq\): messages wait 2\.\d s at p95$/);
    const evidence = (finding?.evidence ?? {}) as Record<string, number>;
    expect(evidence.lagP50Ms).toBeGreaterThan(2_500);
    expect(evidence.lagP95Ms).toBeLessThan(2_620);
    // 120 published by the API in the minute of data, 0.4 s each: 2/s × 0.4 s = 0.8 consumers busy.
    expect(evidence.arrivalPerMin).toBeCloseTo(120, 0);
    expect(evidence.completionPerMin).toBeCloseTo(120, 0);
    expect(evidence.busyConsumers).toBeCloseTo(0.8, 1);
    expect(evidence.consumersNeeded).toBe(1);
    expect(finding?.p95Ms).toBe(evidence.lagP95Ms);
  });

  it('fires on a wait that rose over three consecutive minutes before it reaches the threshold', () => {
    const [finding] = runDetector(queueLagDetector, growingLag());
    expect(finding?.evidence.growing).toBe(true);
    expect(finding?.title).toMatch(/, and rising$/);
    expect(
      ((finding?.evidence.lagTrend ?? []) as Array<{ lagP95Ms: number }>).map(
        (p) => Math.round(p.lagP95Ms / 10) * 10,
      ),
    ).toEqual([240, 390, 690]);
  });

  it('stays silent on short waits, tiny rises, and messages without a publish time', () => {
    expect(runDetector(queueLagDetector, backloggedQueue({ lagMs: 50 }))).toEqual([]);
    expect(runDetector(queueLagDetector, risingButTiny())).toEqual([]);
    expect(runDetector(queueLagDetector, consumesWithoutPublishTime())).toEqual([]);
  });

  it('follows the configured thresholds', () => {
    expect(runDetector(queueLagDetector, backloggedQueue({ lagMs: 50 }), { queueLagMs: 100 })).toHaveLength(
      1,
    );
    expect(runDetector(queueLagDetector, growingLag(), { queueLagGrowthBuckets: 4 })).toEqual([]);
  });

  it('recommends the concurrency knob of each library, sized from the evidence', () => {
    const advice = (system: string) => {
      const [finding] = runDetector(queueLagDetector, backloggedQueue({ system, destination: 'jobs' }));
      return recommend(finding as NonNullable<typeof finding>);
    };
    const rabbit = advice('rabbitmq');
    expect(rabbit.summary).toMatch(/^Consume jobs with \d+ messages in flight: channel\.prefetch\(n\)$/);
    expect(rabbit.code).toMatch(/^await channel\.prefetch\(\d+\);/);
    expect(rabbit.detail).toContain("Little's law");
    expect(advice('bullmq').code).toMatch(
      /new Worker\('jobs', processJob, \{ connection, concurrency: \d+ \}\)/,
    );
    expect(advice('kafka').code).toMatch(/partitionsConsumedConcurrently: \d+/);
  });
});
