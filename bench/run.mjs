/**
 * `npm run bench`: agent overhead, collector ingest and API latency, in that order, on
 * loopback only. Prints one table per bench with its targets, and writes each result (with
 * the machine it ran on) to bench/results/<name>.json, and its tables as Markdown (what the
 * README shows) to bench/results/<name>.md.
 *
 *   node bench/run.mjs                     all three (about 25 minutes)
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
import { renderMarkdownTable, renderTable } from './lib/table.mjs';

const RESULTS = join(import.meta.dirname, 'results');

const { values } = parseArgs({
  options: {
    only: { type: 'string', multiple: true },
    quick: { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const benches = {
  overhead: () => benchAgentOverhead(quick ? { durationS: 3, warmupS: 1, rounds: 1 } : {}),
  ingest: () => benchCollectorIngest(quick ? { spans: 200_000 } : {}),
  api: () => benchApiLatency(quick ? { findings: 200, days: 1, requests: 100 } : {}),
  breakdown: () => benchAgentBreakdown(quick ? { durationS: 3, warmupS: 1, rounds: 1 } : {}),
};
const chosen = values.only ?? ['overhead', 'ingest', 'api'];
const unknown = chosen.filter((name) => !(name in benches));
if (unknown.length > 0) {
  console.error(`unknown bench ${unknown.join(', ')}: expected ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}

const machine = describeMachine();
const machineLine =
  `${machine.cpuModel} (${machine.nproc} CPUs, ${machine.memoryGiB} GiB), Node ${machine.node}, ${machine.platform}, ` +
  `commit ${machine.commit}, ${machine.date.slice(0, 10)}, load average ${machine.loadAverage} at start`;
console.log(`${machineLine}\n`);
mkdirSync(RESULTS, { recursive: true });

const targetHeaders = ['target', 'wanted', 'measured', ''];
const targetCells = (result) =>
  result.targets.map((target) => [
    target.what,
    target.target,
    target.measured,
    target.met ? 'met' : 'MISSED',
  ]);
/** Tables a bench shows after its main one and its targets (`{ title, headers, cells }`). */
const moreTables = (result) => result.moreTables ?? [];
let allMet = true;
try {
  for (const name of chosen) {
    const result = await benches[name]();
    console.log(`${result.title}\n\n${renderTable(result.headers, result.cells)}\n`);
    if (result.targets.length > 0) console.log(`${renderTable(targetHeaders, targetCells(result))}\n`);
    for (const table of moreTables(result)) {
      console.log(`${table.title}\n\n${renderTable(table.headers, table.cells)}\n`);
    }
    for (const note of result.notes) console.log(`note: ${note}`);
    console.log('');
    allMet &&= result.targets.every((target) => target.met);
    writeFileSync(
      join(RESULTS, `${result.name}.json`),
      `${JSON.stringify({ machine, quick, ...result }, null, 2)}\n`,
    );
    const markdown = [`**${result.title}**`, renderMarkdownTable(result.headers, result.cells)];
    if (result.targets.length > 0) markdown.push(renderMarkdownTable(targetHeaders, targetCells(result)));
    for (const table of moreTables(result)) {
      markdown.push(`**${table.title}**`, renderMarkdownTable(table.headers, table.cells));
    }
    markdown.push([...result.notes, `measured on ${machineLine}`].map((note) => `- ${note}`).join('\n'));
    writeFileSync(join(RESULTS, `${result.name}.md`), `${markdown.join('\n\n')}\n`);
  }
} finally {
  killAll();
}
console.log(`results written to ${RESULTS}${allMet ? '' : ' (some targets missed)'}`);
