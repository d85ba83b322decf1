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
 * and route names for Hono and Fastify; and where upstream costs too much, too: inbound
 * HTTP requests (http-server/).
 *
 * `OTEL_NODE_ENABLED_INSTRUMENTATIONS` replaces the default set and
 * `OTEL_NODE_DISABLED_INSTRUMENTATIONS` removes from it, with the upstream names
 * (`http`, `pg`, …) plus `better-sqlite3`, `bullmq`, `fastify` and `hono` for the agent's own.
 */
import { createRequire } from 'node:module';
import type { InstrumentationConfigMap } from '@opentelemetry/auto-instrumentations-node';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Environment } from '../config.js';
import { isAgentRequest } from '../runtime/prometheus.js';
import { BetterSqlite3Instrumentation } from './better-sqlite3/instrumentation.js';
import { BullMQInstrumentation } from './bullmq/instrumentation.js';
import { FastifyInstrumentation } from './fastify/instrumentation.js';
import { HonoInstrumentation } from './hono/instrumentation.js';
import { amqplibConfig } from './hooks/amqplib.js';
import { kafkajsConfig } from './hooks/kafkajs.js';
import { Mysql2ConnectionInstrumentation, mysql2Config } from './hooks/mysql2.js';
import { pgConfig } from './hooks/pg.js';
import { ioredisConfig, redisConfig } from './hooks/redis.js';
import type { UpstreamConfig } from './hooks/types.js';
import { HttpServerInstrumentation } from './http-server/instrumentation.js';

const UPSTREAM_PREFIX = '@opentelemetry/instrumentation-';
type UpstreamName = keyof InstrumentationConfigMap;
type ShortName = {
  [Name in UpstreamName]: Name extends `${typeof UPSTREAM_PREFIX}${infer Short}` ? Short : never;
}[UpstreamName];
type UpstreamClass<Name extends ShortName> = new (config: UpstreamConfig<Name>) => Instrumentation;

/**
 * Every upstream instrumentation: whether it is on by default, and the class its package
 * exports. Typed over auto-instrumentations-node's list, so an upgrade that adds one does
 * not compile until it is placed here. Only the enabled packages are loaded: loading all
 * of them, as `getNodeAutoInstrumentations` does, doubles the agent's start-up time.
 * `knex` and `mongoose` stay off: they wrap the driver calls the `pg`, `mysql2` and
 * `mongodb` instrumentations already trace, and would count every query twice.
 */
const UPSTREAM: Readonly<Record<ShortName, readonly [enabledByDefault: boolean, className: string]>> = {
  amqplib: [true, 'AmqplibInstrumentation'],
  'aws-lambda': [false, 'AwsLambdaInstrumentation'],
  'aws-sdk': [false, 'AwsInstrumentation'],
  bunyan: [false, 'BunyanInstrumentation'],
  'cassandra-driver': [true, 'CassandraDriverInstrumentation'],
  connect: [true, 'ConnectInstrumentation'],
  cucumber: [false, 'CucumberInstrumentation'],
  dataloader: [true, 'DataloaderInstrumentation'],
  dns: [false, 'DnsInstrumentation'],
  express: [true, 'ExpressInstrumentation'],
  fs: [false, 'FsInstrumentation'],
  'generic-pool': [true, 'GenericPoolInstrumentation'],
  graphql: [true, 'GraphQLInstrumentation'],
  grpc: [false, 'GrpcInstrumentation'],
  hapi: [true, 'HapiInstrumentation'],
  'host-metrics': [false, 'HostMetricsInstrumentation'],
  http: [true, 'HttpInstrumentation'],
  ioredis: [true, 'IORedisInstrumentation'],
  kafkajs: [true, 'KafkaJsInstrumentation'],
  knex: [false, 'KnexInstrumentation'],
  koa: [true, 'KoaInstrumentation'],
  'lru-memoizer': [false, 'LruMemoizerInstrumentation'],
  memcached: [true, 'MemcachedInstrumentation'],
  mongodb: [true, 'MongoDBInstrumentation'],
  mongoose: [false, 'MongooseInstrumentation'],
  mysql: [true, 'MySQLInstrumentation'],
  mysql2: [true, 'MySQL2Instrumentation'],
  'nestjs-core': [true, 'NestInstrumentation'],
  net: [false, 'NetInstrumentation'],
  openai: [false, 'OpenAIInstrumentation'],
  oracledb: [true, 'OracleInstrumentation'],
  pg: [true, 'PgInstrumentation'],
  pino: [false, 'PinoInstrumentation'],
  redis: [true, 'RedisInstrumentation'],
  restify: [true, 'RestifyInstrumentation'],
  router: [true, 'RouterInstrumentation'],
  'runtime-node': [false, 'RuntimeNodeInstrumentation'],
  'socket.io': [false, 'SocketIoInstrumentation'],
  tedious: [true, 'TediousInstrumentation'],
  undici: [true, 'UndiciInstrumentation'],
  winston: [false, 'WinstonInstrumentation'],
};

/**
 * The agent's own instrumentations, all on by default. `http` names two: the agent's for
 * the server side, and upstream's, configured for the client side only.
 */
const OWN_INSTRUMENTATIONS: Readonly<Record<string, () => Instrumentation>> = {
  'better-sqlite3': () => new BetterSqlite3Instrumentation(),
  bullmq: () => new BullMQInstrumentation(),
  fastify: () => new FastifyInstrumentation(),
  hono: () => new HonoInstrumentation(),
  // Scrapes of the agent's own metrics server are not the app's traffic.
  http: () => new HttpServerInstrumentation({ ignoreIncomingRequestHook: isAgentRequest }),
};
const UPSTREAM_NAMES = Object.keys(UPSTREAM) as ShortName[];
const KNOWN_INSTRUMENTATIONS = new Set([...UPSTREAM_NAMES, ...Object.keys(OWN_INSTRUMENTATIONS)]);

/** The short names enabled when the environment says nothing. */
export const DEFAULT_INSTRUMENTATIONS: readonly string[] = [
  ...new Set([...UPSTREAM_NAMES.filter((name) => UPSTREAM[name][0]), ...Object.keys(OWN_INSTRUMENTATIONS)]),
];

/** Settings that differ from upstream defaults. */
const OVERRIDES: { [Name in ShortName]?: UpstreamConfig<Name> } = {
  amqplib: amqplibConfig,
  // The agent's own instrumentation serves requests: upstream's is left the calls the app makes.
  http: { disableIncomingRequestInstrumentation: true },
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
    const unknown = names.filter((name) => !KNOWN_INSTRUMENTATIONS.has(name));
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
 * Builds the named instrumentations, loading only their packages; they hook module
 * loading as they are built.
 *
 * @example
 * registerInstrumentations({ instrumentations: createInstrumentations(['http', 'pg']) });
 */
export function createInstrumentations(names: readonly string[]): Instrumentation[] {
  const instrumentations: Instrumentation[] = [];
  for (const name of UPSTREAM_NAMES) {
    if (!names.includes(name)) continue;
    const Upstream = loadUpstream(name);
    instrumentations.push(new Upstream(OVERRIDES[name] ?? {}));
    // Upstream traces mysql2's statements, not its connections: the agent adds those.
    if (name === 'mysql2') instrumentations.push(new Mysql2ConnectionInstrumentation());
  }
  for (const [name, create] of Object.entries(OWN_INSTRUMENTATIONS)) {
    if (names.includes(name)) instrumentations.push(create());
  }
  return instrumentations;
}

/**
 * Upstream packages are dependencies of auto-instrumentations-node, not of the agent:
 * resolving them from its location finds them whether or not npm hoisted them, at the
 * versions that release was built with.
 */
let requireUpstream: NodeJS.Require | undefined;

function loadUpstream<Name extends ShortName>(name: Name): UpstreamClass<Name> {
  requireUpstream ??= createRequire(require.resolve('@opentelemetry/auto-instrumentations-node'));
  const exports = requireUpstream(`${UPSTREAM_PREFIX}${name}`) as Record<string, UpstreamClass<Name>>;
  const className = UPSTREAM[name][1];
  const Upstream = exports[className];
  if (typeof Upstream !== 'function') throw new Error(`${UPSTREAM_PREFIX}${name} exports no ${className}`);
  return Upstream;
}
