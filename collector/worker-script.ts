/**
 * Where a worker thread's script is: a worker runs JavaScript only, so the compiled module
 * beside the caller once built, and, when the caller runs from source (tests), the built copy
 * under `<package root>/dist`. Shared by the store's writer thread and the API's list thread.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/**
 * @example
 * new Worker(workerScript(__dirname, 'writer-thread.js'));
 */
export function workerScript(callerDir: string, file: string): string {
  const beside = join(callerDir, file);
  if (existsSync(beside)) return beside;
  let root = callerDir;
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  return join(root, 'dist', relative(root, callerDir), file);
}
