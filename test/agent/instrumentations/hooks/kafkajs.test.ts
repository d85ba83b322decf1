/**
 * kafkajs. There is no Kafka broker here, and a fake one that answers a consumer group
 * (metadata, coordinator, join, sync, fetch) would test the fake more than the hook. So:
 * the producer side runs a real kafkajs client through the upstream instrumentation
 * (its spans start before kafkajs finds it has no connection); the consumer hook is
 * unit-tested on the message shape kafkajs hands to `eachMessage`.
 */
import { SpanKind as ApiSpanKind, trace } from '@opentelemetry/api';
import type * as KafkaJs from 'kafkajs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { kafkajsConfig, kafkaTimestampMs } from '../../../../agent/instrumentations/hooks/kafkajs.js';
import { SpanKind } from '../../../../model/index.js';
import { traceInProcess } from '../../support/in-process.js';

const tracing = traceInProcess(['kafkajs']);
const { Kafka, logLevel }: typeof KafkaJs = tracing.require('kafkajs');

afterAll(() => tracing.shutdown());
afterEach(() => tracing.reset());

describe('kafkaTimestampMs', () => {
  it('reads kafkajs’s string timestamps, and nothing else', () => {
    expect(kafkaTimestampMs({ timestamp: '1700000000123' })).toBe(1_700_000_000_123);
    expect(kafkaTimestampMs({ timestamp: '-1' })).toBeUndefined();
    expect(kafkaTimestampMs({ timestamp: 'soon' })).toBeUndefined();
    expect(kafkaTimestampMs({})).toBeUndefined();
  });
});

describe('consumer hook', () => {
  it('puts the message timestamp on the consumer span as the publish time', () => {
    const span = trace.getTracer('test').startSpan('process orders', { kind: ApiSpanKind.CONSUMER });
    kafkajsConfig.consumerHook?.(span, {
      topic: 'orders',
      message: { key: null, value: Buffer.from('{}'), timestamp: '1700000000123', headers: {} },
    });
    span.end();

    expect(tracing.records()[0]?.attributes).toEqual({
      'chokepoint.messaging.publish_time_ms': 1_700_000_000_123,
    });
  });
});

describe('producer, real kafkajs client without a broker', () => {
  it('records a send span per message with the current messaging names', async () => {
    const kafka = new Kafka({
      clientId: 'chokepoint-test',
      brokers: ['127.0.0.1:1'],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const producer = kafka.producer();
    await expect(
      producer.send({ topic: 'orders', messages: [{ value: 'a' }, { value: 'b' }] }),
    ).rejects.toThrow();

    const records = await tracing.waitFor((spans) => spans.length === 2);
    expect(records.map((span) => [span.name, span.kind, span.attributes])).toEqual([
      [
        'send orders',
        SpanKind.PRODUCER,
        {
          'messaging.system': 'kafka',
          'messaging.destination.name': 'orders',
          'messaging.operation.name': 'send',
          'messaging.operation.type': 'send',
          'error.type': expect.any(String),
        },
      ],
      ['send orders', SpanKind.PRODUCER, expect.objectContaining({ 'messaging.destination.name': 'orders' })],
    ]);
    expect(tracing.operations()[0]).toMatchObject({
      type: 'queue_message',
      system: 'kafka',
      destination: 'orders',
      role: 'publish',
    });
  });
});
