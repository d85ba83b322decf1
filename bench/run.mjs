/**
 * `npm run bench`: agent overhead, collector ingest and API latency, in that order, on
 * loopback only. Prints one table per bench with its targets, and writes each result (with
 * the machine it ran on) to bench/results/<name>.json.
 *
 *   node bench/run.mjs                     all three (about five minutes)
 *   node bench/run.mjs --only ingest       one of: overhead, ingest, api, breakdown (repeatable)
 *   node bench/run.mjs --quick             shorter runs, for checking the bench itself
 *
 * `breakdown` (where the agent's CPU goes, step by step; not in the default set) and
 * CHOKEPOINT_BENCH_PROFILE=1 (CPU profiles of the agent and the collector) are for digging.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchAgentBreakdown } from './agent-breakdown.mjs';
import { benchAgentOverhead } from './agent-overhead.mjs';
import { benchApiLatency } from './api-latency.mjs';
import { benchCollectorIngest } from './collector-ingest.mjs';
import { killAll } from './lib/children.mjs';
import { describeMachine } from './lib/machine.mjs';
import { renderTable } from './lib/table.mjs';

const RESULTS = join(import.meta.dirname, 'results');

const { values } = parseArgs({
  options: {
    only: { type: 'string', multiple: true },
    quick: { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const benches = {
  overhead: () =>
    benchAgentOverhead(
      quick ? { durationS: 3, warmupS: 1, rounds: 1 } : { durationS: 8, warmupS: 3, rounds: 2 },
    ),
  ingest: () => benchCollectorIngest(quick ? { spans: 200_000 } : { spans: 1_000_000 }),
  api: () =>
    benchApiLatency(
      quick ? { findings: 200, days: 1, requests: 100 } : { findings: 1_000, days: 7, requests: 400 },
    ),
  breakdown: () => benchAgentBreakdown(quick ? { durationS: 3, warmupS: 1, rounds: 1 } : { rounds: 3 }),
};
const chosen = values.only ?? ['overhead', 'ingest', 'api'];
const unknown = chosen.filter((name) => !(name in benches));
if (unknown.length > 0) {
  console.error(`unknown bench ${unknown.join(', ')}: expected ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}

const machine = describeMachine();
console.log(`${machine.cpuModel}, ${machine.nproc} CPUs, Node ${machine.node}, commit ${machine.commit}\n`);
mkdirSync(RESULTS, { recursive: true });
let allMet = true;
try {
  for (const name of chosen) {
    const result = await benches[name]();
    console.log(`${result.title}\n`);
    console.log(renderTable(result.headers, result.cells));
    console.log('');
    console.log(
      renderTable(
        ['target', 'wanted', 'measured', ''],
        result.targets.map((target) => [
          target.what,
          target.target,
          target.measured,
          target.met ? 'met' : 'MISSED',
        ]),
      ),
    );
    for (const note of result.notes ?? []) console.log(`note: ${note}`);
    console.log('');
    allMet &&= result.targets.every((target) => target.met);
    writeFileSync(
      join(RESULTS, `${result.name}.json`),
      `${JSON.stringify({ machine, quick, ...result }, null, 2)}\n`,
    );
  }
} finally {
  killAll();
}
console.log(`results written to ${RESULTS}${allMet ? '' : ' (some targets missed)'}`);
