/** Load for the overhead benches: autocannon runs timed response by response, and the server's own CPU. */
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
