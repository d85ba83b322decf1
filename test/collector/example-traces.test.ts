/**
 * A finding keeps one whole example request: the pipeline remembers recent traces,
 * stores the one a finding names, and the API serves it for the N+1 waterfall —
 * scrubbed like everything else.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCollector, startCollector } from '../../collector/index.js';
import type { Finding, Operation } from '../../model/index.js';
import { exportRequest, nPlusOneTrace, postTraces } from '../support/otlp-fixtures.js';

describe('example traces', () => {
  let collector: RunningCollector;
  let dbPath: string;

  beforeAll(async () => {
    dbPath = join(mkdtempSync(join(tmpdir(), 'chokepoint-examples-')), 'c.db');
    collector = await startCollector({ otlpPort: 0, port: 0, db: dbPath, quiet: true });
    const trace = nPlusOneTrace({
      route: '/orders/recent',
      statement: (i) =>
        `SELECT * FROM order_items WHERE order_id = ${1000 + i} AND note = 'alice@example.com'`,
      repeats: 9,
    });
    await postTraces(collector.otlpUrl, exportRequest('shop', trace));
    await collector.flush();
  });

  afterAll(() => collector.close());

  async function api<T>(path: string): Promise<{ status: number; body: T }> {
    const response = await fetch(collector.dashboardUrl + path);
    return { status: response.status, body: (await response.json()) as T };
  }

  it('stores the N+1 finding’s example request with every repeated query, scrubbed', async () => {
    const { body } = await api<{ findings: Finding[] }>('/api/findings?kind=n_plus_one');
    const traceId = String(body.findings[0]?.evidence.exampleTraceId);
    const { status, body: trace } = await api<{ traceId: string; operations: Operation[] }>(
      `/api/traces/${traceId}`,
    );
    expect(status).toBe(200);
    expect(trace.traceId).toBe(traceId);
    const queries = trace.operations.filter((op) => op.type === 'db_query');
    expect(queries).toHaveLength(9);
    expect(new Set(queries.map((q) => (q.type === 'db_query' ? q.fingerprint : '')))).toEqual(
      new Set(['select * from order_items where order_id = ? and note = ?']),
    );
    expect(trace.operations.find((op) => op.type === 'http_server')).toMatchObject({
      route: '/orders/recent',
    });
    expect(JSON.stringify(trace)).not.toContain('alice@example.com');
    const stored = [dbPath, `${dbPath}-wal`]
      .filter(existsSync)
      .map((path) => readFileSync(path).toString('latin1'));
    expect(stored.join('')).toContain('order_items');
    expect(stored.join('')).not.toContain('alice@example.com');
  });

  it('answers 404 for a trace it does not keep', async () => {
    const { status, body } = await api<{ error: string }>('/api/traces/0123456789abcdef0123456789abcdef');
    expect(status).toBe(404);
    expect(body.error).toBe('no example trace 0123456789abcdef0123456789abcdef is stored');
  });
});
