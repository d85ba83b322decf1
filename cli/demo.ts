/**
 * `chokepoint demo`: a collector, the example shop running under the agent, and steady load
 * against it — real findings on the dashboard within seconds of a fresh clone.
 *
 * Everything it starts it also stops: the shop is a child process, killed when the demo
 * stops (SIGINT, SIGTERM, the duration elapsing, or an error), and its databases live in a
 * temporary directory that goes with it.
 *
 * @example
 * await runDemo({ durationMs: 30_000 }); // dashboard on http://127.0.0.1:7070 meanwhile
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { type RunningCollector, startCollector } from '../collector/index.js';
import type { Finding } from '../model/index.js';
import { type FlagSpecs, flagsHelp, parseDuration, parseFlags, parseNumber } from './args.js';
import { fetchFindings } from './report.js';

export interface DemoOptions {
  /** Dashboard and API port (7070); 0, or a busy port, means any free one. */
  port?: number;
  /** OTLP receiver port (4318); 0, or a busy port, means any free one. */
  otlpPort?: number;
  /** Collector database (default: a temporary file, removed when the demo stops). */
  db?: string;
  /** How long to drive load once the shop is up (default: until SIGINT or SIGTERM). */
  durationMs?: number;
  /** Where the demo writes its lines (process.stdout). */
  output?: NodeJS.WritableStream;
}

/** The load generator's report, as examples/shop/load.js builds it. */
interface LoadReport {
  durationMs: number;
  requests: number;
  errors: number;
  skipped: number;
  endpoints: Record<string, { requests: number; errors: number; lastError?: string }>;
}

interface ShopLoad {
  runLoad(options: {
    url: string;
    durationMs: number;
    rps?: number;
    signal?: AbortSignal;
  }): Promise<LoadReport>;
  formatReport(report: LoadReport): string;
}

interface RunningShop {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const DEMO_FLAGS: FlagSpecs = {
  port: {
    type: 'value',
    placeholder: 'port',
    help: 'dashboard and API port (default $CHOKEPOINT_PORT or 7070)',
  },
  'otlp-port': {
    type: 'value',
    placeholder: 'port',
    help: 'OTLP/HTTP receiver port (default $CHOKEPOINT_OTLP_PORT or 4318)',
  },
  db: {
    type: 'value',
    placeholder: 'file',
    help: "keep the collector's SQLite file here (default: a temporary file, removed at the end)",
  },
  duration: {
    type: 'value',
    placeholder: 'time',
    help: 'stop after this much load: 90s, 10m (default: Ctrl-C)',
  },
  help: { type: 'switch', help: 'show this help' },
};

export const DEMO_HELP = `Usage: chokepoint demo [flags]

Starts a collector with its dashboard, the example shop (examples/shop) under the agent, and
steady load against it; prints findings as they appear. A busy port is replaced by a free one.

Flags:
${flagsHelp(DEMO_FLAGS)}`;

/**
 * The demo's flags (and \`CHOKEPOINT_PORT\`, \`CHOKEPOINT_OTLP_PORT\`, \`CHOKEPOINT_DB\`), or
 * \`'help'\`. Anything else is a UsageError: a collector flag would be silently ignored here.
 *
 * @example
 * parseDemoArgs(['--duration', '90s'], {}); // { port: 7070, otlpPort: 4318, db: undefined, durationMs: 90_000 }
 */
export function parseDemoArgs(argv: readonly string[], env: NodeJS.ProcessEnv): DemoOptions | 'help' {
  const flags = parseFlags(argv, DEMO_FLAGS);
  if (flags.has('help')) return 'help';
  const port = (flag: string, variable: string, fallback: number) => {
    const raw = flags.value(flag) ?? env[variable];
    const source = flags.has(flag) ? `--${flag}` : variable;
    return raw === undefined || raw === ''
      ? fallback
      : parseNumber(raw, source, { integer: true, min: 0, max: 65535 });
  };
  const duration = flags.value('duration');
  return {
    port: port('port', 'CHOKEPOINT_PORT', 7070),
    otlpPort: port('otlp-port', 'CHOKEPOINT_OTLP_PORT', 4318),
    db: flags.value('db') ?? (env.CHOKEPOINT_DB || undefined),
    durationMs: duration === undefined ? undefined : parseDuration(duration, '--duration'),
  };
}

const LOAD_RPS = 30;
/** Without a duration, load runs in rounds of this length, each ending with its report. */
const LOAD_ROUND_MS = 5 * 60_000;
const FINDINGS_POLL_MS = 1000;
const SHOP_STOP_GRACE_MS = 5000;

/**
 * Runs the demo until `durationMs` of load has been sent, or until SIGINT/SIGTERM.
 *
 * @example
 * await runDemo({ port: 0, otlpPort: 0, durationMs: 15_000 });
 */
export async function runDemo(options: DemoOptions = {}): Promise<void> {
  const { port = 7070, otlpPort = 4318, durationMs, output = process.stdout } = options;
  const print = (line = '') => output.write(`${line}\n`);
  const root = packageRoot();
  const load = createRequire(join(root, 'package.json'))('./examples/shop/load.js') as ShopLoad;

  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    print(`\n${signal}: stopping the load, the shop and the collector`);
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const workDir = mkdtempSync(join(tmpdir(), 'chokepoint-demo-'));
  // Also on a crash (a closed stdout pipe, say): the shop's database alone is over 100 MB.
  const removeWorkDir = () => rmSync(workDir, { recursive: true, force: true });
  process.once('exit', removeWorkDir);
  let collector: RunningCollector | undefined;
  let shop: RunningShop | undefined;
  let stopWatching: (() => Promise<void>) | undefined;
  try {
    collector = await startCollector({
      port: await usablePort(port, 'dashboard', print),
      otlpPort: await usablePort(otlpPort, 'OTLP receiver', print),
      db: options.db ?? join(workDir, 'chokepoint.db'),
      quiet: true,
    });
    print(`collector  receiving OTLP on ${collector.otlpUrl}`);
    shop = await startShop(root, collector.otlpUrl, join(workDir, 'shop.db'), print, stop.signal);
    print(banner(collector.dashboardUrl));
    stopWatching = watchFindings(collector.dashboardUrl, print);
    print(`load       ${LOAD_RPS} requests/s on ${shop.url}${durationMs ? '' : ' until Ctrl-C'}`);
    await driveLoad(load, shop.url, durationMs, stop.signal, print);
  } catch (error) {
    // A signal during start-up interrupts it: that is a stop, not a failure.
    if (!stop.signal.aborted) throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // The shop goes first so that its last spans reach the collector before detection runs a last time.
    await shop?.stop();
    await collector?.flush();
    await stopWatching?.();
    await collector?.close();
    process.off('exit', removeWorkDir);
    removeWorkDir();
  }
  if (collector) print(`\ndemo stopped; the dashboard was ${collector.dashboardUrl}`);
}

async function driveLoad(
  load: ShopLoad,
  url: string,
  durationMs: number | undefined,
  signal: AbortSignal,
  print: (line?: string) => void,
): Promise<void> {
  let remainingMs = durationMs ?? Number.POSITIVE_INFINITY;
  while (remainingMs > 0 && !signal.aborted) {
    const roundMs = Math.min(remainingMs, LOAD_ROUND_MS);
    const report = await load.runLoad({ url, durationMs: roundMs, rps: LOAD_RPS, signal });
    print(`load       ${load.formatReport(report).replaceAll('\n', '\n           ')}`);
    remainingMs -= roundMs;
  }
}

/**
 * Starts examples/shop/server.js under the built agent, exporting to `otlpUrl`, and resolves
 * once it prints the address it listens on.
 */
async function startShop(
  root: string,
  otlpUrl: string,
  dbPath: string,
  print: (line?: string) => void,
  signal: AbortSignal,
): Promise<RunningShop> {
  const agent = join(root, 'dist', 'agent', 'register.js');
  if (!existsSync(agent))
    throw new Error(`the agent is not built (${agent} is missing): run \`npm run build\``);
  const child = spawn(process.execPath, ['--require', agent, join(root, 'examples', 'shop', 'server.js')], {
    cwd: root,
    env: {
      ...withoutOtelVariables(process.env),
      OTEL_SERVICE_NAME: 'shop',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
      OTEL_BSP_SCHEDULE_DELAY: '500',
      PORT: '0',
      SHOP_DB: dbPath,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Last resort for a demo that dies without running its cleanup: never leave the shop behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), SHOP_STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    process.off('exit', killOnExit);
  };
  print(`shop       started (pid ${child.pid}), seeding its database`);
  try {
    const url = await listeningUrl(child, print, signal);
    return { url, pid: child.pid as number, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Forwards the shop's output and resolves with the URL from its `shop listening on …` line. */
function listeningUrl(
  child: ChildProcess,
  print: (line?: string) => void,
  signal: AbortSignal,
): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) reject(new Error('stopped before the shop was up'));
    const forward = (line: string) => {
      print(`  shop │ ${line}`);
      const url = /^shop listening on (http:\/\/\S+)$/.exec(line)?.[1];
      if (url) resolve(url);
    };
    if (child.stdout) createInterface({ input: child.stdout }).on('line', forward);
    if (child.stderr) createInterface({ input: child.stderr }).on('line', forward);
    child.once('exit', (code, exitSignal) => {
      reject(new Error(`the shop exited (${exitSignal ?? `code ${code}`}) before listening`));
    });
    signal.addEventListener('abort', () => reject(new Error('stopped before the shop was up')), {
      once: true,
    });
  });
}

/**
 * Polls the findings API and prints each finding the first time it appears, and again when its
 * recommended fix changes. Returns a stopper.
 */
function watchFindings(dashboardUrl: string, print: (line?: string) => void): () => Promise<void> {
  /** Finding id → the fix printed for it. */
  const printedFixes = new Map<string, string>();
  const poll = async () => {
    let findings: Finding[];
    try {
      findings = await fetchFindings(dashboardUrl);
    } catch {
      return; // The next poll tries again; the collector is in this process, so this is rare.
    }
    for (const finding of findings) {
      const lines = findingLines(finding, printedFixes.get(finding.id));
      if (lines.length === 0) continue;
      printedFixes.set(finding.id, finding.recommendation.summary);
      for (const line of lines) print(line);
    }
  };
  let polling = Promise.resolve();
  const timer = setInterval(() => {
    polling = polling.then(poll);
  }, FINDINGS_POLL_MS);
  return async () => {
    clearInterval(timer);
    await polling;
    await poll();
  };
}

/**
 * The demo's lines for a polled finding, given the fix already printed for it: both lines the
 * first time; the new fix when a later detection tick changed its advice (a slow query found before
 * the stalled event loop behind it gets "unblock the event loop first" a tick later), not when only
 * its figures moved; else none.
 *
 * @example
 * findingLines(finding, undefined); // ['finding    slow_query [high] Slow SELECT … (850 ms/min)', '           fix: …']
 * findingLines(finding, finding.recommendation.summary); // []
 */
export function findingLines(
  finding: Pick<Finding, 'kind' | 'severity' | 'title' | 'impact' | 'recommendation'>,
  printedFix: string | undefined,
): string[] {
  const fix = finding.recommendation.summary;
  if (printedFix !== undefined && adviceOf(printedFix) === adviceOf(fix)) return [];
  if (printedFix === undefined) {
    return [
      `finding    ${finding.kind} [${finding.severity}] ${finding.title} (${Math.round(finding.impact)} ms/min)`,
      `           fix: ${fix}`,
    ];
  }
  return [`update     ${finding.kind} ${finding.title}`, `           fix now: ${fix}`];
}

/** A fix without its figures: "55% of the time" and "57% of the time" are the same advice. */
function adviceOf(fix: string): string {
  return fix.replace(/\d[\d.,]*/g, '#');
}

function banner(dashboardUrl: string): string {
  const text = `  Dashboard: ${dashboardUrl}  `;
  const rule = '─'.repeat(text.length);
  return `\n┌${rule}┐\n│${text}│\n└${rule}┘\n`;
}

/** `port`, or 0 (any free port) when `port` is taken, saying so. */
async function usablePort(port: number, label: string, print: (line?: string) => void): Promise<number> {
  if (port === 0 || (await isPortFree(port))) return port;
  print(`port ${port} is busy: the ${label} takes a free port instead`);
  return 0;
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** The demo owns the shop's telemetry settings: inherited `OTEL_*` (a traces endpoint, a disabled SDK) would redirect it. */
function withoutOtelVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('OTEL_')));
}

/** The directory of this package's package.json, from dist/cli or from cli/ alike. */
function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
