/**
 * The collector as users run it: `node dist/cli/main.js collector`, in a child process that
 * a test can kill outright. Ports are picked by the OS unless given (a restart on the same
 * OTLP port), and both URLs are read from the lines the CLI prints.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const running = new Set<ChildProcess>();

export interface CollectorProcess {
  child: ChildProcess;
  otlpUrl: string;
  dashboardUrl: string;
  /** Resolves with the signal that ended the process, or its exit code. */
  exited: Promise<NodeJS.Signals | number | null>;
}

/**
 * Call {@link killCollectorProcesses} after the tests.
 *
 * @example
 * const collector = await startCollectorProcess({ db: '/tmp/c.db', args: ['--detect-interval-ms', '200'] });
 * collector.child.kill('SIGKILL');
 */
export async function startCollectorProcess(options: {
  db: string;
  otlpPort?: number;
  args?: string[];
  env?: Record<string, string>;
}): Promise<CollectorProcess> {
  if (!existsSync(CLI)) throw new Error('dist/ is missing: build first with `npx tsc -p tsconfig.json`');
  const argv = ['collector', '--port', '0', '--otlp-port', String(options.otlpPort ?? 0), '--db', options.db];
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('CHOKEPOINT_') && !name.startsWith('OTEL_'),
    ),
  );
  const child = spawn(process.execPath, [CLI, ...argv, ...(options.args ?? [])], {
    cwd: ROOT,
    env: { ...inherited, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(signal ?? code);
    }),
  );
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const [otlpUrl, dashboardUrl] = await new Promise<[string, string]>((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
      const otlp = /otlp listening on (\S+)/.exec(stdout)?.[1];
      const dashboard = /dashboard listening on (\S+)/.exec(stdout)?.[1];
      if (otlp && dashboard) resolve([otlp, dashboard]);
    });
    void exited.then((how) => reject(new Error(`collector exited (${how}) before listening: ${stderr}`)));
  });
  return { child, otlpUrl, dashboardUrl, exited };
}

export function killCollectorProcesses(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}
