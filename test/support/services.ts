/**
 * Real services the integration suites talk to. On a developer machine without one,
 * its suites are skipped with a line naming it; under CI=true a missing service fails.
 */
import { connect } from 'node:net';
import { describe } from 'vitest';

export const SERVICES = {
  postgres: { host: '127.0.0.1', port: 5432 },
  mariadb: { host: '127.0.0.1', port: 3306 },
  redis: { host: '127.0.0.1', port: 6379 },
  rabbitmq: { host: '127.0.0.1', port: 5672 },
  nats: { host: '127.0.0.1', port: 4222 },
  mosquitto: { host: '127.0.0.1', port: 1883 },
} as const;

export type ServiceName = keyof typeof SERVICES;

const probes = new Map<ServiceName, Promise<boolean>>();

/** True when the service accepts TCP connections (probed once per test file). */
export function isReachable(name: ServiceName): Promise<boolean> {
  let probe = probes.get(name);
  if (!probe) {
    const { host, port } = SERVICES[name];
    probe = new Promise<boolean>((resolve) => {
      const socket = connect({ host, port, timeout: 1000 });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(false));
    });
    probes.set(name, probe);
  }
  return probe;
}

/**
 * `describe` that runs only when every named service is reachable.
 *
 * @example
 * await describeWithServices(['postgres'], 'pg instrumentation', () => { it(...) });
 */
export async function describeWithServices(
  names: ServiceName[],
  title: string,
  body: () => void,
): Promise<void> {
  const missing: ServiceName[] = [];
  for (const name of names) if (!(await isReachable(name))) missing.push(name);
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const where = missing.map((name) => `${name} (${SERVICES[name].host}:${SERVICES[name].port})`).join(', ');
  if (process.env.CI === 'true') {
    describe(title, () => {
      throw new Error(`required service not reachable under CI=true: ${where}`);
    });
    return;
  }
  console.warn(`[chokepoint tests] skipping "${title}": service not reachable: ${where}`);
  describe.skip(`${title} (skipped: ${missing.join(', ')} not reachable)`, body);
}
