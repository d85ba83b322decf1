/** Runs once before all suites: the suites run compiled agents and the built dashboard from dist/. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export default function setup(): void {
  const root = join(__dirname, '..', '..');
  if (!existsSync(join(root, 'dist', 'agent', 'register.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (or `npm test`, which builds first)');
  }
}
