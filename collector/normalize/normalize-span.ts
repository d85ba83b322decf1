/**
 * The normalise stage: a span record becomes a typed operation. Reads both the
 * current OpenTelemetry semantic conventions and the older ones (`db.query.text`
 * and `db.statement`, `http.request.method` and `http.method`, …), plus the
 * `chokepoint.*` attributes the agent adds. Every text that leaves this module
 * has been scrubbed: statements are fingerprints, paths templates, keys patterns.
 */

// Values from the modules that define them, not index.js: through its compiled CommonJS
// re-export every use (a dozen per span) was a getter call, which also kept the helpers from
// being inlined.
import { ChokepointAttributes } from '../../model/attributes.js';
import type {
  Attributes,
  CacheCommandOperation,
  DbConnectOperation,
  DbQueryOperation,
  HttpClientOperation,
  HttpServerOperation,
  InternalOperation,
  Operation,
  QueueMessageOperation,
  SpanRecord,
} from '../../model/index.js';
import { numberAttribute, SpanKind, StatusCode, stringAttribute } from '../../model/span.js';
import { readPlan } from '../recommend/plan.js';
import { errorKindOf } from './error-kind.js';
import { LruCache } from './lru-cache.js';
import { keyPattern, parseRedisStatement } from './redis-key.js';
import { scrubSpanName } from './span-name.js';
import { identifySql } from './sql-fingerprint.js';
import { hostOf, hostWithPort, templatePath } from './url-template.js';

/** The agent's attribute names, read once rather than as `ChokepointAttributes.X` per span. */
const {
  CACHE_HIT,
  CACHE_HITS,
  CACHE_KEY_PATTERN,
  CACHE_MISSES,
  CACHE_TTL_SECONDS,
  DB_CONNECT,
  DB_PLAN,
  DB_PLAN_SYSTEM,
  DB_PREPARE,
  MESSAGE_PUBLISH_TIME_MS,
} = ChokepointAttributes;

/** `db.system.name` values served by the cache_command operation rather than db_query. */
const CACHE_SYSTEMS = new Set(['redis', 'valkey', 'memcached']);

/** Connection spans of instrumentation-pg (`pg.connect`, `pg-pool.connect`) and instrumentation-redis v4+. */
const CONNECT_SPAN_NAMES = new Map([
  ['pg.connect', 'postgresql'],
  ['pg-pool.connect', 'postgresql'],
  ['redis-connect', 'redis'],
]);
/** Pool checkouts: they open a connection only through a connect span nested in them (the agent's for mysql2). */
const CHECKOUT_SPAN_NAMES = new Set(['pg-pool.connect', 'mysql2-pool.getConnection']);
/** Spans that open a connection: a client's own connect (pg, node-redis, ioredis's plain `connect`, the agent's mysql2 handshake). */
const OPENING_SPAN_NAMES = new Set(['pg.connect', 'redis-connect', 'connect', 'mysql2.connect']);

/** Operations that call another server: their failures are classified (errorKind). */
const OUTBOUND_TYPES = new Set<Operation['type']>([
  'db_query',
  'db_connect',
  'cache_command',
  'queue_message',
  'http_client',
]);

/** `messaging.operation.type` values (and old `messaging.operation` ones) on the consuming side. */
const CONSUME_OPERATIONS = new Set(['receive', 'process', 'deliver', 'settle']);

/** RabbitMQ names exclusive reply queues `amq.gen-<random>`: one destination, not thousands. */
const RABBITMQ_GENERATED_QUEUE = 'amq.gen-';

/**
 * Turns a span into the operation it stands for.
 *
 * - SERVER spans, and spans carrying an HTTP method with a route or path → `http_server`
 *   (`http.route`, else the templated path);
 * - connection spans (`pg.connect`, `pg-pool.connect`, `redis-connect`, ioredis `connect`,
 *   or `chokepoint.db.connect`: the agent's `mysql2.connect`, `mysql2-pool.getConnection`) → `db_connect`, a pool checkout or a new connection (`opensConnection`);
 * - PRODUCER/CONSUMER spans and spans with `messaging.system` → `queue_message`;
 * - Redis/Memcached spans → `cache_command`; other database spans with a statement → `db_query`;
 * - CLIENT spans with HTTP attributes → `http_client`;
 * - anything else, statement preparation included → `internal`, under its scrubbed name.
 *
 * Database, cache and broker operations carry their server (`host`); a failed outbound call
 * carries what it ran into (`errorKind`), never the error's text.
 *
 * @example
 * normalizeSpan(span); // { type: 'db_query', system: 'postgresql', fingerprint: 'select * from users where id = ?', … }
 */
export function normalizeSpan(span: SpanRecord): Operation {
  const operation = typedOperation(span);
  if (operation.error && OUTBOUND_TYPES.has(operation.type)) operation.errorKind = errorKindOf(span);
  return operation;
}

function typedOperation(span: SpanRecord): Operation {
  const attributes = span.attributes;
  const dbSystem = stringAttribute(attributes, 'db.system.name', 'db.system')?.toLowerCase();

  if (attributes[DB_CONNECT] === true || isConnectSpan(span.name, dbSystem)) return dbConnect(span, dbSystem);
  // Preparing a statement costs time but runs nothing: not a query to count or fingerprint.
  if (attributes[DB_PREPARE] === true) return internal(span);
  if (
    span.kind === SpanKind.PRODUCER ||
    span.kind === SpanKind.CONSUMER ||
    stringAttribute(attributes, 'messaging.system')
  ) {
    return queueMessage(span);
  }
  if (dbSystem !== undefined && CACHE_SYSTEMS.has(dbSystem)) return cacheCommand(span, dbSystem);
  const statement = stringAttribute(attributes, 'db.query.text', 'db.statement');
  if (statement !== undefined) return dbQuery(span, dbSystem ?? 'unknown', statement);

  const method = stringAttribute(attributes, 'http.request.method', 'http.method')?.toUpperCase();
  if (
    span.kind === SpanKind.SERVER ||
    (method !== undefined && span.kind !== SpanKind.CLIENT && hasServerPath(attributes))
  ) {
    return httpServer(span, method);
  }
  const url = stringAttribute(attributes, 'url.full', 'http.url');
  if (span.kind === SpanKind.CLIENT && (method !== undefined || url !== undefined)) {
    return httpClient(span, method, url);
  }
  return internal(span);
}

/*
 * Each operation is built as one object literal naming the common fields (service … error) and its
 * own: one allocation with every field in the object itself. Completing a shared base with
 * `Object.assign` grew a separate property store two or three times per span, and the assembler
 * holds operations long enough for the garbage collector to copy each one twice.
 */

function durationOf(span: SpanRecord): number {
  return Math.max(0, span.endTimeMs - span.startTimeMs);
}

/**
 * Drops `serviceVersion` when the resource has none (absent, not `undefined`). Every operation literal
 * names it last, so that it sits in the object itself: added afterwards, it grew a separate property
 * store per operation (40 of the ~330 bytes a span held while its trace assembles). Deleting the
 * last field added, V8 goes back to the shape before it and the object stays fast.
 */
function versioned<T extends Operation>(operation: T): T {
  if (operation.serviceVersion === undefined) delete operation.serviceVersion;
  return operation;
}

function internal(span: SpanRecord): InternalOperation {
  return versioned<InternalOperation>({
    service: span.resource.serviceName,
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    startTimeMs: span.startTimeMs,
    durationMs: durationOf(span),
    error: span.statusCode === StatusCode.ERROR,
    type: 'internal',
    name: scrubSpanName(span.name),
    serviceVersion: span.resource.serviceVersion,
  });
}

function dbConnect(span: SpanRecord, dbSystem: string | undefined): DbConnectOperation {
  const connect = versioned<DbConnectOperation>({
    service: span.resource.serviceName,
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    startTimeMs: span.startTimeMs,
    durationMs: durationOf(span),
    error: span.statusCode === StatusCode.ERROR,
    type: 'db_connect',
    system: dbSystem ?? CONNECT_SPAN_NAMES.get(span.name) ?? 'unknown',
    host: serverOf(span.attributes),
    serviceVersion: span.resource.serviceVersion,
  });
  if (CHECKOUT_SPAN_NAMES.has(span.name)) connect.opensConnection = false;
  else if (OPENING_SPAN_NAMES.has(span.name)) connect.opensConnection = true;
  return connect;
}

function isConnectSpan(name: string, dbSystem: string | undefined): boolean {
  // ioredis names its connection span plain `connect`.
  return CONNECT_SPAN_NAMES.has(name) || (dbSystem !== undefined && name === 'connect');
}

/**
 * Servers already named, by address then port: every statement to a server names it again, and
 * one shared string spares building one per operation, which the assembler then holds.
 */
const servers = new LruCache<string, Map<number | undefined, string>>(1_000);
/** Ports remembered per address: beyond them a server is named afresh, so no address holds many. */
const PORTS_PER_ADDRESS = 16;

/** `server.address[:port]` of a database, cache or broker span (any port kept: 5432 says which server). */
function serverOf(attributes: Attributes): string | undefined {
  const address = stringAttribute(attributes, 'server.address', 'net.peer.name');
  if (address === undefined) return undefined;
  const port = numberAttribute(attributes, 'server.port', 'net.peer.port');
  let ports = servers.get(address);
  const known = ports?.get(port);
  if (known !== undefined) return known;
  const server = port === undefined ? address.toLowerCase() : `${address.toLowerCase()}:${port}`;
  if (!ports) {
    ports = new Map();
    servers.set(address, ports);
  }
  if (ports.size < PORTS_PER_ADDRESS) ports.set(port, server);
  return server;
}

function hasServerPath(attributes: Attributes): boolean {
  return stringAttribute(attributes, 'http.route', 'url.path', 'http.target') !== undefined;
}

function statusCodeOf(attributes: Attributes): number | undefined {
  return numberAttribute(attributes, 'http.response.status_code', 'http.status_code');
}

function httpServer(span: SpanRecord, method: string | undefined): Operation {
  const attributes = span.attributes;
  const path = stringAttribute(attributes, 'http.route', 'url.path', 'http.target', 'url.full', 'http.url');
  const statusCode = statusCodeOf(attributes);
  return versioned<HttpServerOperation>({
    service: span.resource.serviceName,
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    startTimeMs: span.startTimeMs,
    durationMs: durationOf(span),
    error: span.statusCode === StatusCode.ERROR || (statusCode !== undefined && statusCode >= 500),
    type: 'http_server',
    method: method ?? '_OTHER',
    // Routes are templates already; templating again is a no-op for them and strips anything that is not.
    route: path === undefined ? scrubSpanName(span.name) : templatePath(path),
    statusCode,
    serviceVersion: span.resource.serviceVersion,
  });
}

function httpClient(span: SpanRecord, method: string | undefined, url: string | undefined): Operation {
  const attributes = span.attributes;
  const path = url ?? stringAttribute(attributes, 'url.path', 'http.target');
  return versioned<HttpClientOperation>({
    service: span.resource.serviceName,
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    startTimeMs: span.startTimeMs,
    durationMs: durationOf(span),
    error: span.statusCode === StatusCode.ERROR,
    type: 'http_client',
    method: method ?? '_OTHER',
    host: clientHost(attributes, url),
    urlTemplate: path === undefined ? '/' : templatePath(path),
    statusCode: statusCodeOf(attributes),
    serviceVersion: span.resource.serviceVersion,
  });
}

function clientHost(attributes: Attributes, url: string | undefined): string {
  const address = stringAttribute(attributes, 'server.address', 'net.peer.name');
  if (address !== undefined)
    return hostWithPort(address, numberAttribute(attributes, 'server.port', 'net.peer.port'));
  // Old conventions' `http.host` is the Host header: `name[:port]`.
  const hostHeader = stringAttribute(attributes, 'http.host');
  if (hostHeader !== undefined) return hostOf(`http://${hostHeader}`);
  return url === undefined ? '' : hostOf(url);
}

function dbQuery(span: SpanRecord, system: string, statement: string): Operation {
  const attributes = span.attributes;
  const { result, id } = identifySql(statement, system);
  const { fingerprint, statementType, tables } = result;
  // Document stores name their collection in an attribute, not in the statement.
  const collection = stringAttribute(attributes, 'db.collection.name', 'db.mongodb.collection');
  const operation = versioned<DbQueryOperation>({
    service: span.resource.serviceName,
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    startTimeMs: span.startTimeMs,
    durationMs: durationOf(span),
    error: span.statusCode === StatusCode.ERROR,
    type: 'db_query',
    system,
    namespace: stringAttribute(attributes, 'db.namespace', 'db.name'),
    host: serverOf(attributes),
    fingerprint,
    fingerprintId: id,
    statementType,
    tables: tables.length === 0 && collection !== undefined ? [collection] : tables,
    rows: numberAttribute(attributes, 'db.response.returned_rows'),
    serviceVersion: span.resource.serviceVersion,
  });
  // A captured plan prints literals: only its summary (table, column and index names) is kept.
  const planText = stringAttribute(attributes, DB_PLAN);
  if (planText !== undefined) {
    const plan = readPlan(planText, stringAttribute(attributes, DB_PLAN_SYSTEM) ?? system);
    if (plan) operation.plan = plan;
  }
  return operation;
}

function cacheCommand(span: SpanRecord, system: string): Operation {
  const attributes = span.attributes;
  const statement = stringAttribute(attributes, 'db.query.text', 'db.statement');
  const parsed = statement === undefined ? undefined : parseRedisStatement(statement);
  // Without a statement, the operation name or node-redis's `redis-GET` span name still names the command.
  const command =
    parsed?.command ??
    parseRedisStatement(stringAttribute(attributes, 'db.operation.name', 'db.operation') ?? '')?.command ??
    parseRedisStatement(span.name.replace(/^redis-/, ''))?.command ??
    'UNKNOWN';
  // The raw key folds at least as well as the agent's pattern of it (which an older agent may
  // have folded less); the agent's pattern covers what the statement leaves out (multi-key reads).
  const key = parsed?.key ?? stringAttribute(attributes, CACHE_KEY_PATTERN);
  const hit = attributes[CACHE_HIT];
  return versioned<CacheCommandOperation>({
    service: span.resource.serviceName,
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    startTimeMs: span.startTimeMs,
    durationMs: durationOf(span),
    error: span.statusCode === StatusCode.ERROR,
    type: 'cache_command',
    system,
    host: serverOf(attributes),
    command,
    keyPattern: key === undefined ? undefined : shared(keyPattern(key)),
    hit: typeof hit === 'boolean' ? hit : undefined,
    hits: numberAttribute(attributes, CACHE_HITS),
    misses: numberAttribute(attributes, CACHE_MISSES),
    ttlSeconds: numberAttribute(attributes, CACHE_TTL_SECONDS),
    serviceVersion: span.resource.serviceVersion,
  });
}

function queueMessage(span: SpanRecord): Operation {
  const attributes = span.attributes;
  const role = messageRole(span);
  return versioned<QueueMessageOperation>({
    service: span.resource.serviceName,
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    startTimeMs: span.startTimeMs,
    durationMs: durationOf(span),
    error: span.statusCode === StatusCode.ERROR,
    type: 'queue_message',
    system: stringAttribute(attributes, 'messaging.system')?.toLowerCase() ?? 'unknown',
    host: serverOf(attributes),
    destination: destinationOf(span),
    role,
    publishTimeMs: role === 'consume' ? numberAttribute(attributes, MESSAGE_PUBLISH_TIME_MS) : undefined,
    serviceVersion: span.resource.serviceVersion,
  });
}

function messageRole(span: SpanRecord): 'publish' | 'consume' {
  if (span.kind === SpanKind.PRODUCER) return 'publish';
  if (span.kind === SpanKind.CONSUMER) return 'consume';
  const operation = stringAttribute(
    span.attributes,
    'messaging.operation.type',
    'messaging.operation',
    'messaging.operation.name',
  )?.toLowerCase();
  // Everything else (`send`, `publish`, `create`) produces.
  return operation !== undefined && CONSUME_OPERATIONS.has(operation) ? 'consume' : 'publish';
}

function destinationOf(span: SpanRecord): string {
  // amqplib publishes to the default exchange as `messaging.destination: ''`: the routing key is the queue.
  const destination = stringAttribute(
    span.attributes,
    'messaging.destination.template',
    'messaging.destination.name',
    'messaging.destination',
    'messaging.rabbitmq.destination.routing_key',
    'messaging.rabbitmq.routing_key',
  );
  if (destination === undefined) return scrubSpanName(span.name);
  if (destination.startsWith(RABBITMQ_GENERATED_QUEUE)) return `${RABBITMQ_GENERATED_QUEUE}{hash}`;
  return shared(keyPattern(destination));
}

/**
 * Folded key patterns and destinations, one string each: folded afresh per span, a pattern was a
 * chain of a few pieces that the operation held until its trace was released (~100 bytes a trace
 * of the ingest workload), and that every map keyed by it copied flat to hash.
 */
const patterns = new LruCache<string, string>(10_000);

function shared(pattern: string): string {
  const known = patterns.get(pattern);
  if (known !== undefined) return known;
  patterns.set(pattern, pattern);
  return pattern;
}
