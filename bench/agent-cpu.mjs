/**
 * Agent overhead, per request, as the app pays it: server CPU time (process.cpuUsage inside
 * the server) divided by the requests it served, without and with `--require chokepoint/agent`.
 * The agent exports to a sink that accepts OTLP and runtime samples and does nothing else,
 * so no collector work runs on the machine during the measure.
 *
 *   node bench/agent-cpu.mjs            # 3 rounds of 5 s per variant and endpoint
 *   ROUNDS=5 SECONDS=10 node bench/agent-cpu.mjs
 *
 * Needs the build (dist/). Prints a table: median µs of CPU per request over the rounds.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS ?? 5);
const CONNECTIONS = 10;

const sink = createServer((request, response) => {
  request.resume();
  request.on('end', () => response.writeHead(200).end());
});
await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve));
const sinkUrl = `http://127.0.0.1:${sink.address().port}`;

const variants = {
  'no agent': [],
  agent: ['--require', 'chokepoint/agent'],
};

function startServer(args) {
  const child = spawn(process.execPath, [...args, join(ROOT, 'bench', 'agent-cpu-server.cjs')], {
    cwd: ROOT,
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_SERVICE_NAME: 'agent-cpu-bench' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      const port = /listening on (\d+)/.exec(String(chunk))?.[1];
      if (port) resolve({ child, url: `http://127.0.0.1:${port}` });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

const cpu = async (url) => (await fetch(`${url}/__cpu`)).json();

async function measure(url, path) {
  await autocannon({ url: url + path, connections: CONNECTIONS, duration: 1 });
  const before = await cpu(url);
  const result = await autocannon({ url: url + path, connections: CONNECTIONS, duration: SECONDS });
  const after = await cpu(url);
  if (result.errors || result.non2xx)
    throw new Error(`${result.errors} errors, ${result.non2xx} non-2xx on ${path}`);
  return {
    microsPerRequest: (after.cpuMicros - before.cpuMicros) / (after.served - before.served),
    requestsPerSecond: result.requests.average,
  };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const results = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, args] of Object.entries(variants)) {
    const { child, url } = await startServer(args);
    for (const path of ['/hello', '/sqlite']) {
      const key = `${path} ${name}`;
      results[key] ??= [];
      results[key].push(await measure(url, path));
    }
    child.kill('SIGKILL');
  }
}
sink.close();

console.log(
  `\nserver CPU per request, median of ${ROUNDS} rounds × ${SECONDS} s, ${CONNECTIONS} connections\n`,
);
console.log('| endpoint | no agent (µs) | agent (µs) | agent cost (µs) | req/s no agent | req/s agent |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const path of ['/hello', '/sqlite']) {
  const [bare, agent] = ['no agent', 'agent'].map((name) => results[`${path} ${name}`]);
  const bareMicros = median(bare.map((run) => run.microsPerRequest));
  const agentMicros = median(agent.map((run) => run.microsPerRequest));
  console.log(
    `| ${path} | ${bareMicros.toFixed(0)} | ${agentMicros.toFixed(0)} | +${(agentMicros - bareMicros).toFixed(0)} | ` +
      `${median(bare.map((run) => run.requestsPerSecond)).toFixed(0)} | ${median(agent.map((run) => run.requestsPerSecond)).toFixed(0)} |`,
  );
}
