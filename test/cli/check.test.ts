/**
 * `chokepoint check` end to end: the built CLI runs the example library's node:test suite
 * (examples/check) under the agent, with real better-sqlite3 queries, into its own collector.
 * The planted N+1 fails the budget, the fixed variant passes; bad usage exits 2 without running
 * anything; a command that fails on its own exits 3 with the budget still judged.
 * Run `npx tsc -p tsconfig.json` first: the CLI and the agent run from dist/.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../cli/report-format.js';
import { describeWithServices } from '../support/services.js';
import { EXAMPLE, ROOT, runCli } from './run-cli.js';

/** The example's N+1 statement, as the collector fingerprints it. */
const N_PLUS_ONE_FINGERPRINT = 'select id, title from books where author_id = ? order by id';
const SUITE = [process.execPath, '--test'];

describe('chokepoint check on the example test suite', () => {
  it('fails the budget on the planted N+1, naming its fingerprint, route and fix', async () => {
    const run = await runCli(['check', '--', ...SUITE], { cwd: EXAMPLE });

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(N_PLUS_ONE_FINGERPRINT);
    expect(run.stdout).toMatch(/routes\s+GET \/authors \(3\)/);
    // examples/check/chokepoint.config.json allows 3 repeats; the suite's authors are 8.
    expect(run.stdout).toContain('✗ 8 repeats per request (budget: at most 3)');
    expect(run.stdout).toContain('author_id in (?)');
    expect(run.stdout).toContain('✗ budget broken: 1 finding over budget; the command passed (exit code 0).');
    // The report alone is on stdout: the suite's TAP output and the progress lines are on stderr.
    expect(run.stdout).not.toContain('# pass');
    expect(run.stderr).toContain('# pass 1');
    expect(run.stderr).toMatch(
      /chokepoint check: running `.+ --test` with the agent; collector on http:\/\/127\.0\.0\.1:\d+/,
    );
    expect(run.stderr).toMatch(/chokepoint check: [1-9]\d* spans received, 1 finding\n/);
  });

  it('passes once the N+1 is fixed, and reports so in json', async () => {
    const run = await runCli(['check', '--format', 'json', '--', ...SUITE], {
      cwd: EXAMPLE,
      env: { LIBRARY_BATCH_BOOKS: '1' },
    });

    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.findings.filter((finding) => finding.kind === 'n_plus_one')).toEqual([]);
    expect(report.check).toMatchObject({
      passed: true,
      exitCode: 0,
      command: { argv: SUITE, exitCode: 0, signal: null },
      budget: { maxNPlusOne: 3, slowQueryMs: 50 },
      violations: [],
    });
  });

  it('tells a command that failed on its own (exit 3) from a broken budget, and still judges the budget', async () => {
    const run = await runCli(['check', '--', 'sh', '-c', `"${SUITE.join('" "')}" && exit 5`], {
      cwd: EXAMPLE,
    });

    expect(run.code).toBe(3);
    expect(run.stdout).toContain(N_PLUS_ONE_FINGERPRINT);
    expect(run.stdout).toContain(
      '✗ budget broken: 1 finding over budget; the command itself failed with exit code 5.',
    );
    expect(run.stderr).toContain(
      'chokepoint check: the command exited with code 5; waiting for the last spans',
    );
  });

  it('reports a command killed by a signal as failed', async () => {
    const run = await runCli(['check', '--', 'sh', '-c', 'kill -TERM $$']);

    expect(run.code).toBe(3);
    expect(run.stdout).toContain('✓ within budget; the command itself failed: killed by SIGTERM.');
  });

  it("adds the agent to the command's NODE_OPTIONS, keeping what was there, and says when no span came", async () => {
    const print = "process.stderr.write('NODE_OPTIONS=' + process.env.NODE_OPTIONS + '\\n')";
    const run = await runCli(['check', '--', process.execPath, '-e', print], {
      env: { NODE_OPTIONS: '--max-old-space-size=300' },
    });

    expect(run.code).toBe(0);
    const agent = join(ROOT, 'dist', 'agent', 'register.js');
    expect(run.stderr).toContain(
      `NODE_OPTIONS=--max-old-space-size=300 --require ${JSON.stringify(agent)}\n`,
    );
    expect(run.stderr).toContain('chokepoint check: no spans arrived');
  });
});

describe.concurrent('chokepoint check usage', () => {
  /** A command that leaves a file behind: bad usage must be refused before it runs. */
  function markerCommand(): { command: string[]; marker: string; dir: string } {
    const dir = mkdtempSync(join(tmpdir(), 'chokepoint-check-usage-'));
    const marker = join(dir, 'ran');
    return {
      command: [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`],
      marker,
      dir,
    };
  }

  it.each([
    [['--max-n-plus-one', 'zero'], '--max-n-plus-one="zero" is not valid: expected a whole number ≥ 1'],
    [['--min-cache-hit-ratio', '1.5'], '--min-cache-hit-ratio="1.5" is not valid: expected a number ≥ 0 ≤ 1'],
    [['--frobnicate'], 'unknown flag --frobnicate'],
    [['--format', 'xml'], '--format="xml" is not valid: expected text, markdown, json'],
    [['--baseline', '/nonexistent/baseline.json'], '--baseline /nonexistent/baseline.json: no such file'],
    [['--config', '/nonexistent/budget.json'], '--config /nonexistent/budget.json: no such file'],
  ])('refuses %j with exit 2 and a clear message, running nothing', async (flags, message) => {
    const { command, marker } = markerCommand();
    const run = await runCli(['check', ...flags, '--', ...command]);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a budget file with an unknown setting or a bad value, naming the file and the key', async () => {
    const { command, marker, dir } = markerCommand();
    writeFileSync(join(dir, 'chokepoint.config.json'), JSON.stringify({ maxNPlusOne: 3, slowQueryMS: 50 }));
    const unknown = await runCli(['check', '--', ...command], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('chokepoint.config.json: unknown setting "slowQueryMS"');

    writeFileSync(join(dir, 'chokepoint.config.json'), JSON.stringify({ maxNPlusOne: '3' }));
    const bad = await runCli(['check', '--', ...command], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('chokepoint.config.json: "maxNPlusOne" must be a number or null, not "3"');
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a baseline that is not a json report', async () => {
    const { command, marker, dir } = markerCommand();
    const baseline = join(dir, 'baseline.json');
    writeFileSync(baseline, JSON.stringify({ findings: [] }));
    const run = await runCli(['check', '--baseline', baseline, '--', ...command]);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--baseline ${baseline}: not a Chokepoint json report`);
    expect(existsSync(marker)).toBe(false);
  });

  it('needs a command after --', async () => {
    for (const args of [['check'], ['check', '--'], ['check', 'npm', 'test']]) {
      const run = await runCli(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/needs the command to run after --|unexpected argument "npm"/);
    }
  });

  it('says when the command cannot be found (exit 2)', async () => {
    const run = await runCli(['check', '--', 'chokepoint-no-such-command']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cannot run `chokepoint-no-such-command`: command not found');
  });

  it('documents its flags, budget file and exit codes in --help', async () => {
    const run = await runCli(['check', '--help']);

    expect(run.code).toBe(0);
    for (const text of [
      'Usage: chokepoint check',
      '--max-n-plus-one <n>',
      '--baseline <file>',
      'Exit codes: 0',
    ]) {
      expect(run.stdout).toContain(text);
    }
  });
});

await describeWithServices(['postgres'], 'chokepoint check on the playbook', () => {
  const DRIVE = [process.execPath, 'examples/playbook/drive.js', 'pool-app.js', '/orders', '40', '8'];
  // The app's 50 ms statement is not what this budget is about.
  const BUDGET = ['--max-new-connection-share', '0.5', '--slow-query-ms', '5000'];

  it('fails a connection opened per request over maxNewConnectionShare, and passes the pooled app', async () => {
    const perRequest = await runCli(['check', ...BUDGET, '--format', 'json', '--', ...DRIVE], {
      env: { CONNECT: 'client' },
    });
    expect(perRequest.code).toBe(1);
    const report = JSON.parse(perRequest.stdout) as Report;
    expect(report.check?.violations).toEqual([
      expect.objectContaining({
        kind: 'connection_pool',
        rule: 'maxNewConnectionShare',
        limit: 0.5,
        actual: 1,
        message: '100% of requests open a new connection (budget: at most 50%)',
      }),
    ]);

    const pooled = await runCli(['check', ...BUDGET, '--', ...DRIVE], {
      env: { POOL_MAX: '8' },
    });
    expect(pooled.code).toBe(0);
    expect(pooled.stdout).toContain('✓ within budget');
  });
});
