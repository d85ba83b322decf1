/**
 * Command-line tools the metrics suites run (Prometheus' `promtool` and `prometheus`). On a
 * developer machine without one, its suites are skipped with a line naming it; under
 * CI=true a missing tool fails, as test/support/services.ts does for services.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe } from 'vitest';

/** The tool's path on PATH, or undefined. */
export function findTool(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/**
 * `describe` that runs only when every named tool is on PATH.
 *
 * @example
 * describeWithTools(['promtool'], 'promtool checks', () => { it(...) });
 */
export function describeWithTools(names: string[], title: string, body: () => void): void {
  const missing = names.filter((name) => findTool(name) === undefined);
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const hint = `${missing.join(', ')} not on PATH (Debian: apt-get install prometheus)`;
  if (process.env.CI === 'true') {
    describe(title, () => {
      throw new Error(`required tool missing under CI=true: ${hint}`);
    });
    return;
  }
  console.warn(`[chokepoint tests] skipping "${title}": ${hint}`);
  describe.skip(`${title} (skipped: ${missing.join(', ')} missing)`, body);
}
