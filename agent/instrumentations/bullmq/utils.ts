import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { ChokepointAttributes } from '../../../model/attributes.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  MESSAGING_OPERATION_TYPE_PROCESS,
  MESSAGING_OPERATION_TYPE_SEND,
} from '../semconv.js';
import type { Job, JobsOptions } from './types.js';

export const MESSAGING_SYSTEM_BULLMQ = 'bullmq';

/** Attributes of the PRODUCER span of `Queue.add` (`add`) or `Queue.addBulk` (`addBulk`). */
export function producerAttributes(queue: string, operation: 'add' | 'addBulk'): Attributes {
  return {
    [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_BULLMQ,
    [ATTR_MESSAGING_DESTINATION_NAME]: queue,
    [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_SEND,
    [ATTR_MESSAGING_OPERATION_NAME]: operation,
  };
}

/**
 * Attributes of the CONSUMER span of a job's processing. The publish time is when the
 * job was due: a delayed job waits for its delay by design, and only the wait beyond it
 * is queue lag.
 *
 * @example
 * consumerAttributes({ id: '7', name: 'welcome', timestamp: 1700000000000, opts: { delay: 5000 } }, 'emails');
 * // { …, 'messaging.message.id': '7', 'chokepoint.messaging.publish_time_ms': 1700000005000 }
 */
export function consumerAttributes(job: Job, queue: string): Attributes {
  const attributes: Attributes = {
    [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_BULLMQ,
    [ATTR_MESSAGING_DESTINATION_NAME]: queue,
    [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_PROCESS,
    [ATTR_MESSAGING_OPERATION_NAME]: 'process',
  };
  if (job.id !== undefined) attributes[ATTR_MESSAGING_MESSAGE_ID] = job.id;
  if (Number.isFinite(job.timestamp)) {
    // `job.delay` is back to 0 once the job is promoted from delayed: the option keeps the delay asked for.
    const delay = Number(job.opts?.delay ?? 0);
    const dueAfter = Number.isFinite(delay) ? Math.max(delay, 0) : 0;
    attributes[ChokepointAttributes.MESSAGE_PUBLISH_TIME_MS] = job.timestamp + dueAfter;
  }
  return attributes;
}

/**
 * The job options with `context` in BullMQ's telemetry metadata (a JSON carrier, the
 * format of BullMQ's own telemetry), unless the app opted out with `omitContext`. Never
 * modifies the app's object.
 *
 * @example
 * queue.add(name, data, withTraceContext(opts, trace.setSpan(context.active(), span)));
 */
export function withTraceContext(opts: JobsOptions | undefined, traceContext: Context): JobsOptions {
  if (opts?.telemetry?.omitContext) return opts;
  const carrier: Record<string, string> = {};
  propagation.inject(traceContext, carrier);
  return { ...opts, telemetry: { ...opts?.telemetry, metadata: JSON.stringify(carrier) } };
}

/**
 * The context a job was added in, from its telemetry metadata; the root context when it
 * carries none (or something unreadable): a job never inherits whatever the worker's loop
 * happened to run in.
 */
export function jobContext(job: Job): Context {
  const metadata = job.opts?.telemetry?.metadata;
  if (typeof metadata !== 'string') return ROOT_CONTEXT;
  try {
    const carrier: unknown = JSON.parse(metadata);
    return typeof carrier === 'object' && carrier !== null
      ? propagation.extract(ROOT_CONTEXT, carrier)
      : ROOT_CONTEXT;
  } catch {
    return ROOT_CONTEXT;
  }
}

/** Ends a span for a call that threw or rejected: exception event, `error.type`, status ERROR. */
export function endSpanWithError(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
    span.setAttribute(ATTR_ERROR_TYPE, error.name);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else {
    span.setAttribute(ATTR_ERROR_TYPE, '_OTHER');
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  }
  span.end();
}

/**
 * Runs `call` with `span` active under `parent` and ends the span when the call settles:
 * at once for a plain value, on settlement for a promise, with `onValue` told the value
 * first. Returns what `call` returns, untouched: the app sees the same promise.
 *
 * @example
 * return runInSpan(span, context.active(), () => original.apply(this, args));
 */
export function runInSpan<T>(
  span: Span,
  parent: Context,
  call: () => T,
  onValue?: (value: unknown) => void,
): T {
  const end = (value: unknown) => {
    try {
      onValue?.(value);
    } finally {
      span.end();
    }
  };
  let result: T;
  try {
    result = context.with(trace.setSpan(parent, span), call);
  } catch (error) {
    endSpanWithError(span, error);
    throw error;
  }
  if (isThenable(result)) {
    // A handler for both outcomes: the span ends either way, and this branch never rejects on its own.
    Promise.resolve(result)
      .then(end, (error: unknown) => endSpanWithError(span, error))
      .catch(() => {});
  } else {
    end(result);
  }
  return result;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
