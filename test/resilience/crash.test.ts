/**
 * Crash: the collector, run as users run it (`node dist/cli/main.js collector`), is killed
 * with SIGKILL in the middle of sustained ingest, three times over, and restarted on the same
 * SQLite file each time. After every kill the file passes `PRAGMA integrity_check`, and every
 * finding the API served before a kill — so committed — is still served afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../model/index.js';
import { exportRequest, postTraces, slowQueryTrace } from '../support/otlp-fixtures.js';
import { killCollectorProcesses, startCollectorProcess } from './collector-process.js';

/** Detection (and its SQLite writes) every 200 ms: a kill is likely to land in one. */
const DETECT_OFTEN = ['--detect-interval-ms', '200'];

async function servedFindings(dashboardUrl: string): Promise<Finding[]> {
  const response = await fetch(`${dashboardUrl}/api/findings`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { findings: Finding[] }).findings;
}

/** Posts slow-query traffic, a new statement per export, from `loops` loops until stopped or refused. */
function sustainIngest(otlpUrl: string, loops: number, firstTable: { next: number }) {
  let running = true;
  const done = Promise.all(
    Array.from({ length: loops }, async () => {
      while (running) {
        const table = firstTable.next++;
        const traces = Array.from({ length: 5 }, () =>
          slowQueryTrace({
            route: `/reports/${table}`,
            statement: `SELECT * FROM report_${table} WHERE id = 1`,
            queryMs: 120,
          }),
        ).flat();
        try {
          await postTraces(otlpUrl, exportRequest('reports', traces));
        } catch {
          return; // the collector is gone
        }
      }
    }),
  );
  return {
    stop: async () => {
      running = false;
      await done;
    },
  };
}

function integrityCheck(db: string): string {
  const database = new Database(db, { readonly: true });
  try {
    return database.pragma('integrity_check', { simple: true }) as string;
  } finally {
    database.close();
  }
}

describe('collector killed with SIGKILL during ingest', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'chokepoint-crash-'));
  const db = join(workDir, 'collector.db');

  afterAll(() => {
    killCollectorProcesses();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('restarts on an intact file holding every finding it served before each kill', async () => {
    const table = { next: 0 };
    const served = new Map<string, Finding>();
    for (let round = 0; round < 3; round++) {
      const collector = await startCollectorProcess({ db, args: DETECT_OFTEN });
      // Everything served before a previous kill is served again after the restart.
      const afterRestart = new Map((await servedFindings(collector.dashboardUrl)).map((f) => [f.id, f]));
      for (const [id, finding] of served) {
        expect(afterRestart.get(id), `finding ${finding.title} lost`).toMatchObject({
          kind: finding.kind,
          service: finding.service,
          firstSeen: finding.firstSeen,
        });
      }

      const ingest = sustainIngest(collector.otlpUrl, 4, table);
      const seenBefore = served.size;
      await expect
        .poll(
          async () => {
            for (const finding of await servedFindings(collector.dashboardUrl))
              served.set(finding.id, finding);
            return served.size;
          },
          { timeout: 15_000, interval: 100 },
        )
        .toBeGreaterThanOrEqual(seenBefore + 5);

      // Mid-ingest: exports in flight, detection writing every 200 ms.
      collector.child.kill('SIGKILL');
      expect(await collector.exited).toBe('SIGKILL');
      await ingest.stop();
      expect(integrityCheck(db)).toBe('ok');
    }

    const last = await startCollectorProcess({ db, args: DETECT_OFTEN });
    const final = new Map((await servedFindings(last.dashboardUrl)).map((finding) => [finding.id, finding]));
    expect(served.size).toBeGreaterThanOrEqual(15);
    for (const id of served.keys()) expect(final.has(id)).toBe(true);
    // Still a working collector: new traffic becomes a new finding.
    await postTraces(
      last.otlpUrl,
      exportRequest(
        'reports',
        Array.from({ length: 5 }, () =>
          slowQueryTrace({
            route: '/after',
            statement: 'SELECT * FROM after_crash WHERE id = 1',
            queryMs: 120,
          }),
        ).flat(),
      ),
    );
    await expect
      .poll(
        async () => (await servedFindings(last.dashboardUrl)).some((f) => f.title.includes('after_crash')),
        {
          timeout: 10_000,
        },
      )
      .toBe(true);
    last.child.kill('SIGTERM');
    await last.exited;
  });
});
