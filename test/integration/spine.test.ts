/**
 * The spine, end to end: an app on real pg and better-sqlite3 runs under the built
 * agent, exports OTLP protobuf to a real collector on ephemeral ports, and the
 * collector's SQLite file ends up holding slow_query and n_plus_one findings —
 * with no SQL literal from the app's traffic anywhere in it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningCollector, startCollector } from '../../collector/index.js';
import { describeWithServices } from '../support/services.js';

const ROOT = join(__dirname, '..', '..');

await describeWithServices(['postgres'], 'agent → collector → SQLite findings', () => {
  let collector: RunningCollector;
  let app: ChildProcess;
  let appUrl: string;
  let dbPath: string;

  beforeAll(async () => {
    dbPath = join(mkdtempSync(join(tmpdir(), 'chokepoint-spine-')), 'spine.db');
    // Scanning 200k rows takes ~10 ms here; a 2 ms threshold keeps the test independent of machine speed
    // while the indexed N+1 lookups (~0.3 ms) stay below it.
    collector = await startCollector({ otlpPort: 0, port: 0, db: dbPath, quiet: true, slowQueryMs: 2 });
    app = spawn(
      process.execPath,
      ['--require', 'chokepoint/agent', join(__dirname, 'fixtures', 'orders-app.js')],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          OTEL_SERVICE_NAME: 'orders',
          OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpUrl,
          OTEL_BSP_SCHEDULE_DELAY: '100',
          PG_SCHEMA: `chokepoint_spine_${process.pid}`,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    app.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    appUrl = await new Promise<string>((resolve, reject) => {
      app.stdout?.on('data', (chunk: Buffer) => {
        const port = /listening on (\d+)/.exec(chunk.toString())?.[1];
        if (port) resolve(`http://127.0.0.1:${port}`);
      });
      app.once('exit', (code) => reject(new Error(`app exited with ${code}: ${stderr}`)));
    });
  });

  afterAll(async () => {
    if (app?.exitCode === null) app.kill('SIGKILL');
    await collector?.close();
  });

  it('turns real driver spans into slow_query and n_plus_one findings stored in SQLite', async () => {
    for (let i = 0; i < 5; i++) {
      for (const path of ['/orders/by-email', '/orders/with-items', '/sqlite/with-items']) {
        const res = await fetch(appUrl + path);
        expect(res.status).toBe(200);
      }
    }
    // The agent flushes on SIGTERM: once the app has exited, every span has been delivered.
    const exited = new Promise((resolve) => app.once('exit', resolve));
    app.kill('SIGTERM');
    await exited;
    await collector.flush();

    const db = new Database(dbPath, { readonly: true });
    const rows = db
      .prepare('SELECT kind, service, evidence FROM findings ORDER BY impact DESC')
      .all() as Array<{
      kind: string;
      service: string;
      evidence: string;
    }>;
    db.close();
    const findings = rows.map((row) => ({
      ...row,
      evidence: JSON.parse(row.evidence) as Record<string, unknown>,
    }));

    const slow = findings.find(
      (f) =>
        f.kind === 'slow_query' &&
        f.evidence.statementType === 'select' &&
        String(f.evidence.fingerprint).includes('customer_email'),
    );
    expect(slow?.service).toBe('orders');
    expect(slow?.evidence).toMatchObject({ system: 'postgresql', count: 5 });
    expect(slow?.evidence.routes).toEqual([{ route: 'GET /orders/by-email', count: 5 }]);
    expect(slow?.evidence.fingerprint).toBe(
      `select id, total from chokepoint_spine_${process.pid}.orders where customer_email = ?`,
    );

    const pgNPlusOne = findings.find((f) => f.kind === 'n_plus_one' && f.evidence.system === 'postgresql');
    expect(pgNPlusOne?.evidence).toMatchObject({ requests: 5, avgRepeats: 8 });
    expect(String(pgNPlusOne?.evidence.fingerprint)).toContain('order_items where order_id = ?');

    const sqliteNPlusOne = findings.find((f) => f.kind === 'n_plus_one' && f.evidence.system === 'sqlite');
    expect(sqliteNPlusOne?.evidence).toMatchObject({ requests: 5, avgRepeats: 7 });

    const bytes = readFileSync(dbPath).toString('latin1') + readWal(dbPath);
    expect(bytes).not.toContain('customer4242@example.com');
  });
});

function readWal(dbPath: string): string {
  try {
    return readFileSync(`${dbPath}-wal`).toString('latin1');
  } catch {
    return '';
  }
}
