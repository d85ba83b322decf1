/**
 * Builds what users run: TypeScript → dist/ (tsc), the dashboard → dist/dashboard (esbuild).
 * Runs on `npm install` (prepare) and before tests, so dist/ is never stale.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', '.bin', 'tsc');

execFileSync(tsc, ['-p', join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
const cli = join(root, 'dist', 'cli', 'main.js');
if (existsSync(cli)) chmodSync(cli, 0o755);

const dashboardBuild = join(root, 'dashboard', 'build.mjs');
if (existsSync(dashboardBuild)) {
  const { buildDashboard } = await import(dashboardBuild);
  await buildDashboard(join(root, 'dist', 'dashboard'));
}
