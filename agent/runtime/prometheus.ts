/**
 * The app's runtime metrics as Prometheus text, for teams that scrape their services:
 * `GET /metrics` on `CHOKEPOINT_METRICS_PORT` (off by default), bound to 127.0.0.1 unless
 * `CHOKEPOINT_METRICS_HOST` says otherwise. prom-client's default metrics, in a registry
 * separate from the sampler's: a scrape resets prom-client's event-loop histogram, and
 * must not cut the interval of the sample the collector gets. The server never keeps the
 * app alive, and its requests are not traced (see {@link isAgentRequest}).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const agentServers = new WeakSet<Server>();

/**
 * Whether an incoming request arrived at one of the agent's own servers: the http
 * instrumentation's `ignoreIncomingRequestHook`.
 */
export function isAgentRequest(request: IncomingMessage): boolean {
  const { server } = request.socket as { server?: unknown };
  return server !== undefined && agentServers.has(server as Server);
}

export interface MetricsServer {
  /** `http://host:port/metrics` */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the runtime metrics; rejects if the port cannot be bound.
 *
 * @example
 * const server = await startMetricsServer({ host: '127.0.0.1', port: 9464 });
 */
export async function startMetricsServer(options: { host: string; port: number }): Promise<MetricsServer> {
  const promClient = require('prom-client') as typeof import('prom-client');
  const registry = new promClient.Registry();
  promClient.collectDefaultMetrics({ register: registry });

  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response
        .writeHead(404, { 'content-type': 'text/plain' })
        .end('not found: the metrics are at /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  agentServers.add(server);
  // A scraper's keep-alive connection must not keep the app alive either.
  server.on('connection', (socket) => socket.unref());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  const { address, port, family } = server.address() as AddressInfo;
  const host = family === 'IPv6' ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
