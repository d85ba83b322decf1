/**
 * The collector's own health series and their wiring: ingestion timed and its failures
 * counted as dropped spans, and `--metrics-top-queries` reaching the observer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCollectorMetrics, recordIngest } from '../../../collector/api/metrics.js';
import { parseCollectorArgs, UsageError } from '../../../collector/config.js';
import { startCollector } from '../../../collector/index.js';
import { SqliteStore } from '../../../collector/store/sqlite-store.js';
import { exportRequest, postTraces, slowQueryTrace } from '../../support/otlp-fixtures.js';
import { parseExposition, samplesOf, sampleValue } from '../../support/prometheus-text.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chokepoint-metrics-'));
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('recordIngest', () => {
  it('counts spans received, times each request, and counts spans as dropped when ingestion throws', async () => {
    const store = new SqliteStore(join(dir, 'health.db'));
    try {
      const metrics = createCollectorMetrics(store, () => 0);
      const ingested: number[] = [];
      recordIngest(metrics, 3, () => ingested.push(3));
      expect(() =>
        recordIngest(metrics, 2, () => {
          throw new Error('store is gone');
        }),
      ).toThrow('store is gone');
      const samples = parseExposition(await metrics.registry.metrics());
      expect(ingested).toEqual([3]);
      expect(sampleValue(samples, 'chokepoint_collector_spans_received_total')).toBe(5);
      expect(sampleValue(samples, 'chokepoint_collector_spans_dropped_total')).toBe(2);
      expect(sampleValue(samples, 'chokepoint_collector_ingest_duration_seconds_count')).toBe(2);
    } finally {
      store.close();
    }
  });
});

describe('collector wiring', () => {
  it('--metrics-top-queries takes a whole number ≥ 1, 100 by default', () => {
    expect(parseCollectorArgs([], {}).metricsTopQueries).toBe(100);
    expect(parseCollectorArgs(['--metrics-top-queries', '5'], {}).metricsTopQueries).toBe(5);
    expect(parseCollectorArgs([], { CHOKEPOINT_METRICS_TOP_QUERIES: '7' }).metricsTopQueries).toBe(7);
    expect(() => parseCollectorArgs(['--metrics-top-queries=0'], {})).toThrow(UsageError);
  });

  it('gives the first fingerprints their own series up to the limit and folds the rest into "other"', async () => {
    const collector = await startCollector({
      port: 0,
      otlpPort: 0,
      db: join(dir, 'wired.db'),
      metricsTopQueries: 1,
      quiet: true,
    });
    try {
      const spans = [
        ...slowQueryTrace({ route: '/a', statement: 'SELECT * FROM a WHERE id = 1', queryMs: 5 }),
        ...slowQueryTrace({ route: '/b', statement: 'SELECT * FROM b WHERE id = 2', queryMs: 5 }),
      ];
      await postTraces(collector.otlpUrl, exportRequest('shop', spans));
      await collector.flush();
      const samples = parseExposition(await (await fetch(`${collector.dashboardUrl}/metrics`)).text());
      const ids = samplesOf(samples, 'chokepoint_db_queries_total').map(
        (sample) => sample.labels.fingerprint_id,
      );
      expect(ids).toHaveLength(2);
      expect(ids).toContain('other');
      expect(samplesOf(samples, 'chokepoint_db_query_info')).toHaveLength(1);
      expect(sampleValue(samples, 'chokepoint_collector_spans_received_total')).toBe(spans.length);
    } finally {
      await collector.close();
    }
  });
});
