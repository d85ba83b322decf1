/**
 * `chokepoint check --baseline`: a saved report excuses what it already holds, so the gate
 * fails only on findings that are new or worse. Real runs of the example suite (examples/check);
 * the baseline is written by a run through `npm test`, as in CI, and read by the next runs.
 * Run `npx tsc -p tsconfig.json` first: the CLI and the agent run from dist/.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../cli/report-format.js';
import type { Finding } from '../../model/index.js';
import { EXAMPLE, runCli } from './run-cli.js';

const SUITE = [process.execPath, '--test'];

describe('chokepoint check against a baseline', () => {
  let dir: string;
  let baselinePath: string;
  let baseline: Report;
  let nPlusOne: Finding;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chokepoint-baseline-'));
    baselinePath = join(dir, 'baseline.json');
    const summaryPath = join(dir, 'summary.md');
    writeFileSync(summaryPath, '# CI summary\n\n');
    const run = await runCli(
      ['check', '--write-baseline', baselinePath, '--summary', summaryPath, '--', 'npm', 'test'],
      {
        cwd: EXAMPLE,
      },
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`chokepoint check: baseline written to ${baselinePath}`);
    baseline = JSON.parse(readFileSync(baselinePath, 'utf8')) as Report;
    nPlusOne = baseline.findings.find((finding) => finding.kind === 'n_plus_one') as Finding;

    // The summary file got the Markdown report appended, after what was there.
    const summary = readFileSync(summaryPath, 'utf8');
    expect(
      summary.startsWith('# CI summary\n\n## Chokepoint check: ❌ budget broken: 1 finding over budget\n'),
    ).toBe(true);
    expect(summary).toContain(`\`${nPlusOne.evidence.fingerprint}\``);
  });

  it('writes the json report as the baseline, the run it came from judged in it', () => {
    expect(baseline.version).toBe(1);
    expect(nPlusOne.evidence).toMatchObject({
      maxRepeats: 8,
      routes: [{ route: 'GET /authors', requests: 3 }],
    });
    expect(baseline.check?.violations).toEqual([
      expect.objectContaining({
        findingId: nPlusOne.id,
        rule: 'maxNPlusOne',
        limit: 3,
        actual: 8,
        change: null,
      }),
    ]);
    expect(baseline.check?.command.argv).toEqual(['npm', 'test']);
  });

  it('passes when the only finding over budget is in the baseline and not worse', async () => {
    const run = await runCli(['check', '--baseline', baselinePath, '--', ...SUITE], { cwd: EXAMPLE });

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('✓ in the baseline, not worse: 8 repeats per request (budget: at most 3)');
    expect(run.stdout).toContain(`✓ within budget; 1 over budget but in the baseline ${baselinePath}`);
  });

  it('fails again on a new slow query on top, naming only it as new', async () => {
    const run = await runCli(['check', '--baseline', baselinePath, '--format', 'json', '--', ...SUITE], {
      cwd: EXAMPLE,
      env: { LIBRARY_SERIES: '1' },
    });

    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    const slow = report.findings.find((finding) => finding.kind === 'slow_query') as Finding;
    expect(slow.evidence.routes).toEqual([{ route: 'GET /books/series', count: 3 }]);
    expect(report.check?.violations).toEqual([
      expect.objectContaining({ findingId: slow.id, rule: 'slowQueryMs', limit: 50, change: 'new' }),
    ]);
    expect(report.check?.tolerated.map((violation) => violation.findingId)).toEqual([nPlusOne.id]);
  });

  it('fails when the baselined N+1 repeats more than it did', async () => {
    const fewer = structuredClone(baseline);
    const saved = fewer.findings.find((finding) => finding.id === nPlusOne.id) as Finding;
    saved.evidence.maxRepeats = 6;
    const olderBaseline = join(dir, 'older-baseline.json');
    writeFileSync(olderBaseline, JSON.stringify(fewer));

    const run = await runCli(['check', '--baseline', olderBaseline, '--', ...SUITE], {
      cwd: EXAMPLE,
    });

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('✗ worse: maxRepeats 8, was 6 in the baseline');
    expect(run.stdout).toContain('1 finding over budget (0 new, 1 worse than the baseline)');
  });

  it('leaves out what the budget ignores, by route', async () => {
    const run = await runCli(['check', '--ignore', 'GET /authors', '--', ...SUITE], {
      cwd: EXAMPLE,
    });

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('✓ ignored by the budget');
    expect(run.stdout).toContain('✓ within budget; 1 ignored; the command passed (exit code 0).');
  });
});
