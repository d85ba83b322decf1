/**
 * Hooks for `@opentelemetry/instrumentation-amqplib`, which still writes the old messaging
 * conventions (`messaging.destination`, `messaging.operation`): the current names are
 * added beside them, and the publish time travels with the message so that the consumer
 * span can tell how long it waited (`chokepoint.messaging.publish_time_ms`).
 *
 * The publisher stamps a `chokepoint-publish-time-ms` header (the AMQP `timestamp`
 * property has whole seconds only, and belongs to the app); a message published without
 * the agent falls back to its `timestamp` property.
 */
import type { Span } from '@opentelemetry/api';
import { ChokepointAttributes } from '../../../model/attributes.js';
import {
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_RABBITMQ_ROUTING_KEY,
  MESSAGING_OPERATION_TYPE_PROCESS,
  MESSAGING_OPERATION_TYPE_SEND,
} from '../semconv.js';
import type { UpstreamConfig } from './types.js';

type AmqplibConfig = UpstreamConfig<'amqplib'>;

export const PUBLISH_TIME_HEADER = 'chokepoint-publish-time-ms';

/**
 * AMQP timestamps are seconds by the spec, yet some publishers write milliseconds. Below
 * this, a value is seconds: as milliseconds it would predate March 1973.
 */
const FIRST_MILLISECONDS_TIMESTAMP = 1e11;

/** The parts of a consumed message the publish time is read from. */
export interface MessageProperties {
  properties: { headers?: Record<string, unknown>; timestamp?: unknown };
}

/**
 * When a consumed message was published, in epoch milliseconds, if it says.
 *
 * @example
 * publishTimeMs({ properties: { headers: { 'chokepoint-publish-time-ms': 1700000000123 } } }); // 1700000000123
 * publishTimeMs({ properties: { headers: {}, timestamp: 1700000000 } }); // 1700000000000
 */
export function publishTimeMs(message: MessageProperties): number | undefined {
  const stamped = Number(message.properties.headers?.[PUBLISH_TIME_HEADER]);
  if (Number.isFinite(stamped) && stamped > 0) return stamped;
  const timestamp = Number(message.properties.timestamp);
  if (!Number.isFinite(timestamp) || timestamp <= 0) return undefined;
  return timestamp < FIRST_MILLISECONDS_TIMESTAMP ? timestamp * 1000 : timestamp;
}

function setDestination(span: Span, exchange: string, routingKey: string): void {
  // The default exchange is '': the routing key then names the queue, and readers fall back to it.
  span.setAttribute(ATTR_MESSAGING_DESTINATION_NAME, exchange);
  span.setAttribute(ATTR_MESSAGING_RABBITMQ_ROUTING_KEY, routingKey);
}

export const amqplibConfig: AmqplibConfig = {
  publishHook(span: Span, { exchange, routingKey, options }) {
    setDestination(span, exchange, routingKey);
    span.setAttribute(ATTR_MESSAGING_OPERATION_TYPE, MESSAGING_OPERATION_TYPE_SEND);
    span.setAttribute(ATTR_MESSAGING_OPERATION_NAME, 'publish');
    // Upstream hands over the options it sends, headers object included (its trace context is in there).
    if (options?.headers) options.headers[PUBLISH_TIME_HEADER] = Date.now();
  },
  consumeHook(span: Span, { msg }) {
    setDestination(span, msg.fields.exchange, msg.fields.routingKey);
    span.setAttribute(ATTR_MESSAGING_OPERATION_TYPE, MESSAGING_OPERATION_TYPE_PROCESS);
    span.setAttribute(ATTR_MESSAGING_OPERATION_NAME, 'process');
    const published = publishTimeMs(msg);
    if (published !== undefined) span.setAttribute(ChokepointAttributes.MESSAGE_PUBLISH_TIME_MS, published);
  },
};
