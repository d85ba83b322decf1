/**
 * The collector's own Prometheus metrics (prom-client, one registry per collector
 * so several can live in one process). Values are read at scrape time.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { Store } from '../store/types.js';

export interface CollectorMetrics {
  registry: Registry;
  spansReceived: Counter;
  requestsRejected: Counter<'reason'>;
}

export function createCollectorMetrics(store: Store, pendingTraces: () => number): CollectorMetrics {
  const registry = new Registry();
  const spansReceived = new Counter({
    name: 'chokepoint_collector_spans_received_total',
    help: 'Spans accepted by the OTLP receiver.',
    registers: [registry],
  });
  const requestsRejected = new Counter({
    name: 'chokepoint_collector_requests_rejected_total',
    help: 'OTLP export requests rejected, by HTTP status.',
    labelNames: ['reason'] as const,
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
  return { registry, spansReceived, requestsRejected };
}
