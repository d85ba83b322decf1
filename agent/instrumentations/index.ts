/**
 * Which instrumentations the agent turns on. Each enabled one costs start-up time and a
 * little CPU on every call it wraps, so the default set is what Chokepoint can explain:
 * requests and their routes, database and cache calls, queues, data loaders and pools.
 * `fs`, `dns` and `net` (noise, and costly), logging, metrics, cloud SDKs and RPC
 * frameworks stay off.
 *
 * Upstream ones are configured with the agent's hooks (hooks/): what the collector needs
 * and upstream leaves out (cache outcomes, publish times, row counts, current messaging
 * names). Where upstream has nothing, the agent brings its own: better-sqlite3, BullMQ,
 * and route names for Hono and Fastify.
 *
 * `OTEL_NODE_ENABLED_INSTRUMENTATIONS` replaces the default set and
 * `OTEL_NODE_DISABLED_INSTRUMENTATIONS` removes from it, with the upstream names
 * (`http`, `pg`, …) plus `better-sqlite3`, `bullmq`, `fastify` and `hono` for the agent's own.
 */
import {
  getNodeAutoInstrumentations,
  type InstrumentationConfigMap,
} from '@opentelemetry/auto-instrumentations-node';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Environment } from '../config.js';
import { isAgentRequest } from '../runtime/prometheus.js';
import { BetterSqlite3Instrumentation } from './better-sqlite3/instrumentation.js';
import { BullMQInstrumentation } from './bullmq/instrumentation.js';
import { FastifyInstrumentation } from './fastify/instrumentation.js';
import { HonoInstrumentation } from './hono/instrumentation.js';
import { amqplibConfig } from './hooks/amqplib.js';
import { kafkajsConfig } from './hooks/kafkajs.js';
import { mysql2Config } from './hooks/mysql2.js';
import { pgConfig } from './hooks/pg.js';
import { ioredisConfig, redisConfig } from './hooks/redis.js';
import type { UpstreamConfig } from './hooks/types.js';

const UPSTREAM_PREFIX = '@opentelemetry/instrumentation-';
type UpstreamName = keyof InstrumentationConfigMap;
type ShortName = {
  [Name in UpstreamName]: Name extends `${typeof UPSTREAM_PREFIX}${infer Short}` ? Short : never;
}[UpstreamName];

/**
 * Every upstream instrumentation and whether it is on by default. Typed over upstream's
 * own list, so an upgrade that adds one does not compile until it is placed here.
 * `knex` and `mongoose` stay off: they wrap the driver calls the `pg`, `mysql2` and
 * `mongodb` instrumentations already trace, and would count every query twice.
 */
const UPSTREAM_DEFAULTS: Readonly<Record<ShortName, boolean>> = {
  amqplib: true,
  'aws-lambda': false,
  'aws-sdk': false,
  bunyan: false,
  'cassandra-driver': true,
  connect: true,
  cucumber: false,
  dataloader: true,
  dns: false,
  express: true,
  fs: false,
  'generic-pool': true,
  graphql: true,
  grpc: false,
  hapi: true,
  'host-metrics': false,
  http: true,
  ioredis: true,
  kafkajs: true,
  knex: false,
  koa: true,
  'lru-memoizer': false,
  memcached: true,
  mongodb: true,
  mongoose: false,
  mysql: true,
  mysql2: true,
  'nestjs-core': true,
  net: false,
  openai: false,
  oracledb: true,
  pg: true,
  pino: false,
  redis: true,
  restify: true,
  router: true,
  'runtime-node': false,
  'socket.io': false,
  tedious: true,
  undici: true,
  winston: false,
};

/** The agent's own instrumentations, all on by default. */
const OWN_INSTRUMENTATIONS: Readonly<Record<string, () => Instrumentation>> = {
  'better-sqlite3': () => new BetterSqlite3Instrumentation(),
  bullmq: () => new BullMQInstrumentation(),
  fastify: () => new FastifyInstrumentation(),
  hono: () => new HonoInstrumentation(),
};
const KNOWN_INSTRUMENTATIONS = [...Object.keys(UPSTREAM_DEFAULTS), ...Object.keys(OWN_INSTRUMENTATIONS)];

/** The short names enabled when the environment says nothing. */
export const DEFAULT_INSTRUMENTATIONS: readonly string[] = [
  ...Object.entries(UPSTREAM_DEFAULTS)
    .filter(([, enabled]) => enabled)
    .map(([name]) => name),
  ...Object.keys(OWN_INSTRUMENTATIONS),
];

/** Settings that differ from upstream defaults. */
const OVERRIDES: { [Name in ShortName]?: UpstreamConfig<Name> } = {
  amqplib: amqplibConfig,
  // Scrapes of the agent's own metrics server are not the app's traffic.
  http: { ignoreIncomingRequestHook: isAgentRequest },
  ioredis: ioredisConfig,
  kafkajs: kafkajsConfig,
  mysql2: mysql2Config,
  pg: pgConfig,
  redis: redisConfig,
};

/**
 * The short names of the instrumentations to enable, after the environment's say, and a
 * warning for every variable naming an instrumentation that does not exist.
 *
 * @example
 * enabledInstrumentations({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'graphql' }).names.includes('graphql'); // false
 */
export function enabledInstrumentations(env: Environment): { names: string[]; warnings: string[] } {
  const warnings: string[] = [];
  function list(variable: string): string[] | undefined {
    const raw = env[variable]?.trim();
    if (!raw) return undefined;
    const names = raw.split(',').map((name) => name.trim());
    const unknown = names.filter((name) => !KNOWN_INSTRUMENTATIONS.includes(name));
    if (unknown.length > 0) {
      warnings.push(
        `ignoring ${unknown.join(', ')} in ${variable}: expected names such as http, pg, ioredis`,
      );
    }
    return names;
  }
  const enabled = list('OTEL_NODE_ENABLED_INSTRUMENTATIONS') ?? DEFAULT_INSTRUMENTATIONS;
  const disabled = list('OTEL_NODE_DISABLED_INSTRUMENTATIONS') ?? [];
  return { names: enabled.filter((name) => !disabled.includes(name)), warnings };
}

/**
 * Builds the named instrumentations; they hook module loading as they are built.
 *
 * @example
 * new NodeSDK({ instrumentations: createInstrumentations(['http', 'pg']) });
 */
export function createInstrumentations(names: readonly string[]): Instrumentation[] {
  const configs: InstrumentationConfigMap = {};
  // An explicit `enabled` for every upstream name outranks upstream's own reading of the environment.
  for (const name of Object.keys(UPSTREAM_DEFAULTS) as ShortName[]) {
    Object.assign(configs, {
      [`${UPSTREAM_PREFIX}${name}`]: { ...OVERRIDES[name], enabled: names.includes(name) },
    });
  }
  const instrumentations: Instrumentation[] = getNodeAutoInstrumentations(configs);
  for (const [name, create] of Object.entries(OWN_INSTRUMENTATIONS)) {
    if (names.includes(name)) instrumentations.push(create());
  }
  return instrumentations;
}
