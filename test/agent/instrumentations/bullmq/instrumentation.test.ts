/**
 * BullMQ against the real Redis through the agent's instrumentation: producer and consumer
 * spans, the trace context carried in BullMQ's own telemetry metadata, and the publish
 * time the collector computes queue lag from.
 */
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type * as BullMQ from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  consumerAttributes,
  jobContext,
  withTraceContext,
} from '../../../../agent/instrumentations/bullmq/utils.js';
import { keyPattern } from '../../../../collector/normalize/index.js';
import { SpanKind, type SpanRecord, StatusCode } from '../../../../model/index.js';
import { describeWithServices } from '../../../support/services.js';
import { traceInProcess } from '../../support/in-process.js';

const tracing = traceInProcess(['bullmq']);
const { Queue, Worker }: typeof BullMQ = tracing.require('bullmq');

afterAll(() => tracing.shutdown());

describe('utils', () => {
  it('publish time is when the job was due: added, plus its delay', () => {
    const job = { id: '7', name: 'welcome', timestamp: 1_700_000_000_000, opts: {} };
    expect(consumerAttributes({ ...job, opts: { delay: 5000 } }, 'emails')).toEqual({
      'messaging.system': 'bullmq',
      'messaging.destination.name': 'emails',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.message.id': '7',
      'chokepoint.messaging.publish_time_ms': 1_700_000_005_000,
    });
    expect(consumerAttributes({ ...job, opts: { delay: Number.NaN } }, 'emails')).toMatchObject({
      'chokepoint.messaging.publish_time_ms': 1_700_000_000_000,
    });
  });

  it('carries the context in telemetry metadata, respecting omitContext, never touching the app’s options', () => {
    const span = trace.getTracer('test').startSpan('add emails');
    const opts = { delay: 10, telemetry: { metadata: 'app' } };
    const sent = withTraceContext(opts, trace.setSpan(ROOT_CONTEXT, span));
    span.end();
    expect(opts).toEqual({ delay: 10, telemetry: { metadata: 'app' } });
    expect(JSON.parse(sent.telemetry?.metadata ?? '{}')).toEqual({
      traceparent: `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`,
    });
    const job = { name: 'x', timestamp: 0, opts: sent };
    expect(trace.getSpanContext(jobContext(job))?.spanId).toBe(span.spanContext().spanId);

    const omitted = { telemetry: { omitContext: true } };
    expect(withTraceContext(omitted, trace.setSpan(ROOT_CONTEXT, span))).toBe(omitted);
  });

  it('a job without readable metadata starts its own trace', () => {
    for (const metadata of [undefined, 'not json', '42']) {
      expect(jobContext({ name: 'x', timestamp: 0, opts: { telemetry: { metadata } } })).toBe(ROOT_CONTEXT);
    }
  });
});

function spanOfKind(records: SpanRecord[], kind: number): SpanRecord[] {
  return records.filter((record) => record.kind === kind);
}

await describeWithServices(['redis'], 'BullMQ through the agent', () => {
  const connection = { host: '127.0.0.1', port: 6379 };
  const name = `chokepoint-agent-test-${process.pid}`;
  let queue: BullMQ.Queue;
  let worker: BullMQ.Worker;
  const settled: Array<{ job: BullMQ.Job; error?: Error }> = [];

  beforeAll(async () => {
    queue = new Queue(name, { connection });
    worker = new Worker(
      name,
      async (job) => {
        if (job.name === 'fail') throw new Error('mailbox full');
        return job.data;
      },
      { connection },
    );
    worker.on('completed', (job) => settled.push({ job }));
    worker.on('failed', (job, error) => {
      if (job) settled.push({ job, error });
    });
    await worker.waitUntilReady();
  });

  afterAll(async () => {
    await worker?.close();
    await queue?.obliterate({ force: true });
    await queue?.close();
  });

  afterEach(() => {
    tracing.reset();
    settled.length = 0;
  });

  async function processed(count: number): Promise<SpanRecord[]> {
    return tracing.waitFor(
      (spans) => spanOfKind(spans, SpanKind.CONSUMER).length === count && settled.length === count,
    );
  }

  it('add: a PRODUCER span under the caller, a CONSUMER span under it, lag-ready', async () => {
    await trace.getTracer('test').startActiveSpan('handler', async (handler) => {
      await queue.add('welcome', { to: 'jane' });
      handler.end();
    });

    const records = await processed(1);
    const handler = records.find((span) => span.name === 'handler');
    const [producer] = spanOfKind(records, SpanKind.PRODUCER);
    const [consumer] = spanOfKind(records, SpanKind.CONSUMER);
    const job = settled[0]?.job;
    expect(producer?.name).toBe(`add ${name}`);
    expect(producer?.parentSpanId).toBe(handler?.spanId);
    expect(producer?.attributes).toEqual({
      'messaging.system': 'bullmq',
      'messaging.destination.name': name,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'add',
      'messaging.message.id': job?.id,
    });
    expect(consumer?.name).toBe(`process ${name}`);
    expect(consumer?.parentSpanId).toBe(producer?.spanId);
    expect(consumer?.traceId).toBe(handler?.traceId);
    expect(consumer?.attributes).toEqual({
      'messaging.system': 'bullmq',
      'messaging.destination.name': name,
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.message.id': job?.id,
      'chokepoint.messaging.publish_time_ms': job?.timestamp,
    });
    // The context rides in BullMQ's telemetry metadata, not in the app's data.
    expect(job?.data).toEqual({ to: 'jane' });

    const operations = tracing.operations();
    expect(operations.find((operation) => operation.spanId === producer?.spanId)).toMatchObject({
      type: 'queue_message',
      system: 'bullmq',
      destination: keyPattern(name),
      role: 'publish',
    });
    expect(operations.find((operation) => operation.spanId === consumer?.spanId)).toMatchObject({
      type: 'queue_message',
      system: 'bullmq',
      destination: keyPattern(name),
      role: 'consume',
      publishTimeMs: job?.timestamp,
    });
  });

  it('a delayed job is due after its delay', async () => {
    await queue.add('reminder', {}, { delay: 200 });

    const [consumer] = spanOfKind(await processed(1), SpanKind.CONSUMER);
    const job = settled[0]?.job;
    expect(consumer?.attributes['chokepoint.messaging.publish_time_ms']).toBe((job?.timestamp ?? 0) + 200);
  });

  it('addBulk: one PRODUCER span for the batch, each job processed under it', async () => {
    await queue.addBulk([
      { name: 'welcome', data: { to: 'a' } },
      { name: 'welcome', data: { to: 'b' } },
    ]);

    const records = await processed(2);
    const [producer] = spanOfKind(records, SpanKind.PRODUCER);
    expect(producer?.name).toBe(`addBulk ${name}`);
    expect(producer?.attributes).toMatchObject({
      'messaging.operation.name': 'addBulk',
      'messaging.batch.message_count': 2,
    });
    expect(spanOfKind(records, SpanKind.CONSUMER).map((span) => span.parentSpanId)).toEqual([
      producer?.spanId,
      producer?.spanId,
    ]);
  });

  it('a failing job: the CONSUMER span records the error', async () => {
    await queue.add('fail', {});

    const [consumer] = spanOfKind(await processed(1), SpanKind.CONSUMER);
    expect(settled[0]?.error?.message).toBe('mailbox full');
    expect(consumer?.statusCode).toBe(StatusCode.ERROR);
    expect(consumer?.statusMessage).toBe('mailbox full');
    expect(consumer?.events.map((event) => event.name)).toEqual(['exception']);
    expect(tracing.operations().find((operation) => operation.spanId === consumer?.spanId)?.error).toBe(true);
  });
});
