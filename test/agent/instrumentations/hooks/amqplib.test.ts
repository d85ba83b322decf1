/**
 * amqplib against the real RabbitMQ, through the upstream instrumentation with the
 * agent's hooks: current messaging names on both sides, the consumer span under the
 * producer span, and the publish time the collector computes lag from.
 */
import { trace } from '@opentelemetry/api';
import type * as Amqplib from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  amqplibConfig,
  PUBLISH_TIME_HEADER,
  publishTimeMs,
} from '../../../../agent/instrumentations/hooks/amqplib.js';
import { keyPattern } from '../../../../collector/normalize/index.js';
import { SpanKind, type SpanRecord } from '../../../../model/index.js';
import { describeWithServices } from '../../../support/services.js';
import { traceInProcess } from '../../support/in-process.js';

const tracing = traceInProcess(['amqplib']);
const amqp: typeof Amqplib = tracing.require('amqplib');
const [instrumentation] = tracing.instrumentations;

afterAll(() => tracing.shutdown());

describe('publishTimeMs', () => {
  it('prefers the agent’s header, else reads the timestamp property in seconds or milliseconds', () => {
    const message = (headers: Record<string, unknown>, timestamp?: unknown) => ({
      properties: { headers, timestamp },
    });
    expect(publishTimeMs(message({ [PUBLISH_TIME_HEADER]: 1_700_000_000_123 }, 1_600_000_000))).toBe(
      1_700_000_000_123,
    );
    expect(publishTimeMs(message({ [PUBLISH_TIME_HEADER]: '1700000000123' }))).toBe(1_700_000_000_123);
    expect(publishTimeMs(message({}, 1_700_000_000))).toBe(1_700_000_000_000);
    expect(publishTimeMs(message({}, 1_700_000_000_456))).toBe(1_700_000_000_456);
    expect(publishTimeMs(message({ [PUBLISH_TIME_HEADER]: 'soon' }))).toBeUndefined();
    expect(publishTimeMs({ properties: {} })).toBeUndefined();
  });
});

function byKind(records: SpanRecord[], kind: number): SpanRecord {
  const span = records.find((record) => record.kind === kind);
  if (!span)
    throw new Error(`no span of kind ${kind} among ${records.map((record) => record.name).join(', ')}`);
  return span;
}

const queue = `chokepoint-test-${process.pid}`;
const exchange = `chokepoint-test-exchange-${process.pid}`;

await describeWithServices(['rabbitmq'], 'amqplib through the agent', () => {
  let connection: Amqplib.ChannelModel;
  let channel: Amqplib.Channel;
  const received: Amqplib.ConsumeMessage[] = [];

  beforeAll(async () => {
    connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    channel = await connection.createChannel();
    await channel.assertQueue(queue, { exclusive: true });
    await channel.assertExchange(exchange, 'direct', { autoDelete: true });
    await channel.bindQueue(queue, exchange, 'orders.created');
    await channel.consume(queue, (message) => {
      if (!message) return;
      received.push(message);
      channel.ack(message);
    });
    tracing.reset();
  });

  afterAll(async () => {
    await connection?.close();
  });

  afterEach(() => {
    tracing.reset();
    received.length = 0;
    instrumentation?.setConfig(amqplibConfig);
  });

  it('sendToQueue: send and process spans with current names, lag-ready, the consumer under the producer', async () => {
    const before = Date.now();
    trace.getTracer('test').startActiveSpan('handler', (handler) => {
      channel.sendToQueue(queue, Buffer.from('{"order":42}'));
      handler.end();
    });
    const after = Date.now();

    const records = await tracing.waitFor((spans) => spans.some((span) => span.kind === SpanKind.CONSUMER));
    const producer = byKind(records, SpanKind.PRODUCER);
    const consumer = byKind(records, SpanKind.CONSUMER);
    expect(producer.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': '',
      'messaging.rabbitmq.destination.routing_key': queue,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
    });
    expect(consumer.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': '',
      'messaging.rabbitmq.destination.routing_key': queue,
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
    });
    const published = Number(consumer.attributes['chokepoint.messaging.publish_time_ms']);
    expect(published).toBeGreaterThanOrEqual(before);
    expect(published).toBeLessThanOrEqual(after);
    expect(consumer.parentSpanId).toBe(producer.spanId);
    expect(consumer.traceId).toBe(producer.traceId);
    expect(received[0]?.properties.headers?.[PUBLISH_TIME_HEADER]).toBe(published);

    // The queue, as the collector folds names (the pid in it becomes a placeholder).
    const operations = tracing.operations();
    expect(operations.find((operation) => operation.spanId === producer.spanId)).toMatchObject({
      type: 'queue_message',
      system: 'rabbitmq',
      destination: keyPattern(queue),
      role: 'publish',
    });
    expect(operations.find((operation) => operation.spanId === consumer.spanId)).toMatchObject({
      type: 'queue_message',
      system: 'rabbitmq',
      destination: keyPattern(queue),
      role: 'consume',
      publishTimeMs: published,
    });
  });

  it('publish to an exchange: the exchange is the destination on both sides', async () => {
    channel.publish(exchange, 'orders.created', Buffer.from('{}'));

    const records = await tracing.waitFor((spans) => spans.some((span) => span.kind === SpanKind.CONSUMER));
    for (const kind of [SpanKind.PRODUCER, SpanKind.CONSUMER]) {
      expect(byKind(records, kind).attributes).toMatchObject({
        'messaging.destination.name': exchange,
        'messaging.rabbitmq.destination.routing_key': 'orders.created',
      });
    }
    expect(
      tracing.operations().map((operation) => operation.type === 'queue_message' && operation.destination),
    ).toEqual([keyPattern(exchange), keyPattern(exchange)]);
  });

  it('a message published without the agent: the publish time comes from its timestamp property', async () => {
    const { publishHook: _stamping, ...withoutStamp } = amqplibConfig;
    instrumentation?.setConfig(withoutStamp);
    channel.sendToQueue(queue, Buffer.from('{}'), { timestamp: 1_700_000_000 });

    const records = await tracing.waitFor((spans) => spans.some((span) => span.kind === SpanKind.CONSUMER));
    expect(received[0]?.properties.headers?.[PUBLISH_TIME_HEADER]).toBeUndefined();
    expect(byKind(records, SpanKind.CONSUMER).attributes['chokepoint.messaging.publish_time_ms']).toBe(
      1_700_000_000_000,
    );
  });
});
