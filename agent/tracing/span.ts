/**
 * The agent's recording span: what OpenTelemetry's SDK span records, with the same rules
 * (attribute, event and link limits, status precedence, exception events, start time from
 * the wall clock and end time from the monotonic one), built from far fewer objects. A
 * span lives as long as the operation it times; the export processor encodes it as it ends.
 */
import {
  type Attributes,
  type AttributeValue,
  diag,
  type Exception,
  type HrTime,
  type Link,
  type SpanAttributes,
  type SpanContext,
  type SpanKind,
  type SpanStatus,
  SpanStatusCode,
  type TimeInput,
} from '@opentelemetry/api';
import { type InstrumentationScope, isAttributeValue } from '@opentelemetry/core';
import type { ReadableSpan, Span, TimedEvent } from '@opentelemetry/sdk-trace-base';

/** How much a span keeps; beyond it, the oldest events and links and any new attribute are dropped and counted. */
export interface SpanLimits {
  attributeCountLimit: number;
  /** Longer strings (and strings in arrays) are cut to this many characters. */
  attributeValueLengthLimit: number;
  eventCountLimit: number;
  linkCountLimit: number;
  attributePerEventCountLimit: number;
  attributePerLinkCountLimit: number;
}

/** What a span reports to when it starts, ends, and is about to end. */
export interface SpanOwner {
  readonly resource: ReadableSpan['resource'];
  readonly limits: SpanLimits;
  onStarting(span: RecordingSpan, parentContext: unknown): void;
  onEnding(span: RecordingSpan): void;
  onEnded(span: RecordingSpan): void;
}

const NANOS_PER_MILLI = 1_000_000;
const NANOS_PER_SECOND = 1_000_000_000;
const UNSET_STATUS: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });
const NO_EVENTS: readonly TimedEvent[] = Object.freeze([]);
const NO_LINKS: readonly Link[] = Object.freeze([]);

function millisToHrTime(millis: number): HrTime {
  const seconds = Math.floor(millis / 1000);
  return [seconds, Math.round((millis - seconds * 1000) * NANOS_PER_MILLI)];
}

function addMillis([seconds, nanos]: HrTime, millis: number): HrTime {
  const total = nanos + Math.round(millis * NANOS_PER_MILLI);
  const carry = Math.floor(total / NANOS_PER_SECOND);
  return [seconds + carry, total - carry * NANOS_PER_SECOND];
}

function isHrTime(value: unknown): value is HrTime {
  return (
    Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'number'
  );
}

function isTimeInput(value: unknown): value is TimeInput {
  return typeof value === 'number' || value instanceof Date || isHrTime(value);
}

function truncate(value: AttributeValue, limit: number): AttributeValue {
  if (typeof value === 'string') return value.length > limit ? value.slice(0, limit) : value;
  if (Array.isArray(value)) {
    return value.map((item) =>
      typeof item === 'string' && item.length > limit ? item.slice(0, limit) : item,
    ) as AttributeValue;
  }
  return value;
}

/** Attributes of an event or link, valid ones only, at most `limit` of them. */
function limitedAttributes(
  attributes: Attributes | undefined,
  limit: number,
  valueLength: number,
): { attributes: Attributes; dropped: number } {
  const kept: Attributes = {};
  let count = 0;
  let dropped = 0;
  for (const key in attributes) {
    if (!Object.hasOwn(attributes, key)) continue;
    const value = attributes[key];
    if (value == null || key === '' || !isAttributeValue(value)) continue;
    if (count >= limit) {
      dropped++;
      continue;
    }
    kept[key] = truncate(value, valueLength);
    count++;
  }
  return { attributes: kept, dropped };
}

/**
 * @example
 * const span = tracer.startSpan('SELECT shop'); // a RecordingSpan when sampled
 * span.setAttribute('db.system.name', 'postgresql');
 * span.end();
 */
export class RecordingSpan implements Span {
  readonly attributes: Attributes = {};
  events: TimedEvent[] = NO_EVENTS as TimedEvent[];
  links: Link[] = NO_LINKS as Link[];
  status: SpanStatus = UNSET_STATUS;
  endTime: HrTime = [0, 0];
  droppedAttributesCount = 0;
  droppedEventsCount = 0;
  droppedLinksCount = 0;
  readonly startTime: HrTime;
  private attributeCount = 0;
  private isEnded = false;
  /** `performance.now()` at the start, when the start time was not given: later times are measured from it. */
  private readonly startedAt: number | undefined;

  constructor(
    private readonly owner: SpanOwner,
    readonly instrumentationScope: InstrumentationScope,
    public name: string,
    readonly kind: SpanKind,
    private readonly context: SpanContext,
    readonly parentSpanContext: SpanContext | undefined,
    startTime: TimeInput | undefined,
  ) {
    if (startTime === undefined) {
      this.startTime = millisToHrTime(Date.now());
      this.startedAt = performance.now();
    } else {
      this.startTime = this.toHrTime(startTime);
    }
  }

  get resource(): ReadableSpan['resource'] {
    return this.owner.resource;
  }

  get ended(): boolean {
    return this.isEnded;
  }

  get duration(): HrTime {
    const nanos =
      (this.endTime[0] - this.startTime[0]) * NANOS_PER_SECOND + this.endTime[1] - this.startTime[1];
    const seconds = Math.floor(nanos / NANOS_PER_SECOND);
    return [seconds, nanos - seconds * NANOS_PER_SECOND];
  }

  spanContext(): SpanContext {
    return this.context;
  }

  isRecording(): boolean {
    return !this.isEnded;
  }

  setAttribute(key: string, value?: AttributeValue): this {
    if (value == null || this.isEnded || key === '') return this;
    if (!isAttributeValue(value)) {
      diag.warn(`Invalid attribute value set for key: ${key}`);
      return this;
    }
    const { attributeCountLimit, attributeValueLengthLimit } = this.owner.limits;
    if (!Object.hasOwn(this.attributes, key)) {
      if (this.attributeCount >= attributeCountLimit) {
        this.droppedAttributesCount++;
        return this;
      }
      this.attributeCount++;
    }
    this.attributes[key] = truncate(
      Array.isArray(value) ? ([...value] as AttributeValue) : value,
      attributeValueLengthLimit,
    );
    return this;
  }

  setAttributes(attributes: SpanAttributes): this {
    for (const key in attributes) {
      if (Object.hasOwn(attributes, key)) this.setAttribute(key, attributes[key]);
    }
    return this;
  }

  addEvent(name: string, attributesOrTime?: SpanAttributes | TimeInput, time?: TimeInput): this {
    if (this.isEnded) return this;
    const { eventCountLimit, attributePerEventCountLimit, attributeValueLengthLimit } = this.owner.limits;
    if (eventCountLimit === 0) {
      this.droppedEventsCount++;
      return this;
    }
    let attributes: SpanAttributes | undefined;
    if (isTimeInput(attributesOrTime)) time ??= attributesOrTime;
    else attributes = attributesOrTime;
    if (this.events === NO_EVENTS) this.events = [];
    else if (this.events.length >= eventCountLimit) {
      this.events.shift();
      this.droppedEventsCount++;
    }
    const limited = limitedAttributes(attributes, attributePerEventCountLimit, attributeValueLengthLimit);
    this.events.push({
      name,
      attributes: limited.attributes,
      time: this.timeOf(time),
      droppedAttributesCount: limited.dropped,
    });
    return this;
  }

  addLink(link: Link): this {
    if (this.isEnded) return this;
    const { linkCountLimit, attributePerLinkCountLimit, attributeValueLengthLimit } = this.owner.limits;
    if (linkCountLimit === 0) {
      this.droppedLinksCount++;
      return this;
    }
    if (this.links === NO_LINKS) this.links = [];
    else if (this.links.length >= linkCountLimit) {
      this.links.shift();
      this.droppedLinksCount++;
    }
    const limited = limitedAttributes(link.attributes, attributePerLinkCountLimit, attributeValueLengthLimit);
    const kept: Link = { context: link.context };
    if (Object.keys(limited.attributes).length > 0) kept.attributes = limited.attributes;
    if (limited.dropped > 0) kept.droppedAttributesCount = limited.dropped;
    this.links.push(kept);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  /** As the SDK: UNSET changes nothing, OK is final, and only an ERROR keeps its message. */
  setStatus(status: SpanStatus): this {
    if (this.isEnded || status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK)
      return this;
    this.status =
      status.code === SpanStatusCode.ERROR && typeof status.message === 'string'
        ? { code: status.code, message: status.message }
        : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (!this.isEnded) this.name = name;
    return this;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') {
      attributes['exception.message'] = exception;
    } else if (exception) {
      const type = exception.code ?? exception.name;
      if (type) attributes['exception.type'] = String(type);
      if (exception.message) attributes['exception.message'] = exception.message;
      if (exception.stack) attributes['exception.stacktrace'] = exception.stack;
    }
    if (attributes['exception.type'] || attributes['exception.message'])
      this.addEvent('exception', attributes, time);
  }

  end(endTime?: TimeInput): void {
    if (this.isEnded) {
      diag.error(
        `${this.name} ${this.context.traceId}-${this.context.spanId} - You can only call end() on a span once.`,
      );
      return;
    }
    const end = this.timeOf(endTime);
    const startsLater =
      end[0] < this.startTime[0] || (end[0] === this.startTime[0] && end[1] < this.startTime[1]);
    this.endTime = startsLater ? [this.startTime[0], this.startTime[1]] : end;
    this.owner.onEnding(this);
    this.isEnded = true;
    this.owner.onEnded(this);
  }

  /** A time the caller gave, or now: measured from the start on the monotonic clock when the start was taken here. */
  private timeOf(time: TimeInput | undefined): HrTime {
    if (time !== undefined) return this.toHrTime(time);
    if (this.startedAt === undefined) return millisToHrTime(Date.now());
    return addMillis(this.startTime, performance.now() - this.startedAt);
  }

  /** As the SDK reads times: numbers up to `performance.now()` are monotonic timestamps, larger ones epoch milliseconds. */
  private toHrTime(time: TimeInput): HrTime {
    if (isHrTime(time)) return time;
    if (time instanceof Date) return millisToHrTime(time.getTime());
    if (time <= performance.now()) return millisToHrTime(time + Date.now() - performance.now());
    return millisToHrTime(time);
  }
}
