/**
 * Load for the overhead benches: autocannon runs timed response by response, flat-out runs
 * with wrk when the machine has it, and the server's own CPU.
 */
import { execFile, execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import autocannon from 'autocannon';
import { percentile } from './stats.mjs';

/** Runs autocannon for `durationS`, timing every response itself (autocannon's histogram keeps whole ms). */
export function load(url, { durationS, connections, rate }) {
  return new Promise((resolve, reject) => {
    const latencies = [];
    const options = { url, connections, duration: durationS, ...(rate ? { overallRate: rate } : {}) };
    const instance = autocannon(options, (error, result) => {
      if (error) return reject(error);
      resolve({
        requests: result.requests.total,
        seconds: result.duration,
        p50Ms: percentile(latencies, 0.5),
        p99Ms: percentile(latencies, 0.99),
        failed: result.errors + result.timeouts + result.non2xx,
      });
    });
    instance.on('response', (_client, _status, _bytes, responseTimeMs) => latencies.push(responseTimeMs));
  });
}

/** Whether `wrk` (Debian's package) is on the PATH. */
export const hasWrk = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk prints its version and exits 1.
    return error.status === 1;
  }
})();

/**
 * The most req/s the server gives `connections` keep-alive connections for `durationS`: with wrk
 * when the machine has it (a C load generator spends about half of autocannon's CPU per request,
 * 15 vs 28 µs measured on the bench machine, which on a shared core is CPU the collector gets),
 * else with autocannon. `by` names the tool, for the bench's notes.
 *
 * @example
 * const { requests, seconds, failed, by } = await flatOut('http://127.0.0.1:3000/db', { durationS: 5, connections: 10 });
 */
export async function flatOut(url, { durationS, connections }) {
  if (!hasWrk) return { ...(await load(url, { durationS, connections })), by: 'autocannon' };
  const stdout = await new Promise((resolve, reject) =>
    execFile(
      'wrk',
      ['-t1', `-c${connections}`, `-d${durationS}s`, url],
      { encoding: 'utf8' },
      (error, out) => (error ? reject(error) : resolve(out)),
    ),
  );
  const number = (pattern) => Number(pattern.exec(stdout)?.[1] ?? 0);
  const [, requests, seconds] = /(\d+) requests in ([\d.]+)s/.exec(stdout) ?? [];
  if (requests === undefined) throw new Error(`wrk printed no request count:\n${stdout}`);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    requests: Number(requests),
    seconds: Number(seconds),
    failed:
      number(/Non-2xx or 3xx responses: (\d+)/) +
      (socketErrors ? socketErrors.slice(1).reduce((sum, count) => sum + Number(count), 0) : 0),
    by: 'wrk',
  };
}

/** The bench server's `/__cpu`: its user and system CPU time (µs) and the requests it served. */
export async function serverCpu(url) {
  const response = await fetch(`${url}/__cpu`);
  return response.json();
}

/** Rejects with a clear message when Redis, which the bench server's `/db` reads, is not running. */
export function requireRedis() {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: 6379, timeout: 1_000 });
    const fail = () => {
      socket.destroy();
      reject(
        new Error('the agent overhead bench needs Redis on 127.0.0.1:6379 (its /db endpoint reads a key)'),
      );
    };
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', fail);
    socket.once('error', fail);
  });
}
