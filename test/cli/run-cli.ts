/**
 * Runs the built CLI (`node dist/cli/main.js …`) the way a user or a CI job does, and collects
 * what it printed. The test runner's own `OTEL_*`, `CHOKEPOINT_*`, `NO_COLOR`, `FORCE_COLOR` and
 * `NODE_OPTIONS` are left out, so every test states the environment it depends on.
 * Build first: `npx tsc -p tsconfig.json`.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
export const EXAMPLE = join(ROOT, 'examples', 'check');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const INHERITED_OUT = /^(OTEL_|CHOKEPOINT_|NO_COLOR$|FORCE_COLOR$|NODE_OPTIONS$|LIBRARY_)/;

/**
 * @example
 * const { code, stdout } = await runCli(['report', '--db', path, '--format', 'json']);
 */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliRun> {
  if (!existsSync(CLI)) throw new Error('dist/ is missing: build first with `npx tsc -p tsconfig.json`');
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !INHERITED_OUT.test(name)));
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}
