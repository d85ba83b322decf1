/**
 * The way out of the process. A batch span processor whose queue has a hard bound and
 * whose losses are counted (queue full, failed exports), and a warning about those losses
 * that is rate-limited: a collector that is down costs the app one stderr line a minute,
 * not one per batch.
 */
import { type Context, TraceFlags } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describeError, warn } from './warn.js';

/** The batch processor's settings, all explicit: none falls back to an unchecked `OTEL_BSP_*` value. */
export interface BatchSettings {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
}

/** Told about every loss: how many spans (or runtime samples), and why, worded for a warning. */
export type DropListener = (count: number, reason: string) => void;

export interface BoundedBatchOptions extends BatchSettings {
  exporter: SpanExporter;
  onDrop: DropListener;
}

/**
 * A `BatchSpanProcessor` that counts what it queues: spans beyond `maxQueueSize` waiting
 * for export are dropped here, and reported, instead of silently inside the SDK.
 *
 * @example
 * const processor = new BoundedBatchSpanProcessor({ exporter, onDrop, ...batchSettings });
 */
export class BoundedBatchSpanProcessor implements SpanProcessor {
  /** Spans handed to the batch processor and not yet handed to the exporter. */
  private waiting = 0;
  /** Spans handed to the exporter, their export not yet settled. */
  private inFlight = 0;
  /** Set once the agent stopped waiting: what is still pending was reported lost then. */
  private abandoned = false;
  private readonly batch: BatchSpanProcessor;
  private readonly maxQueueSize: number;
  private readonly onDrop: DropListener;

  constructor({ exporter, onDrop, ...settings }: BoundedBatchOptions) {
    this.maxQueueSize = settings.maxQueueSize;
    this.onDrop = onDrop;
    const countingExporter: SpanExporter = {
      export: (spans, resultCallback) => {
        this.waiting -= spans.length;
        this.inFlight += spans.length;
        exporter.export(spans, (result) => {
          this.inFlight -= spans.length;
          if (result.code !== ExportResultCode.SUCCESS && !this.abandoned) {
            onDrop(spans.length, `cannot export spans: ${describeExportError(result.error)}`);
          }
          resultCallback(result);
        });
      },
      shutdown: () => exporter.shutdown(),
      forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
    };
    this.batch = new BatchSpanProcessor(countingExporter, settings);
  }

  onStart(span: Span, parentContext: Context): void {
    this.batch.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    // Unsampled spans are never exported: the batch processor ignores them, so must the count.
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.waiting >= this.maxQueueSize) {
      this.onDrop(1, `span queue full (${this.maxQueueSize} spans waiting for export)`);
      return;
    }
    this.waiting++;
    this.batch.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.batch.forceFlush();
  }

  /**
   * Reports every span still queued or in flight as dropped, once: the caller (exiting,
   * or shutting down) stopped waiting for the collector after `waitedMs`.
   */
  abandon(waitedMs: number): void {
    if (this.abandoned) return;
    this.abandoned = true;
    const pending = this.waiting + this.inFlight;
    if (pending > 0) this.onDrop(pending, `no answer from the collector within ${waitedMs} ms`);
  }

  shutdown(): Promise<void> {
    return this.batch.shutdown();
  }
}

function describeExportError(error: unknown): string {
  if (error === undefined) return 'unknown error';
  const status = (error as { code?: unknown }).code;
  return typeof status === 'number' ? `HTTP ${status} ${describeError(error)}` : describeError(error);
}

export interface DropWarningOptions {
  /** Where the data goes, named in the warning. */
  endpoint: string;
  /** What is lost, singular: `span` (default) or `runtime sample`. */
  unit?: string;
  /** Shortest time between two warnings. Default one minute. */
  intervalMs?: number;
  now?: () => number;
  warn?: (message: string) => void;
}

const dropWarningDefaults = { unit: 'span', intervalMs: 60_000, now: Date.now, warn };

/**
 * A {@link DropListener} that keeps the total and warns at most once per interval, with
 * the latest reason and how many spans were dropped so far.
 *
 * @example
 * const onDrop = createDropWarning({ endpoint: 'http://127.0.0.1:4318/v1/traces' });
 * onDrop(12, 'cannot export spans: connect ECONNREFUSED 127.0.0.1:4318');
 */
export function createDropWarning(options: DropWarningOptions): DropListener {
  const { endpoint, unit, intervalMs, now, warn } = { ...dropWarningDefaults, ...options };
  const every = `${Math.round(intervalMs / 1000)} s`;
  let dropped = 0;
  let lastWarningAt = Number.NEGATIVE_INFINITY;
  return (count, reason) => {
    dropped += count;
    const time = now();
    if (time - lastWarningAt < intervalMs) return;
    lastWarningAt = time;
    warn(
      `${reason}; ${dropped} ${unit}(s) dropped so far (collector ${endpoint}; this warning repeats at most once every ${every})`,
    );
  };
}
