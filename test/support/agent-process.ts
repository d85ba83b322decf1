/**
 * Runs a fixture app under the built agent, the way users do: `node --require
 * chokepoint/agent app.js` (or `--import`), from the repository root so the package's
 * self-reference resolves to dist/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

const running = new Set<ChildProcess>();

/** Kills every app still running: a failed assertion must not leave servers behind. */
export function killApps(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

export interface AppRun {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The stderr lines the agent wrote. */
  agentLines(): string[];
  /** Resolves with the first match of `pattern` on stdout; rejects if the app exits first. */
  waitForStdout(pattern: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface AppRunOptions {
  /** Extra environment; `OTEL_*` and `CHOKEPOINT_*` from the test runner's own environment are left out. */
  env?: Record<string, string>;
  /** How the agent is loaded; `null` for apps that call `start()` themselves. Default `--require`. */
  loader?: '--require' | '--import' | null;
  /** Modules preloaded before the agent. */
  preload?: string[];
  /** Node flags placed before the agent's, such as a TypeScript loader (`--import tsx`). */
  nodeFlags?: string[];
}

/**
 * Call {@link killApps} after each test.
 *
 * @example
 * const app = runWithAgent('test/agent/fixtures/express-app.js', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: url } });
 * const [, port] = await app.waitForStdout(/listening on (\d+)/);
 */
export function runWithAgent(fixture: string, options: AppRunOptions = {}): AppRun {
  if (!existsSync(join(ROOT, 'dist', 'agent', 'register.js'))) {
    throw new Error('dist/ is missing: build first with `npx tsc -p tsconfig.json`');
  }
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('OTEL_') && !name.startsWith('CHOKEPOINT_'),
    ),
  );
  const preload = (options.preload ?? []).flatMap((module) => ['--require', join(ROOT, module)]);
  const { loader = '--require' } = options;
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeFlags ?? []),
      ...preload,
      ...(loader ? [loader, 'chokepoint/agent'] : []),
      join(ROOT, fixture),
    ],
    { cwd: ROOT, env: { ...inherited, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );

  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    agentLines: () => stderr.split('\n').filter((line) => line.startsWith('chokepoint:')),
    exited,
    waitForStdout: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stdout);
          if (!match) return;
          child.stdout?.off('data', check);
          resolve(match);
        };
        child.stdout?.on('data', check);
        check();
        void exited.then(({ code, signal }) =>
          reject(new Error(`app exited (${code ?? signal}) before printing ${pattern}: ${stderr}`)),
        );
      }),
  };
}
