/**
 * A realistic OTLP trace workload for the ingest bench, encoded by the OpenTelemetry SDK's
 * own protobuf serializer (`ProtobufTraceSerializer`, what every JS exporter sends).
 *
 * Each trace is one request of an Express-style service: a SERVER span with the http
 * instrumentation's attributes, a router span, three Postgres statements, a Redis GET, and
 * in one trace of eight an N+1 loop of six lookups. Statements come from a catalogue of
 * `fingerprints` distinct shapes, each owned by one service. As in a real service, a few
 * are hot: 80% of statements come from the 5% hottest shapes, the rest from all of them
 * (so every shape appears). Half of the shapes are parameterised (`$1`, the same text every
 * time), half inline fresh literals, so the normaliser's caches see both hits and churn.
 */
import { randomBytes } from 'node:crypto';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';

const SERVER = 1;
const CLIENT = 2;
const INTERNAL = 0;
const ROUTES = Array.from({ length: 40 }, (_, i) => `/api/v1/resource${i}/:id`);
const SHAPES = [
  (table) => `SELECT id, status, total FROM ${table} WHERE customer_id = $1 AND status = $2`,
  (table) => `UPDATE ${table} SET updated_at = now(), version = version + 1 WHERE id = $1`,
  (table, id) =>
    `SELECT * FROM ${table} WHERE id IN (${id}, ${id + 1}, ${id + 2}) ORDER BY created_at DESC LIMIT 20`,
  (table, id) =>
    `INSERT INTO ${table} (account_id, amount, note) VALUES (${id}, ${id % 997}.50, 'payment ${id}')`,
];
const HOT_SHARE = 0.8;
const HOT_FRACTION = 0.05;

/**
 * Builds export request bodies of `batchSize` spans each until `spans` spans exist.
 *
 * @example
 * const { bodies, spans } = buildWorkload({ spans: 100_000, fingerprints: 10_000 });
 */
export function buildWorkload({ spans: wanted, batchSize = 512, fingerprints = 10_000, services = 4 }) {
  const resources = Array.from({ length: services }, (_, i) =>
    resourceFromAttributes({
      'service.name': `bench-service-${i}`,
      'service.version': '1.4.2',
      'telemetry.sdk.language': 'nodejs',
      'telemetry.sdk.name': 'opentelemetry',
      'telemetry.sdk.version': '2.12.0',
      'process.pid': 1000 + i,
      'process.runtime.name': 'nodejs',
      'process.runtime.version': '20.20.2',
      'host.name': `bench-host-${i}`,
    }),
  );
  const scopes = {
    http: { name: '@opentelemetry/instrumentation-http', version: '0.223.0' },
    express: { name: '@opentelemetry/instrumentation-express', version: '0.62.0' },
    pg: { name: '@opentelemetry/instrumentation-pg', version: '0.66.0' },
    ioredis: { name: '@opentelemetry/instrumentation-ioredis', version: '0.60.0' },
  };
  // Ids count up from a random start: unique within and across runs, without a crypto call per span.
  const ids = {
    run: randomBytes(8).toString('hex'),
    next: Number.parseInt(randomBytes(4).toString('hex'), 16),
  };
  const bodies = [];
  let batch = [];
  let total = 0;
  const random = seededRandom(42);
  const hot = Math.max(services, Math.floor(fingerprints * HOT_FRACTION));
  /** A shape owned by `service`: shapes are dealt to services round-robin. */
  const pickShape = (service) => {
    const range = random() < HOT_SHARE ? hot : fingerprints;
    const slot = Math.floor((random() * range) / services);
    return Math.min(fingerprints - services + service, slot * services + service);
  };
  const nowMs = Date.now();
  for (let trace = 0; total < wanted; trace++) {
    const service = trace % services;
    const resource = resources[service];
    const startMs = nowMs - 60_000 + (trace % 60_000);
    const spans = buildTrace({
      ids,
      resource,
      scopes,
      startMs,
      trace,
      nextStatement: () => pickShape(service),
    });
    for (const span of spans) {
      batch.push(span);
      total++;
      if (batch.length === batchSize) {
        bodies.push(ProtobufTraceSerializer.serializeRequest(batch));
        batch = [];
      }
    }
  }
  if (batch.length > 0) bodies.push(ProtobufTraceSerializer.serializeRequest(batch));
  return { bodies, spans: total, bytes: bodies.reduce((sum, body) => sum + body.byteLength, 0) };
}

function buildTrace({ ids, resource, scopes, startMs, trace, nextStatement }) {
  const traceId = ids.run + nextId(ids);
  const route = ROUTES[trace % ROUTES.length];
  const id = 1000 + (trace % 900_000);
  const root = span({
    ids,
    traceId,
    name: `GET ${route}`,
    kind: SERVER,
    startMs,
    durationMs: 40,
    resource,
    scope: scopes.http,
    attributes: {
      'http.request.method': 'GET',
      'url.scheme': 'http',
      'server.address': 'api.internal',
      'server.port': 8080,
      'network.peer.address': '10.0.3.17',
      'network.peer.port': 40000 + (trace % 20_000),
      'network.protocol.version': '1.1',
      'user_agent.original':
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0',
      'url.path': route.replace(':id', String(id)),
      'client.address': '10.0.3.17',
      'http.route': route,
      'http.response.status_code': 200,
    },
  });
  const handler = span({
    ids,
    traceId,
    parent: root,
    name: `request handler - ${route}`,
    kind: INTERNAL,
    startMs: startMs + 1,
    durationMs: 37,
    resource,
    scope: scopes.express,
    attributes: { 'http.route': route, 'express.name': route, 'express.type': 'request_handler' },
  });
  const query = (offset, text) =>
    span({
      ids,
      traceId,
      parent: handler,
      name: `${text.split(' ', 1)[0]} shop`,
      kind: CLIENT,
      startMs: startMs + 2 + offset,
      durationMs: 2 + (offset % 5),
      resource,
      scope: scopes.pg,
      attributes: {
        'db.system.name': 'postgresql',
        'db.namespace': 'shop',
        'db.query.text': text,
        'server.address': '127.0.0.1',
        'server.port': 5432,
      },
    });
  const table = (fingerprint) => `shop.table_${Math.floor(fingerprint / SHAPES.length)}`;
  const statementText = (fingerprint, literal) =>
    SHAPES[fingerprint % SHAPES.length](table(fingerprint), literal);
  const spans = [root, handler];
  for (let i = 0; i < 3; i++) spans.push(query(i * 8, statementText(nextStatement(), id + i)));
  spans.push(
    span({
      ids,
      traceId,
      parent: handler,
      name: 'get',
      kind: CLIENT,
      startMs: startMs + 28,
      durationMs: 1,
      resource,
      scope: scopes.ioredis,
      attributes: {
        'db.system.name': 'redis',
        'db.operation.name': 'get',
        'db.query.text': `get session:${id}:profile`,
        'server.address': '127.0.0.1',
        'server.port': 6379,
      },
    }),
  );
  if (trace % 8 === 0) {
    const loop = nextStatement();
    for (let i = 0; i < 6; i++) spans.push(query(30 + i, statementText(loop, id * 7 + i)));
  }
  return spans;
}

/** Deterministic uniform numbers in [0, 1) (mulberry32): the same workload on every run. */
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A `ReadableSpan` as the SDK hands it to exporters (only what the serializer reads). */
function span({ ids, traceId, parent, name, kind, startMs, durationMs, resource, scope, attributes }) {
  const spanId = nextId(ids);
  return {
    name,
    kind,
    spanContext: () => ({ traceId, spanId, traceFlags: 1 }),
    parentSpanContext: parent ? parent.spanContext() : undefined,
    startTime: hrTime(startMs),
    endTime: hrTime(startMs + durationMs),
    status: { code: 0 },
    attributes,
    links: [],
    events: [],
    duration: hrTime(durationMs),
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** 16 hex characters, never the all-zero invalid id. */
function nextId(ids) {
  ids.next += 1;
  return ids.next.toString(16).padStart(16, '0');
}

function hrTime(ms) {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}
