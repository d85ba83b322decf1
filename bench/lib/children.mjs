/**
 * Child processes the benches start: a Node program that prints `… listening on …` once
 * it serves, stopped with SIGTERM (then SIGKILL if it lingers). Every child is tracked so a
 * failing bench leaves nothing running.
 */
import { spawn } from 'node:child_process';

const running = new Set();

/**
 * Starts `node ...args` and resolves once stdout matches `ready` (its first group is kept).
 *
 * @example
 * const app = await startNode(['bench/overhead/server.js'], { ready: /listening on (\d+)/ });
 * const url = `http://127.0.0.1:${app.match[1]}`;
 * await app.stop();
 */
export async function startNode(args, { env = {}, cwd, ready, taskset, timeoutMs = 30_000 }) {
  const command = taskset ? 'taskset' : process.execPath;
  const argv = taskset ? ['-c', taskset, process.execPath, ...args] : args;
  const child = spawn(command, argv, {
    cwd,
    env: { ...withoutTelemetrySettings(process.env), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const match = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${args.join(' ')} not ready in ${timeoutMs} ms: ${stderr}`)),
      timeoutMs,
    );
    const check = () => {
      const found = ready.exec(stdout);
      if (!found) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      resolve(found);
    };
    child.stdout.on('data', check);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited (${code ?? signal}) before it was ready: ${stderr}`));
    });
  });
  return {
    pid: child.pid,
    match,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Kills whatever is still running (a bench that threw). */
export function killAll() {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** The bench's own OTEL_* and CHOKEPOINT_* settings must not leak into the children. */
export function withoutTelemetrySettings(env) {
  return Object.fromEntries(
    Object.entries(env).filter(([name]) => !name.startsWith('OTEL_') && !name.startsWith('CHOKEPOINT_')),
  );
}
