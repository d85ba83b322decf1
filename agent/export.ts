/**
 * The way out of the process. Spans are encoded to OTLP protobuf the moment they end
 * (agent/otlp/), so a span object lives as long as its request, not until the next
 * export; the encoded bytes wait in a queue with a hard bound, and leave in batches
 * through OpenTelemetry's OTLP/HTTP transport (its retries, timeouts, headers and TLS
 * settings from `OTEL_EXPORTER_OTLP_*`). Every loss is counted (queue full, failed
 * exports) and reported in a warning that is rate-limited: a collector that is down costs
 * the app one stderr line a minute, not one per batch.
 */
import { type Context, context, ROOT_CONTEXT, TraceFlags } from '@opentelemetry/api';
import { ExportResultCode, type InstrumentationScope, suppressTracing } from '@opentelemetry/core';
import type { IOtlpExportDelegate } from '@opentelemetry/otlp-exporter-base';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { type EncodedResourceSpans, encodeRequest, encodeSpan } from './otlp/encode.js';
import { ProtobufWriter } from './otlp/protobuf-writer.js';
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

export interface OtlpExportOptions extends BatchSettings {
  /** The OTLP/HTTP traces URL. */
  url: string;
  /** Longest wait for one HTTP request. Default `OTEL_EXPORTER_OTLP_TIMEOUT`, else 10 s. */
  timeoutMillis?: number;
  onDrop: DropListener;
}

/** One export request: its body and how many spans it carries. */
interface Batch {
  body: Uint8Array;
  spans: number;
}

type Resource = ReadableSpan['resource'];

/** Encoded spans, by resource, then by instrumentation scope: the makings of one request. */
interface EncodedBatch {
  byResource: Map<Resource, Map<InstrumentationScope, ProtobufWriter>>;
  spans: number;
}

const emptyBatch = (): EncodedBatch => ({ byResource: new Map(), spans: 0 });

/** Enough for the scopes of a few batches; more would only hold memory. */
const MAX_SPARE_WRITERS = 32;

/**
 * Exports in flight at once. With one, a collector that answers slowly (sharing the cores,
 * between two of its own ticks) leaves the app's spans queueing for each round trip; with
 * two, the next batch is on its way while the collector works on the last one.
 */
const MAX_EXPORTS_IN_FLIGHT = 2;

/**
 * The span processor that exports: encodes every sampled span as it ends, and sends the
 * encoded spans in batches of `maxExportBatchSize` as soon as one is full, else every
 * `scheduledDelayMillis`. Up to two exports are in flight at a time; while they are, spans
 * wait, at most `maxQueueSize` of them, and the spans held, waiting or in flight, never
 * exceed `maxQueueSize + maxExportBatchSize` (the bound of one export at a time: a second
 * export in flight takes its room from the queue). Beyond that spans are dropped and
 * counted. An export that has not settled within `exportTimeoutMillis` counts as failed,
 * and frees its place for the next.
 *
 * @example
 * new BasicTracerProvider({ spanProcessors: [new OtlpExportSpanProcessor({ url, onDrop, ...batchSettings })] });
 */
export class OtlpExportSpanProcessor implements SpanProcessor {
  /** The batch spans are encoded into. */
  private filling = emptyBatch();
  /** Full batches, oldest first, waiting for a free export. */
  private readonly full: EncodedBatch[] = [];
  /** Writers of batches already assembled into a request, kept for the next: their buffers have grown to a batch's size. */
  private readonly spareWriters: ProtobufWriter[] = [];
  /** Writers of requests the collector took, kept for the next requests (at most one per export in flight). */
  private readonly spareRequestWriters: ProtobufWriter[] = [];
  /** Spans encoded and not yet handed to the transport. */
  private waiting = 0;
  /** Spans handed to the transport, their export not yet settled. */
  private inFlight = 0;
  /** Exports not yet settled, at most {@link MAX_EXPORTS_IN_FLIGHT}. */
  private readonly exports = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private sendScheduled = false;
  private shutDown = false;
  /** Set once the agent stopped waiting: what is still pending was reported lost then. */
  private abandoned = false;
  private readonly delegate: IOtlpExportDelegate<Batch>;
  private readonly settings: BatchSettings;
  private readonly onDrop: DropListener;
  /** The context exports run in: no trace of the app's, and nothing the exporter does traced. */
  private readonly exportContext: Context = suppressTracing(ROOT_CONTEXT);

  constructor({ url, timeoutMillis, onDrop, ...settings }: OtlpExportOptions) {
    this.settings = settings;
    this.onDrop = onDrop;
    this.delegate = createTransport(url, timeoutMillis);
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.shutDown || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    const { maxQueueSize, maxExportBatchSize } = this.settings;
    if (this.waiting >= maxQueueSize || this.waiting + this.inFlight >= maxQueueSize + maxExportBatchSize) {
      this.onDrop(1, `span queue full (${this.waiting} spans waiting for export)`);
      return;
    }
    const writer = this.writerFor(span);
    const mark = writer.pos;
    try {
      encodeSpan(writer, span);
    } catch (error) {
      // An attribute no encoder foresaw must cost its span, never the app's call.
      writer.pos = mark;
      this.onDrop(1, `cannot encode span ${span.name}: ${describeError(error)}`);
      return;
    }
    this.waiting++;
    if (++this.filling.spans < maxExportBatchSize) {
      this.startTimer();
      return;
    }
    this.full.push(this.filling);
    this.filling = emptyBatch();
    this.scheduleSend();
  }

  /** Exports everything waiting and waits for every export in flight. Rejects if one failed. */
  async forceFlush(): Promise<void> {
    let failure: unknown;
    const note = (error: unknown) => {
      failure ??= error;
    };
    while (this.waiting > 0 || this.exports.size > 0) {
      while (this.waiting > 0 && this.exports.size < MAX_EXPORTS_IN_FLIGHT) this.sendNext().catch(note);
      await Promise.race(this.exports).catch(note);
    }
    if (failure !== undefined) throw failure;
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

  async shutdown(): Promise<void> {
    if (this.shutDown) return;
    try {
      await this.forceFlush();
    } finally {
      this.shutDown = true;
      this.clearTimer();
      await this.delegate.shutdown();
    }
  }

  private writerFor(span: ReadableSpan): ProtobufWriter {
    const { byResource } = this.filling;
    let scopes = byResource.get(span.resource);
    if (scopes === undefined) {
      scopes = new Map();
      byResource.set(span.resource, scopes);
    }
    let writer = scopes.get(span.instrumentationScope);
    if (writer === undefined) {
      writer = this.spareWriters.pop() ?? new ProtobufWriter();
      scopes.set(span.instrumentationScope, writer);
    }
    return writer;
  }

  private startTimer(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sendInBackground(true);
    }, this.settings.scheduledDelayMillis);
    this.timer.unref();
  }

  private clearTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A full batch leaves after the current call: the request that filled it does not pay for the send. */
  private scheduleSend(): void {
    if (this.sendScheduled || this.exports.size >= MAX_EXPORTS_IN_FLIGHT) return;
    this.sendScheduled = true;
    setImmediate(() => {
      this.sendScheduled = false;
      this.sendInBackground(false);
    }).unref();
  }

  /** Sends full batches while an export is free, and `withFilling`, the batch not yet full too (the timer's turn). */
  private sendInBackground(withFilling: boolean): void {
    while (
      this.exports.size < MAX_EXPORTS_IN_FLIGHT &&
      (this.full.length > 0 || (withFilling && this.filling.spans > 0))
    ) {
      // Failures are counted and reported where they happen.
      this.sendNext().catch(() => {});
    }
  }

  /** Sends the oldest full batch, else the one filling; when it settles, the next full one goes. */
  private sendNext(): Promise<void> {
    this.clearTimer();
    let batch = this.full.shift();
    if (batch === undefined) {
      batch = this.filling;
      this.filling = emptyBatch();
    }
    const { spans } = batch;
    this.waiting -= spans;
    this.inFlight += spans;
    const exporting = this.export(batch)
      .catch((error: unknown) => {
        if (!this.abandoned) this.onDrop(spans, `cannot export spans: ${describeExportError(error)}`);
        throw error;
      })
      .finally(() => {
        this.inFlight -= spans;
        this.exports.delete(exporting);
        if (this.full.length > 0) this.scheduleSend();
        else if (this.waiting > 0) this.startTimer();
      });
    this.exports.add(exporting);
    return exporting;
  }

  private async export({ byResource, spans }: EncodedBatch): Promise<void> {
    const resourceSpans: EncodedResourceSpans[] = [];
    for (const [resource, scopes] of byResource) {
      // Detectors may still be settling (the host id is read asynchronously): wait, as the SDK's batch processor does.
      if (resource.asyncAttributesPending) await resource.waitForAsyncAttributes?.();
      resourceSpans.push({
        resource: { attributes: resource.attributes, schemaUrl: resource.schemaUrl },
        scopes: [...scopes].map(([scope, writer]) => ({ scope, spans: writer.bytes() })),
      });
    }
    const requestWriter = this.spareRequestWriters.pop() ?? new ProtobufWriter();
    const batch: Batch = { body: encodeRequest(resourceSpans, requestWriter), spans };
    for (const scopes of byResource.values()) {
      for (const writer of scopes.values()) {
        writer.reset();
        if (this.spareWriters.length < MAX_SPARE_WRITERS) this.spareWriters.push(writer);
      }
    }
    const { exportTimeoutMillis } = this.settings;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        if (error === undefined) resolve();
        else reject(error);
      };
      const timeout = setTimeout(
        () => settle(new Error(`no answer within ${exportTimeoutMillis} ms`)),
        exportTimeoutMillis,
      );
      timeout.unref();
      context.with(this.exportContext, () =>
        this.delegate.export(batch, (result) => {
          if (result.code !== ExportResultCode.SUCCESS) {
            // The body may still be in a write the transport gave up on: its buffer is not reused.
            settle(result.error ?? new Error('export failed'));
            return;
          }
          // The collector answered, having read the whole body: its buffer can take the next one.
          if (this.spareRequestWriters.length < MAX_EXPORTS_IN_FLIGHT)
            this.spareRequestWriters.push(requestWriter);
          settle(undefined);
        }),
      );
    });
  }
}

/** OpenTelemetry's OTLP/HTTP transport, given bodies this module encoded. */
function createTransport(url: string, timeoutMillis: number | undefined): IOtlpExportDelegate<Batch> {
  return createOtlpHttpExportDelegate(
    convertLegacyHttpOptions({ url, timeoutMillis }, 'TRACES', 'v1/traces', {
      'Content-Type': 'application/x-protobuf',
    }),
    {
      serializeRequest: (batch: Batch) => batch.body,
      // A response's only content is a partial success, which Chokepoint's collector never answers
      // (it takes a request whole or refuses it with a 4xx); another collector's is left unread.
      deserializeResponse: () => ({}),
    },
    'otlp_http_span_exporter',
    { name: 'span', countItems: (batch: Batch) => batch.spans },
    undefined,
  );
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
