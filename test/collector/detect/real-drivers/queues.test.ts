/**
 * queue_lag on real traffic: amqplib against the real RabbitMQ and BullMQ against the real
 * Redis, in an app under the built agent that carries each message's publish time to its
 * consumer. (kafkajs has no broker here: its shape is covered by the hand-built fixtures.)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../../../../model/index.js';
import { killApps } from '../../../support/agent-process.js';
import { describeWithServices } from '../../../support/services.js';
import { type CollectorRun, startCollectorRun } from './collector-run.js';

const MESSAGES = 50;

await describeWithServices(['rabbitmq', 'redis'], 'queue lag from real amqplib and BullMQ spans', () => {
  let run: CollectorRun;
  let findings: Finding[];
  let all: Finding[];

  beforeAll(async () => {
    run = await startCollectorRun('test/collector/detect/fixtures/apps/queue-app.js', {
      service: 'orders',
      env: { QUEUE_SUFFIX: String(process.pid) },
    });
    const post = async (path: string) => expect((await fetch(run.appUrl + path)).status).toBe(200);
    // Published in one burst: 50 messages × 40 ms for a single consumer is a 2 s backlog.
    await Promise.all(
      Array.from({ length: MESSAGES }, () => Promise.all([post('/checkout'), post('/enqueue')])),
    );
    for (let i = 0; i < 10; i++) await post('/audit');
    const deadline = Date.now() + 15_000;
    for (;;) {
      const consumed = (await (await fetch(`${run.appUrl}/stats`)).json()) as Record<string, number>;
      if (consumed.orders === MESSAGES && consumed.jobs === MESSAGES && consumed.audit === 10) break;
      if (Date.now() > deadline)
        throw new Error(`messages not consumed in time: ${JSON.stringify(consumed)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await run.finish();
    all = await run.findings();
    findings = all.filter((finding) => finding.kind === 'queue_lag');
  });

  afterAll(async () => {
    killApps();
    await run?.close();
  });

  it('finds the RabbitMQ queue with one slow consumer, sized by Little’s law, advising prefetch', () => {
    const orders = findings.find((finding) => finding.key === 'rabbitmq orders-{id}');
    expect(orders?.evidence).toMatchObject({ system: 'rabbitmq', consumed: MESSAGES });
    expect(Number(orders?.evidence.lagP95Ms)).toBeGreaterThan(1_000);
    expect(Number(orders?.evidence.processingMeanMs)).toBeGreaterThanOrEqual(40);
    expect(Number(orders?.evidence.consumersNeeded)).toBeGreaterThanOrEqual(1);
    expect(orders?.recommendation.code).toMatch(/^await channel\.prefetch\(\d+\);/);
  });

  it('finds the BullMQ queue with a worker of concurrency 1, advising concurrency', () => {
    const jobs = findings.find((finding) => finding.key === 'bullmq jobs-{id}');
    expect(jobs?.evidence).toMatchObject({ system: 'bullmq', consumed: MESSAGES });
    expect(Number(jobs?.evidence.lagP95Ms)).toBeGreaterThan(1_000);
    expect(jobs?.recommendation.code).toContain("new Worker('jobs-{id}', processJob");
  });

  it('does not judge BullMQ’s own Redis commands as a cache', () => {
    expect(all.filter((finding) => finding.kind === 'cache_hit_ratio')).toEqual([]);
  });

  it('leaves the queue whose consumer keeps up alone', () => {
    expect(findings.map((finding) => finding.key).sort()).toEqual([
      'bullmq jobs-{id}',
      'rabbitmq orders-{id}',
    ]);
  });
});
