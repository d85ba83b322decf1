/**
 * Hook for `@opentelemetry/instrumentation-kafkajs`, which already writes the current
 * messaging conventions: the consumer span only lacks the publish time, which Kafka keeps
 * with every message (`timestamp`: the producer's create time, or the broker's append time
 * on topics configured so).
 */
import type { Span } from '@opentelemetry/api';
import { ChokepointAttributes } from '../../../model/attributes.js';
import type { UpstreamConfig } from './types.js';

/**
 * A Kafka message's timestamp (a string of epoch milliseconds in kafkajs) as a number.
 *
 * @example
 * kafkaTimestampMs({ timestamp: '1700000000123' }); // 1700000000123
 */
export function kafkaTimestampMs(message: { timestamp?: string }): number | undefined {
  const timestamp = Number(message.timestamp);
  return Number.isFinite(timestamp) && timestamp > 0 ? timestamp : undefined;
}

export const kafkajsConfig: UpstreamConfig<'kafkajs'> = {
  consumerHook(span: Span, { message }) {
    const published = kafkaTimestampMs(message);
    if (published !== undefined) span.setAttribute(ChokepointAttributes.MESSAGE_PUBLISH_TIME_MS, published);
  },
};
