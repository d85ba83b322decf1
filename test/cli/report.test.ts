/**
 * `chokepoint report` on a real store filled through the real pipeline: OTLP/JSON exports decoded
 * by the receiver's decoder, normalised, assembled, detected and stored in SQLite. Two services,
 * one of them last seen three hours ago, so that filters have something to leave out. The built
 * CLI reads the file read-only (while a collector has it open) and a running collector's API.
 * Run `npx tsc -p tsconfig.json` first: the CLI runs from dist/.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../cli/report-format.js';
import { buildReport, evidenceFacts, formatMarkdown, useColor } from '../../cli/report-format.js';
import { type RunningCollector, startCollector } from '../../collector/index.js';
import { Pipeline } from '../../collector/pipeline.js';
import { decodeJsonTraceRequest } from '../../collector/receive/otlp-json.js';
import { SqliteStore } from '../../collector/store/sqlite-store.js';
import type { Finding } from '../../model/index.js';
import { exportRequest, nPlusOneTrace, type OtlpSpan, slowQueryTrace } from '../support/otlp-fixtures.js';
import { runCli } from './run-cli.js';

const HOUR = 60 * 60_000;
const ESC = '\u001b';
const ANSI = new RegExp(`${ESC}\\[\\d+m`);
const stripAnsi = (text: string) => text.replace(new RegExp(`${ESC}\\[\\d+m`, 'g'), '');
/** A literal the shop's traffic carries: it must never reach the report. */
const EMAIL = 'customer4242@example.com';

let dir: string;
let dbPath: string;
/** What the store holds, read independently of the CLI. */
let stored: Finding[];
let collector: RunningCollector;

/** Feeds the pipeline as the receiver does, at the pipeline's own clock. */
function fill(pipeline: Pipeline, service: string, traces: OtlpSpan[][]): void {
  for (const spans of traces)
    pipeline.ingest(decodeJsonTraceRequest(JSON.stringify(exportRequest(service, spans))));
  pipeline.flush();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chokepoint-report-'));
  dbPath = join(dir, 'chokepoint.db');
  const store = new SqliteStore(dbPath);
  let now = Date.now() - 3 * HOUR;
  const pipeline = new Pipeline(store, {}, () => now);
  const repeat = <T>(times: number, make: (index: number) => T) =>
    Array.from({ length: times }, (_, i) => make(i));

  fill(
    pipeline,
    'billing',
    repeat(4, () =>
      nPlusOneTrace({
        route: '/invoices/:id',
        statement: (i) => `SELECT * FROM invoice_lines WHERE invoice_id = ${i}`,
        repeats: 6,
        startMs: now - 1_000,
      }),
    ),
  );
  now = Date.now();
  fill(pipeline, 'shop', [
    ...repeat(4, (i) =>
      slowQueryTrace({
        route: '/orders',
        statement: `SELECT id, total FROM orders WHERE customer_email = '${i === 0 ? EMAIL : `c${i}@example.com`}'`,
        queryMs: 250 + i * 10,
        startMs: now - 1_000,
      }),
    ),
    ...repeat(4, () =>
      nPlusOneTrace({
        route: '/orders/:id',
        statement: (i) => `SELECT * FROM order_items WHERE order_id = ${i}`,
        repeats: 9,
        startMs: now - 1_000,
      }),
    ),
  ]);
  stored = store.listFindings();
  store.close();
  // A collector holding the same file open, for --url and for reading the file while it is in use.
  // It detects only when closed, so the file holds what was stored above throughout.
  collector = await startCollector({
    port: 0,
    otlpPort: 0,
    db: dbPath,
    quiet: true,
    detectIntervalMs: 24 * HOUR,
  });
});

afterAll(async () => {
  await collector?.close();
});

const byService = (service: string) => stored.filter((finding) => finding.service === service);

describe('the store the report reads', () => {
  it('holds findings of both services, billing last seen three hours ago', () => {
    expect(byService('shop').map((f) => f.kind)).toEqual(
      expect.arrayContaining(['slow_query', 'n_plus_one']),
    );
    expect(byService('billing').map((f) => f.kind)).toContain('n_plus_one');
    for (const finding of byService('billing'))
      expect(Date.now() - Date.parse(finding.lastSeen)).toBeGreaterThan(2 * HOUR);
  });
});

describe('chokepoint report --db', () => {
  it('prints every finding as a plain table in impact order, with evidence and fix, when piped', async () => {
    const run = await runCli(['report', '--db', dbPath]);

    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(ANSI);
    expect(run.stdout.split('\n')[0]).toBe(
      `Chokepoint report: ${stored.length} findings (${severityCounts(stored)}) from ${dbPath}`,
    );
    expect(run.stdout).toMatch(/^#\s+SEVERITY\s+IMPACT\s+KIND\s+SERVICE\s+FINDING$/m);
    const titleLines = stored.map((finding) => run.stdout.indexOf(`  ${finding.title}\n`));
    expect(titleLines.every((at) => at > 0)).toBe(true);
    expect(titleLines).toEqual([...titleLines].sort((a, b) => a - b));
    for (const finding of stored) {
      expect(run.stdout).toContain(finding.recommendation.summary);
      expect(run.stdout).toContain(`id ${finding.id}`);
    }
    const slow = byService('shop').find((f) => f.kind === 'slow_query') as Finding;
    expect(run.stdout).toContain(`query     ${slow.evidence.fingerprint} (postgresql)`);
    expect(run.stdout).toMatch(/routes\s+GET \/orders \(4\)/);
    expect(run.stdout).toMatch(
      /evidence\s+count 4 · errors 0 · total [\d.]+ s · p50 2\d\d ms · p95 2\d\d ms/,
    );
    expect(run.stdout).not.toContain(EMAIL);
  });

  it('colours for a forced-colour terminal, and never under NO_COLOR', async () => {
    const forced = await runCli(['report', '--db', dbPath], { env: { FORCE_COLOR: '1' } });
    expect(forced.stdout).toMatch(ANSI);
    const refused = await runCli(['report', '--db', dbPath], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
    expect(refused.stdout).not.toMatch(ANSI);
    expect(refused.stdout).toBe(stripAnsi(forced.stdout));
  });

  it('prints Markdown: a table row and a collapsible block with the fix for every finding', async () => {
    const run = await runCli(['report', '--db', dbPath, '--format', 'markdown']);

    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('## Chokepoint report');
    const rows = lines.filter((line) => /^\| \d+ \|/.test(line));
    expect(rows).toHaveLength(stored.length);
    stored.forEach((finding, index) => {
      expect(rows[index]).toContain(` ${finding.severity} | `);
      expect(rows[index]).toContain(` | ${finding.title} | \`${finding.kind}\` | ${finding.service} |`);
    });
    expect(lines.filter((line) => line.startsWith('<details><summary>'))).toHaveLength(stored.length);
    const withCode = stored.filter((finding) => finding.recommendation.code);
    expect(run.stdout.match(/^```(sql|javascript)$/gm)).toHaveLength(withCode.length);
    const nPlusOne = byService('shop').find((f) => f.kind === 'n_plus_one') as Finding;
    expect(run.stdout).toContain(`- **Query** (postgresql): \`${nPlusOne.evidence.fingerprint}\``);
    expect(run.stdout).toContain('- **Routes:** GET /orders/:id (4)');
  });

  it('prints the versioned json envelope with the findings exactly as stored', async () => {
    const run = await runCli(['report', '--db', dbPath, '--format', 'json']);

    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(report).toMatchObject({
      version: 1,
      source: { db: dbPath },
      filters: { service: null, since: null },
      summary: { findings: stored.length },
    });
    expect(Date.now() - Date.parse(report.generatedAt)).toBeLessThan(60_000);
    expect(report.findings).toEqual(stored);
    expect(Object.values(report.summary.bySeverity).reduce((a, b) => a + b, 0)).toBe(stored.length);
    expect(report).not.toHaveProperty('check');
  });

  it('filters by service and by how recently a finding was seen', async () => {
    const ids = async (...args: string[]) => {
      const run = await runCli(['report', '--db', dbPath, '--format', 'json', ...args]);
      expect(run.code).toBe(0);
      return (JSON.parse(run.stdout) as Report).findings.map((finding) => finding.id);
    };
    const idsOf = (findings: Finding[]) => findings.map((finding) => finding.id);

    expect(await ids('--service', 'billing')).toEqual(idsOf(byService('billing')));
    expect(await ids('--since', '1h')).toEqual(idsOf(byService('shop')));
    expect(await ids('--since', '4h')).toEqual(idsOf(stored));
    expect(await ids('--service', 'billing', '--since', '1h')).toEqual([]);
    const text = await runCli(['report', '--db', dbPath, '--service', 'billing', '--since', '1h']);
    expect(text.stdout).toBe(
      `Chokepoint report: 0 findings from ${dbPath}, service billing, seen in the last 1h\n\nNo findings.\n`,
    );
  });

  it('reads CHOKEPOINT_DB like the collector', async () => {
    const run = await runCli(['report', '--format', 'json'], { env: { CHOKEPOINT_DB: dbPath } });
    expect((JSON.parse(run.stdout) as Report).findings).toEqual(stored);
  });
});

describe('chokepoint report --url', () => {
  it('reads a running collector’s API, with the same result as the file', async () => {
    const run = await runCli([
      'report',
      '--url',
      collector.dashboardUrl,
      '--format',
      'json',
      '--service',
      'shop',
    ]);

    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.source).toEqual({ url: collector.dashboardUrl });
    expect(report.findings).toEqual(byService('shop'));
  });

  it('sends the token a guarded collector wants, and says so when it is missing', async () => {
    const guarded = await startCollector({
      port: 0,
      otlpPort: 0,
      db: join(dir, 'guarded.db'),
      quiet: true,
      token: 's3cret-token',
    });
    try {
      const refused = await runCli(['report', '--url', guarded.dashboardUrl]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(
        `the collector at ${guarded.dashboardUrl} wants a token (401): set CHOKEPOINT_TOKEN`,
      );

      const allowed = await runCli(['report', '--url', guarded.dashboardUrl], {
        env: { CHOKEPOINT_TOKEN: 's3cret-token' },
      });
      expect(allowed.code).toBe(0);
      expect(allowed.stdout).toContain('No findings.');
    } finally {
      await guarded.close();
    }
  });
});

describe('chokepoint report errors', () => {
  it.each([
    [['--db', '/nonexistent/chokepoint.db'], 'no database at /nonexistent/chokepoint.db'],
    [['--db', 'a.db', '--url', 'http://127.0.0.1:7070'], '--db and --url are alternatives'],
    [['--url', 'localhost:7070'], '--url="localhost:7070" is not valid: expected an http(s) URL'],
    [['--url', 'http://127.0.0.1:1'], 'cannot reach the collector at http://127.0.0.1:1'],
    [['--format', 'html'], '--format="html" is not valid: expected text, markdown, json'],
    [['--since', '60'], '--since="60" is not valid: expected a duration like 30m, 1h or 7d'],
    [['--colour'], 'unknown flag --colour'],
  ])('refuses %j with exit 2 and a clear message', async (args, message) => {
    const run = await runCli(['report', ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe('');
  });

  it('refuses a file that is not a Chokepoint database, leaving it be', async () => {
    const run = await runCli(['report', '--db', join(__dirname, 'report.test.ts')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('file is not a database');
  });

  it('documents itself in --help', async () => {
    const run = await runCli(['report', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: chokepoint report [--db FILE | --url URL]');
    expect(run.stdout).toContain('--since <duration>');
  });
});

describe('report formatting helpers', () => {
  it('keeps Markdown tables whole and inert: pipes escaped, HTML neutralised, backticks fenced', () => {
    const [shop] = byService('shop');
    const tricky: Finding = {
      ...(shop as Finding),
      title: 'Slow | <img src=x onerror=alert(1)> query',
      evidence: { fingerprint: 'select `weird``name` from t where a = ?' },
    };
    const markdown = formatMarkdown(buildReport([tricky], { source: { db: 'x.db' } }));
    const row = markdown.split('\n').find((line) => line.startsWith('| 1 |')) as string;
    expect(row.split(/(?<!\\)\|/)).toHaveLength(8);
    expect(row).toContain('Slow \\| &lt;img src=x onerror=alert(1)&gt; query');
    expect(markdown).not.toContain('<img');
    expect(markdown).toContain('- **Query**: ```select `weird``name` from t where a = ?```');
  });

  it('uses colour on a terminal unless NO_COLOR is set; FORCE_COLOR forces it', () => {
    expect(useColor({ isTTY: true }, {})).toBe(true);
    expect(useColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColor({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(useColor({}, {})).toBe(false);
    expect(useColor({}, { FORCE_COLOR: '1' })).toBe(true);
    expect(useColor({}, { FORCE_COLOR: '0' })).toBe(false);
  });

  it('turns evidence of any kind into short facts: times, shares, counts, words', () => {
    expect(
      evidenceFacts({
        fingerprint: 'select ?',
        routes: [{ route: 'GET /', count: 1 }],
        p95Ms: 240,
        repeatMsPerRequest: 0.5,
        shareOfDbTime: 0.84,
        avgRepeats: 9.333,
        keyPattern: 'user:{id}',
        growing: true,
        lagTrend: [1, 2, 3],
      }),
    ).toEqual([
      'p95 240 ms',
      'repeat per request 0.50 ms',
      'share of db time 84%',
      'avg repeats 9.33',
      'key pattern user:{id}',
      'growing yes',
    ]);
  });
});

function severityCounts(findings: Finding[]): string {
  const order = ['critical', 'high', 'medium', 'low'];
  return order
    .map((severity) => [severity, findings.filter((f) => f.severity === severity).length] as const)
    .filter(([, count]) => count > 0)
    .map(([severity, count]) => `${count} ${severity}`)
    .join(', ');
}
