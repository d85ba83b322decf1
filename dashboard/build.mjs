/**
 * Builds the dashboard into a self-contained static directory (no CDN: it must work offline):
 *
 *   <outDir>/index.html
 *   <outDir>/assets/app.js (+ .map)   Lit components and Chart.js, bundled by esbuild
 *   <outDir>/assets/app.css           colour scheme and page-level styles
 *
 * The asset names are stable so the collector serves them with plain static routes.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const dashboardDir = dirname(fileURLToPath(import.meta.url));

/**
 * Bundles `dashboard/src/main.ts` and copies the page and its stylesheet to `outDir`.
 *
 * @example
 * await buildDashboard(join(root, 'dist', 'dashboard'));
 */
export async function buildDashboard(outDir) {
  const assetsDir = join(outDir, 'assets');
  await mkdir(assetsDir, { recursive: true });
  await build({
    entryPoints: [join(dashboardDir, 'src', 'main.ts')],
    outfile: join(assetsDir, 'app.js'),
    tsconfig: join(dashboardDir, 'tsconfig.json'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  await copyFile(join(dashboardDir, 'index.html'), join(outDir, 'index.html'));
  await copyFile(join(dashboardDir, 'app.css'), join(assetsDir, 'app.css'));
}
