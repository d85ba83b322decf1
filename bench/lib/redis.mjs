/**
 * The Redis that the bench server's `/db` reads. With `redis-server` on the PATH the bench
 * starts its own, on a free port, pinned with the load side (`taskset`): the machine's Redis
 * may otherwise be scheduled on the server's core, where its work and cache traffic land in
 * the server's figures (bare's CPU per `/db` request varied 41–69 µs across three rounds of
 * one run with it). Without `redis-server` the bench uses the machine's on 127.0.0.1:6379.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { requireRedis } from './load.mjs';

const MACHINE_PORT = 6379;

/**
 * Resolves to `{ port, own, stop() }` once a Redis serves on `port`; rejects with a clear
 * message when neither an own nor the machine's Redis can be had.
 *
 * @example
 * const redis = await startBenchRedis({ taskset: '0' });
 * try { await startServer(variant, plan, redis.port); } finally { await redis.stop(); }
 */
export async function startBenchRedis({ taskset } = {}) {
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--logfile',
    '',
  ];
  const command = taskset ? 'taskset' : 'redis-server';
  const child = spawn(command, taskset ? ['-c', taskset, 'redis-server', ...args] : args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const started = await new Promise((resolve) => {
    let output = '';
    child.once('error', () => resolve(false));
    child.once('exit', () => resolve(false));
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) resolve(true);
    });
  });
  if (started) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    return {
      port,
      own: true,
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        await exited;
      },
    };
  }
  child.kill('SIGKILL');
  await requireRedis().catch((error) => {
    throw new Error(`no redis-server on the PATH, and ${error.message}`);
  });
  return { port: MACHINE_PORT, own: false, stop: async () => {} };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
