/**
 * The collector's own Prometheus metrics (prom-client, one registry per collector
 * so several can live in one process): its health, and the open findings. Gauges
 * are read at scrape time. What the apps do (requests, queries, cache, queues,
 * runtime) is added to the same registry by `createPrometheusObserver`.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from '../store/types.js';

export interface CollectorMetrics {
  registry: Registry;
  /** Spans the OTLP receiver decoded and handed to the pipeline. */
  spansReceived: Counter;
  /** Spans handed to the pipeline that it failed to take in (the exporter is answered 500). */
  spansDropped: Counter;
  requestsRejected: Counter<'reason'>;
  /** Time the pipeline took to take in one request's spans (normalise, assemble). */
  ingestDuration: Histogram;
}

/** Ingesting one export request takes microseconds to tens of milliseconds. */
const INGEST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/**
 * @example
 * const metrics = createCollectorMetrics(store, () => pipeline.pendingTraces);
 * const text = await metrics.registry.metrics();
 */
export function createCollectorMetrics(store: Store, pendingTraces: () => number): CollectorMetrics {
  const registry = new Registry();
  const spansReceived = new Counter({
    name: 'chokepoint_collector_spans_received_total',
    help: 'Spans accepted by the OTLP receiver.',
    registers: [registry],
  });
  const spansDropped = new Counter({
    name: 'chokepoint_collector_spans_dropped_total',
    help: 'Spans accepted by the OTLP receiver that the pipeline failed to take in.',
    registers: [registry],
  });
  const requestsRejected = new Counter({
    name: 'chokepoint_collector_requests_rejected_total',
    help: 'OTLP export requests rejected, by HTTP status.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const ingestDuration = new Histogram({
    name: 'chokepoint_collector_ingest_duration_seconds',
    help: "Time the pipeline took to normalise and assemble one export request's spans.",
    buckets: INGEST_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: 'chokepoint_collector_pending_traces',
    help: 'Traces held by the assembler, waiting for their root span.',
    registers: [registry],
    collect() {
      this.set(pendingTraces());
    },
  });
  new Gauge({
    name: 'chokepoint_collector_sqlite_size_bytes',
    help: 'Size of the SQLite database file.',
    registers: [registry],
    collect() {
      this.set(store.sizeBytes());
    },
  });
  new Gauge({
    name: 'chokepoint_findings_open',
    help: 'Findings not resolved, by service, kind and severity.',
    labelNames: ['service', 'kind', 'severity'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const finding of store.listFindings()) {
        if (finding.status === 'resolved') continue;
        this.inc({ service: finding.service, kind: finding.kind, severity: finding.severity });
      }
    },
  });
  return { registry, spansReceived, spansDropped, requestsRejected, ingestDuration };
}

/**
 * Runs `ingest` for one request's spans, timing it and counting the spans as received,
 * and as dropped too when `ingest` throws (the error goes on to the receiver, which answers 500).
 *
 * @example
 * onSpans: (spans) => recordIngest(metrics, spans.length, () => pipeline.ingest(spans)),
 */
export function recordIngest(metrics: CollectorMetrics, spanCount: number, ingest: () => void): void {
  metrics.spansReceived.inc(spanCount);
  const stopTimer = metrics.ingestDuration.startTimer();
  try {
    ingest();
  } catch (error) {
    metrics.spansDropped.inc(spanCount);
    throw error;
  } finally {
    stopTimer();
  }
}
