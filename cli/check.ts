/**
 * `chokepoint check -- <command…>`: a performance gate for CI. It starts a collector of its
 * own (free ports, a temporary database), runs the command (`npm test`) with the agent in every
 * Node process it starts (`NODE_OPTIONS=--require …`), waits for the last spans, and judges the
 * findings against a budget (see budget.ts), optionally only what is new or worse than a
 * baseline report.
 *
 * The command's own output goes to stderr, with the progress lines, so that stdout carries the
 * report alone (`> report.md` works). Exit codes: 0 within budget, 1 budget broken, 2 usage or
 * internal error, 3 the command itself failed (the budget is still judged and printed).
 *
 * @example
 * // chokepoint check --max-n-plus-one 3 --baseline perf-baseline.json -- npm test
 * process.exitCode = await runCheck(['--max-n-plus-one', '3', '--', 'npm', 'test']);
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DetectionConfig } from '../collector/detect/types.js';
import { startCollector } from '../collector/index.js';
import type { Finding } from '../model/index.js';
import { type FlagSpecs, flagsHelp, parseChoice, parseFlags, parseNumber, UsageError } from './args.js';
import {
  BUDGET_SETTINGS,
  type Budget,
  type BudgetNumber,
  CONFIG_FILE,
  evaluateBudget,
  readBudgetFile,
} from './budget.js';
import type { CommandIo } from './report.js';
import { fetchFindings } from './report.js';
import {
  buildReport,
  type CheckSection,
  formatReport,
  plural,
  REPORT_FORMATS,
  REPORT_VERSION,
  useColor,
} from './report-format.js';

export const EXIT = { pass: 0, budgetBroken: 1, usage: 2, commandFailed: 3 } as const;

/** Spans leave the command's processes this often (ms): the last ones arrive soon after it exits. */
const EXPORT_DELAY_MS = '200';
/** After the command exits, spans may still come from processes it left exiting: wait for this much quiet… */
const QUIET_MS = 250;
/** …but no longer than this, should something keep sending. */
const SETTLE_MAX_MS = 3000;

export const CHECK_FLAGS: FlagSpecs = {
  config: {
    type: 'value',
    placeholder: 'file',
    help: `budget file (default ./${CONFIG_FILE}, when it exists)`,
  },
  ...Object.fromEntries(
    Object.values(BUDGET_SETTINGS).map((setting) => [
      setting.flag,
      { type: 'value' as const, placeholder: 'n', help: setting.help },
    ]),
  ),
  ignore: {
    type: 'list',
    placeholder: 'name',
    help: 'leave out findings with this id, fingerprint id, fingerprint or route',
  },
  baseline: {
    type: 'value',
    placeholder: 'file',
    help: 'a saved json report: fail only on findings new or worse than in it',
  },
  'write-baseline': {
    type: 'value',
    placeholder: 'file',
    help: 'save this run as a json report (a baseline)',
  },
  format: {
    type: 'value',
    placeholder: 'format',
    help: 'report on stdout: text (default), markdown or json',
  },
  summary: {
    type: 'value',
    placeholder: 'file',
    help: 'also append the Markdown report to this file, e.g. "$GITHUB_STEP_SUMMARY"',
  },
  help: { type: 'switch', help: 'show this help' },
};

export const CHECK_HELP = `Usage: chokepoint check [flags] -- <command…>

Runs the command (e.g. npm test) with the Chokepoint agent in every Node process it starts,
collects what they do into a temporary collector, and checks the findings against a budget.
The command's output goes to stderr; the report goes to stdout.

Flags:
${flagsHelp(CHECK_FLAGS)}

Budget file (${CONFIG_FILE}; flags win over it, null turns a rule off):
  {"maxNPlusOne": 4, "slowQueryMs": 100, "minCacheHitRatio": 0.8, "maxQueueLagMs": 1000,
   "maxPoolWaitShare": 0.1, "maxNewConnectionShare": 0.5, "maxDependencyErrorRate": 0.05,
   "worseFactor": 1.5, "ignore": ["GET /health", "<finding or fingerprint id>"]}

With --baseline, a finding over budget fails only if the baseline lacks it or it got worse:
more repeats per request, a p95, lag, wait share, new-connection share or error rate at least
worseFactor × the baseline's, a miss ratio at least worseFactor × the baseline's, or an impact
at least worseFactor × the baseline's that also raised its severity.

Exit codes: 0 within budget, 1 budget broken, 2 bad usage or internal error,
3 the command itself failed (the budget is still checked and reported).`;

export interface CheckIo extends CommandIo {
  stderr: NodeJS.WritableStream;
}

interface CommandExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Runs `chokepoint check` with `argv` (the arguments after `check`) and resolves with its exit code.
 * Bad flags, budget files or baselines throw a UsageError before the command runs.
 */
export async function runCheck(
  argv: readonly string[],
  io: CheckIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  const separator = argv.indexOf('--');
  const flags = parseFlags(separator < 0 ? argv : argv.slice(0, separator), CHECK_FLAGS);
  if (flags.has('help')) {
    io.stdout.write(`${CHECK_HELP}\n`);
    return EXIT.pass;
  }
  const command = separator < 0 ? [] : argv.slice(separator + 1);
  if (command.length === 0) {
    throw new UsageError(
      'chokepoint check needs the command to run after --, e.g. chokepoint check -- npm test',
    );
  }
  const format = parseChoice(flags.value('format') ?? 'text', '--format', REPORT_FORMATS);
  const budget = budgetFromFlags(flags.value('config'), flags);
  const baselinePath = flags.value('baseline');
  const baseline = baselinePath === undefined ? undefined : readBaseline(baselinePath);
  const progress = (line: string) => io.stderr.write(`chokepoint check: ${line}\n`);

  const { exit, findings } = await runUnderAgent(command, budget, io.env, progress);
  const verdict = evaluateBudget(findings, budget, baseline);
  const commandFailed = exit.exitCode !== 0;
  const exitCode = commandFailed
    ? EXIT.commandFailed
    : verdict.violations.length > 0
      ? EXIT.budgetBroken
      : EXIT.pass;
  const check: CheckSection = {
    passed: exitCode === EXIT.pass,
    exitCode,
    command: { argv: command, exitCode: exit.exitCode, signal: exit.signal },
    budget,
    baseline: baselinePath ?? null,
    ...verdict,
  };
  const report = buildReport(findings, { source: { command }, check, now: io.now?.() });
  const writeBaseline = flags.value('write-baseline');
  if (writeBaseline !== undefined) {
    writeFileSync(writeBaseline, formatReport(report, 'json', { color: false }));
    progress(`baseline written to ${writeBaseline}`);
  }
  const summary = flags.value('summary');
  if (summary !== undefined) appendFileSync(summary, formatReport(report, 'markdown', { color: false }));
  io.stdout.write(formatReport(report, format, { color: useColor(io.stdout, io.env) }));
  return exitCode;
}

/**
 * Runs the command under the agent into a collector of its own, and resolves with how the
 * command ended and the findings once its last spans are in.
 */
async function runUnderAgent(
  command: string[],
  budget: Budget,
  env: NodeJS.ProcessEnv,
  progress: (line: string) => void,
): Promise<{ exit: CommandExit; findings: Finding[] }> {
  const agent = agentPath();
  const workDir = mkdtempSync(join(tmpdir(), 'chokepoint-check-'));
  try {
    const collector = await startCollector({
      host: '127.0.0.1',
      port: 0,
      otlpPort: 0,
      db: join(workDir, 'chokepoint.db'),
      quiet: true,
      detection: detectionFor(budget),
      // One window over the whole run, however long the suite takes.
      windowMinutes: 24 * 60,
    });
    try {
      progress(`running \`${command.join(' ')}\` with the agent; collector on ${collector.otlpUrl}`);
      const exit = await runCommand(command, {
        ...env,
        NODE_OPTIONS: [env.NODE_OPTIONS, `--require ${JSON.stringify(agent)}`].filter(Boolean).join(' '),
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpUrl,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.otlpUrl}/v1/traces`,
        OTEL_BSP_SCHEDULE_DELAY: EXPORT_DELAY_MS,
      });
      progress(`${describeExit(exit)}; waiting for the last spans`);
      await waitForQuiet(() => collector.pipeline.counters.spansReceived);
      await collector.flush();
      const findings = await fetchFindings(collector.dashboardUrl);
      const spans = collector.pipeline.counters.spansReceived;
      progress(`${spans} spans received, ${plural(findings.length, 'finding')}`);
      if (spans === 0) {
        progress(
          'no spans arrived: is the agent disabled (CHOKEPOINT_DISABLED, OTEL_SDK_DISABLED), or does the command run no Node process?',
        );
      }
      return { exit, findings };
    } finally {
      await collector.close();
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/**
 * Thresholds that make the collector report exactly what is over budget; a rule turned off
 * keeps the collector's default, so its findings still show in the report.
 */
function detectionFor(budget: Budget): Partial<DetectionConfig> {
  const detection: Partial<DetectionConfig> = {};
  if (budget.maxNPlusOne !== undefined) {
    detection.nPlusOneMin = budget.maxNPlusOne + 1;
    detection.nPlusOneHttpMin = budget.maxNPlusOne + 1;
  }
  if (budget.slowQueryMs !== undefined) detection.slowQueryMs = budget.slowQueryMs;
  if (budget.minCacheHitRatio !== undefined) detection.cacheMinHitRatio = budget.minCacheHitRatio;
  if (budget.maxQueueLagMs !== undefined) detection.queueLagMs = budget.maxQueueLagMs;
  if (budget.maxPoolWaitShare !== undefined) detection.poolWaitShare = budget.maxPoolWaitShare;
  if (budget.maxNewConnectionShare !== undefined) detection.poolOpenShare = budget.maxNewConnectionShare;
  if (budget.maxDependencyErrorRate !== undefined)
    detection.dependencyErrorRate = budget.maxDependencyErrorRate;
  return detection;
}

/** The budget file (if any) under the budget flags. */
function budgetFromFlags(configPath: string | undefined, flags: ReturnType<typeof parseFlags>): Budget {
  const budget = readBudgetFile(configPath ?? CONFIG_FILE, { required: configPath !== undefined });
  for (const [name, setting] of Object.entries(BUDGET_SETTINGS) as Array<
    [BudgetNumber, (typeof BUDGET_SETTINGS)[BudgetNumber]]
  >) {
    const raw = flags.value(setting.flag);
    if (raw !== undefined) budget[name] = parseNumber(raw, `--${setting.flag}`, setting.bounds);
  }
  budget.ignore = [...budget.ignore, ...flags.list('ignore')];
  return budget;
}

/**
 * The findings of a saved json report (`--write-baseline`, or `chokepoint report --format json`).
 *
 * @example
 * readBaseline('perf-baseline.json'); // [Finding, …]
 */
export function readBaseline(path: string): Finding[] {
  let parsed: { version?: unknown; findings?: unknown };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as typeof parsed;
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new UsageError(`--baseline ${path}: ${reason}`);
  }
  if (parsed?.version !== REPORT_VERSION || !Array.isArray(parsed.findings)) {
    throw new UsageError(
      `--baseline ${path}: not a Chokepoint json report (expected "version": ${REPORT_VERSION} and "findings")`,
    );
  }
  const findings = parsed.findings as Array<Partial<Finding> | null>;
  if (!findings.every((finding) => typeof finding?.id === 'string' && typeof finding.kind === 'string')) {
    throw new UsageError(`--baseline ${path}: every finding needs an "id" and a "kind"`);
  }
  return findings as Finding[];
}

/** The built agent's `--require` entry, found the way users load it: `chokepoint/agent`. */
function agentPath(): string {
  try {
    return require.resolve('chokepoint/agent');
  } catch (error) {
    throw new Error(`the agent cannot be found (${(error as Error).message}): run \`npm run build\``);
  }
}

/**
 * Runs the command with its output on our stderr. SIGTERM (a CI job cancelled) is passed on; SIGINT
 * is not, because Ctrl-C already reaches the whole process group, and the agents in the command
 * flush once on it (a second SIGINT would cut their flush short).
 */
function runCommand(command: string[], env: NodeJS.ProcessEnv): Promise<CommandExit> {
  const [file, ...args] = command as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['inherit', 2, 2] });
    const forwardTerm = () => child.kill('SIGTERM');
    const ignoreInterrupt = () => {};
    process.on('SIGTERM', forwardTerm);
    process.on('SIGINT', ignoreInterrupt);
    const done = () => {
      process.off('SIGTERM', forwardTerm);
      process.off('SIGINT', ignoreInterrupt);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      done();
      reject(
        new Error(
          error.code === 'ENOENT'
            ? `cannot run \`${file}\`: command not found`
            : `cannot run \`${file}\`: ${error.message}`,
        ),
      );
    });
    child.once('exit', (exitCode, signal) => {
      done();
      resolve({ exitCode, signal });
    });
  });
}

function describeExit(exit: CommandExit): string {
  return exit.signal
    ? `the command was killed by ${exit.signal}`
    : `the command exited with code ${exit.exitCode}`;
}

/** Resolves once `count()` has not changed for QUIET_MS, or after SETTLE_MAX_MS. */
async function waitForQuiet(count: () => number): Promise<void> {
  const deadline = Date.now() + SETTLE_MAX_MS;
  let last = count();
  let changedAt = Date.now();
  while (Date.now() - changedAt < QUIET_MS && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const current = count();
    if (current !== last) {
      last = current;
      changedAt = Date.now();
    }
  }
}
