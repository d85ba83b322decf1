/**
 * A finding that gets worse with a new release: OTLP exports of two versions of one
 * service reach a real collector, and the API shows the finding regressed, with what it
 * was measured against.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCollector, startCollector } from '../../../collector/index.js';
import type { Finding } from '../../../model/index.js';
import { exportRequest, postTraces, slowQueryTrace } from '../../support/otlp-fixtures.js';

const STATEMENT = (n: number) => `SELECT * FROM orders WHERE customer_email = 'c${n}@example.com'`;

describe('regression after a new service.version', () => {
  let collector: RunningCollector;

  beforeAll(async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'chokepoint-regression-')), 'findings.db');
    collector = await startCollector({ otlpPort: 0, port: 0, db, quiet: true, detectIntervalMs: 60_000 });
  });

  afterAll(() => collector?.close());

  async function release(version: string, queryMs: number) {
    for (let i = 0; i < 10; i++) {
      const spans = slowQueryTrace({ route: '/orders/by-email', statement: STATEMENT(i), queryMs });
      await postTraces(collector.otlpUrl, exportRequest('shop', spans, { 'service.version': version }));
    }
    await collector.flush();
    const { findings } = (await (
      await fetch(`${collector.dashboardUrl}/api/findings?kind=slow_query`)
    ).json()) as {
      findings: Finding[];
    };
    return findings;
  }

  it('keeps a finding new while the version stays, and marks it regressed when the next one is slower', async () => {
    const [first] = await release('1.0.0', 150);
    expect(first).toMatchObject({ status: 'new', serviceVersion: '1.0.0' });
    expect(first).not.toHaveProperty('baseline');
    const [same] = await release('1.0.0', 160);
    expect(same?.status).toBe('new');

    const [regressed] = await release('1.1.0', 600);
    expect(regressed).toMatchObject({
      id: first?.id,
      status: 'regressed',
      serviceVersion: '1.1.0',
      baseline: { serviceVersion: '1.0.0' },
    });
    expect(Number(regressed?.baseline?.p95Ms)).toBeLessThan(170);
    expect(Number(regressed?.p95Ms)).toBeGreaterThan(1.5 * Number(regressed?.baseline?.p95Ms));
  });
});
