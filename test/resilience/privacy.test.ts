/**
 * Privacy: an app on real pg, better-sqlite3 and ioredis runs under the built agent with the
 * agent's own scrubbing off, its traffic full of planted secrets — an email and card numbers
 * in SQL literals, a JWT and an API token in Redis keys, a bearer token, a cookie and a query
 * string key on HTTP. The collector turns that traffic into findings; afterwards none of the
 * secrets appears in any API response, in `/metrics`, or anywhere in the bytes of the SQLite
 * file and its WAL, before or after the collector closes (and checkpoints).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningCollector, startCollector } from '../../collector/index.js';
import type { Finding } from '../../model/index.js';
import { killApps, runWithAgent } from '../support/agent-process.js';
import { describeWithServices } from '../support/services.js';

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MjQyIiwibmFtZSI6IkphbmUgRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const SECRETS = {
  email: 'jane.doe+secret@example.com',
  card: '4111-1111-1111-1111',
  cardDigits: '4111111111111111',
  jwt: JWT,
  apiToken: 'tok_live_9f8e7d6c5b4a3210ffee',
  bearer: 's3cr3t-bearer-VALUE-7781',
  cookie: 'c00kie-VALUE-5521',
  queryKey: 'qs-api-key-3319',
};
/** Each secret, and the fragments of it that would give it away on their own. */
const NEEDLES = [
  ...Object.values(SECRETS),
  'jane.doe',
  '1111-1111',
  JWT.split('.')[1] as string,
  JWT.split('.')[2] as string,
  'adQssw5c',
  '9f8e7d6c5b4a3210',
];

function leaks(text: string): string[] {
  return NEEDLES.filter((needle) => text.includes(needle));
}

await describeWithServices(['postgres', 'redis'], 'secrets in traffic never reach storage', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'chokepoint-privacy-'));
  const db = join(workDir, 'collector.db');
  let collector: RunningCollector;
  let findings: Finding[];
  let closed = false;

  async function get(path: string): Promise<string> {
    const response = await fetch(collector.dashboardUrl + path);
    expect(response.status, path).toBe(200);
    return response.text();
  }

  function fileBytes(): string {
    return ['', '-wal', '-shm']
      .filter((suffix) => existsSync(db + suffix))
      .map((suffix) => readFileSync(db + suffix).toString('latin1'))
      .join('\n');
  }

  beforeAll(async () => {
    collector = await startCollector({ otlpPort: 0, port: 0, db, quiet: true });
    const app = runWithAgent('test/resilience/fixtures/secrets-app.js', {
      env: {
        OTEL_SERVICE_NAME: 'secrets',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpUrl,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        CHOKEPOINT_SCRUB: 'none',
        PG_SCHEMA: `chokepoint_privacy_${process.pid}`,
        SECRETS: JSON.stringify(SECRETS),
      },
    });
    const [, port] = await app.waitForStdout(/listening on (\d+)/);
    const headers = { authorization: `Bearer ${SECRETS.bearer}`, cookie: `session=${SECRETS.cookie}` };
    for (let round = 0; round < 5; round++) {
      for (const path of [
        '/customers',
        '/payments',
        '/session',
        '/proxy',
        `/reset/${JWT}?email=${SECRETS.email}`,
      ]) {
        const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
        expect(response.status, path).toBe(200);
      }
    }
    // Both N+1 loops found means the secret-laden statements went all the way through.
    const deadline = Date.now() + 15_000;
    for (;;) {
      await collector.flush();
      findings = JSON.parse(await get('/api/findings')).findings as Finding[];
      const loops = findings.filter((f) => f.service === 'secrets' && f.kind === 'n_plus_one');
      if (loops.length >= 2) break;
      if (Date.now() > deadline) throw new Error(`N+1 findings not reported: ${JSON.stringify(findings)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    app.child.kill('SIGTERM');
    await app.exited;
    await collector.flush();
  });

  afterAll(async () => {
    killApps();
    if (!closed) await collector?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('stored findings made of the secret-laden statements, literals replaced', () => {
    const fingerprints = findings
      .filter((finding) => finding.service === 'secrets' && finding.kind === 'n_plus_one')
      .map((finding) => String(finding.evidence.fingerprint));
    expect(fingerprints).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/customers where email = \? and card = \?$/),
        expect.stringMatching(/^insert into payments ?\(card, email\) values \(\?, \?\)$/),
      ]),
    );
  });

  it('serves no secret from any API endpoint', async () => {
    const services = JSON.parse(await get('/api/services')).services as string[];
    expect(services).toContain('secrets');
    const bodies = [await get('/api/findings'), await get('/api/services'), await get('/api/meta')];
    for (const list of ['queries', 'endpoints', 'caches', 'queues', 'runtime']) {
      bodies.push(await get(`/api/${list}?since=24h`));
    }
    const traceIds = new Set<string>();
    for (const finding of findings) {
      const detail = await get(`/api/findings/${finding.id}`);
      bodies.push(detail);
      for (const [, traceId] of detail.matchAll(/"(?:exampleTraceId|traceId)":"([0-9a-f]{32})"/g)) {
        traceIds.add(traceId as string);
      }
    }
    for (const traceId of traceIds) {
      const response = await fetch(`${collector.dashboardUrl}/api/traces/${traceId}`);
      bodies.push(await response.text());
    }
    expect(traceIds.size).toBeGreaterThan(0);
    expect(leaks(bodies.join('\n'))).toEqual([]);
  });

  it('exposes no secret in /metrics', async () => {
    const metrics = await get('/metrics');
    expect(metrics).toContain('chokepoint_collector_spans_received_total');
    expect(leaks(metrics)).toEqual([]);
  });

  it('writes no secret to the SQLite file or its WAL, before or after closing', async () => {
    const open = fileBytes();
    expect(open).toContain('customers where email = ?');
    expect(leaks(open)).toEqual([]);
    await collector.close();
    closed = true;
    expect(leaks(fileBytes())).toEqual([]);
  });
});
