import { describe, expect, it } from 'vitest';
import { normalizeSpan } from '../../../collector/normalize/normalize-span.js';
import { fingerprintId } from '../../../collector/normalize/sql-fingerprint.js';
import {
  type Attributes,
  ChokepointAttributes,
  type DbConnectOperation,
  type ResourceInfo,
  SpanKind,
  type SpanRecord,
  StatusCode,
} from '../../../model/index.js';

const resource: ResourceInfo = { serviceName: 'shop', serviceVersion: '1.4.2', attributes: {} };

function span(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  fields: Partial<SpanRecord> = {},
): SpanRecord {
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    parentSpanId: '00f067aa0ba902b7',
    name,
    kind,
    startTimeMs: 1_700_000_000_000.25,
    endTimeMs: 1_700_000_000_012.75,
    attributes,
    statusCode: StatusCode.UNSET,
    statusMessage: '',
    events: [],
    links: [],
    resource,
    scopeName: 'test',
    scopeVersion: '0.0.0',
    ...fields,
  };
}

describe('normalizeSpan: common fields', () => {
  it('copies identity, service and timing from the span', () => {
    const operation = normalizeSpan(span('work', SpanKind.INTERNAL, {}));
    expect(operation).toEqual({
      type: 'internal',
      name: 'work',
      service: 'shop',
      serviceVersion: '1.4.2',
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      parentSpanId: '00f067aa0ba902b7',
      startTimeMs: 1_700_000_000_000.25,
      durationMs: 12.5,
      error: false,
    });
  });

  it('leaves serviceVersion out when the resource has none, and never reports a negative duration', () => {
    const operation = normalizeSpan(
      span(
        'work',
        SpanKind.INTERNAL,
        {},
        { resource: { serviceName: 'unknown_service', attributes: {} }, endTimeMs: 0 },
      ),
    );
    expect(operation.service).toBe('unknown_service');
    expect('serviceVersion' in operation).toBe(false);
    expect(operation.durationMs).toBe(0);
  });

  it('marks ERROR status as an error', () => {
    expect(normalizeSpan(span('work', SpanKind.INTERNAL, {}, { statusCode: StatusCode.ERROR })).error).toBe(
      true,
    );
    expect(normalizeSpan(span('work', SpanKind.INTERNAL, {}, { statusCode: StatusCode.OK })).error).toBe(
      false,
    );
  });

  it('gives every operation type the common fields, and serviceVersion only when the resource has one', () => {
    const unversioned: ResourceInfo = { serviceName: 'shop', attributes: {} };
    const kinds: [string, SpanKind, Attributes][] = [
      ['GET /users/:id', SpanKind.SERVER, { 'http.request.method': 'GET', 'http.route': '/users/:id' }],
      ['GET', SpanKind.CLIENT, { 'http.request.method': 'GET', 'url.full': 'http://api/users/1' }],
      ['SELECT', SpanKind.CLIENT, { 'db.system.name': 'postgresql', 'db.query.text': 'SELECT 1' }],
      ['pg.connect', SpanKind.CLIENT, { 'db.system.name': 'postgresql' }],
      ['get', SpanKind.CLIENT, { 'db.system.name': 'redis', 'db.query.text': 'get user:1' }],
      ['orders publish', SpanKind.PRODUCER, { 'messaging.system': 'rabbitmq' }],
      ['work', SpanKind.INTERNAL, {}],
    ];
    const types = new Set<string>();
    for (const [name, kind, attributes] of kinds) {
      const versioned = normalizeSpan(span(name, kind, attributes, { statusCode: StatusCode.ERROR }));
      const plain = normalizeSpan(span(name, kind, attributes, { resource: unversioned }));
      types.add(versioned.type);
      for (const operation of [versioned, plain]) {
        expect(operation).toMatchObject({
          service: 'shop',
          traceId: '0af7651916cd43dd8448eb211c80319c',
          spanId: 'b7ad6b7169203331',
          parentSpanId: '00f067aa0ba902b7',
          startTimeMs: 1_700_000_000_000.25,
          durationMs: 12.5,
        });
      }
      expect(versioned.error).toBe(true);
      expect(plain.error).toBe(false);
      expect(versioned.serviceVersion).toBe('1.4.2');
      expect('serviceVersion' in plain).toBe(false);
    }
    expect(types.size).toBe(kinds.length);
  });
});

describe('normalizeSpan: http_server', () => {
  it('uses http.route (current conventions)', () => {
    const operation = normalizeSpan(
      span('GET /users/:id', SpanKind.SERVER, {
        'http.request.method': 'GET',
        'http.route': '/users/:id',
        'url.path': '/users/42',
        'url.query': 'token=abc',
        'http.response.status_code': 200,
      }),
    );
    expect(operation).toMatchObject({
      type: 'http_server',
      method: 'GET',
      route: '/users/:id',
      statusCode: 200,
      error: false,
    });
  });

  it('templates url.path when there is no route', () => {
    const operation = normalizeSpan(
      span('GET', SpanKind.SERVER, { 'http.request.method': 'get', 'url.path': '/users/42/orders/7' }),
    );
    expect(operation).toMatchObject({ type: 'http_server', method: 'GET', route: '/users/{id}/orders/{id}' });
  });

  it('reads the old conventions: http.method, http.target with its query string, http.status_code', () => {
    const operation = normalizeSpan(
      span('HTTP GET', SpanKind.SERVER, {
        'http.method': 'POST',
        'http.target': '/carts/7f3c9a0e-1b2d-4c5e-8f90-a1b2c3d4e5f6/items?coupon=SECRET10',
        'http.status_code': '503',
      }),
    );
    expect(operation).toMatchObject({
      type: 'http_server',
      method: 'POST',
      route: '/carts/{uuid}/items',
      statusCode: 503,
      error: true,
    });
  });

  it('counts 5xx as errors, 4xx not', () => {
    const status = (code: number) =>
      normalizeSpan(
        span('GET', SpanKind.SERVER, { 'http.request.method': 'GET', 'http.response.status_code': code }),
      );
    expect(status(500).error).toBe(true);
    expect(status(404).error).toBe(false);
  });

  it('takes a non-SERVER span with a method and a path as a request, but not a framework span with a route only', () => {
    const localRoot = normalizeSpan(
      span(
        'handle',
        SpanKind.INTERNAL,
        { 'http.request.method': 'GET', 'url.path': '/health' },
        { parentSpanId: '' },
      ),
    );
    expect(localRoot).toMatchObject({ type: 'http_server', route: '/health' });
    const expressHandler = normalizeSpan(
      span('request handler - /users/:id', SpanKind.INTERNAL, {
        'http.route': '/users/:id',
        'express.type': 'request_handler',
      }),
    );
    expect(expressHandler).toMatchObject({ type: 'internal', name: 'request handler - /users/:id' });
  });

  it('names a SERVER span without HTTP attributes (gRPC) after its scrubbed span name', () => {
    const operation = normalizeSpan(span('shop.Orders/Get', SpanKind.SERVER, { 'rpc.system': 'grpc' }));
    expect(operation).toMatchObject({ type: 'http_server', method: '_OTHER', route: 'shop.Orders/Get' });
  });
});

describe('normalizeSpan: http_client', () => {
  it('reads url.full, server.address and server.port (current conventions)', () => {
    const operation = normalizeSpan(
      span('GET', SpanKind.CLIENT, {
        'http.request.method': 'GET',
        'url.full': 'https://api.example.com/users/42?token=abc',
        'server.address': 'api.example.com',
        'server.port': 443,
        'http.response.status_code': 200,
      }),
    );
    expect(operation).toMatchObject({
      type: 'http_client',
      method: 'GET',
      host: 'api.example.com',
      urlTemplate: '/users/{id}',
      statusCode: 200,
    });
  });

  it('reads http.url, net.peer.name and net.peer.port (old conventions)', () => {
    const operation = normalizeSpan(
      span('HTTP POST', SpanKind.CLIENT, {
        'http.method': 'POST',
        'http.url': 'http://payments.internal:8080/charges/ch_3MtwBwLkdIwHu7ix28a3tqPa?expand=customer',
        'net.peer.name': 'payments.internal',
        'net.peer.port': 8080,
        'http.status_code': 502,
      }),
    );
    expect(operation).toMatchObject({
      type: 'http_client',
      method: 'POST',
      host: 'payments.internal:8080',
      urlTemplate: '/charges/{hash}',
      statusCode: 502,
      // A failed call is the caller's error only when its instrumentation says so.
      error: false,
    });
  });

  it('falls back to http.host, then to the URL, for the host; to url.path for the template', () => {
    const fromHostHeader = normalizeSpan(
      span('GET', SpanKind.CLIENT, {
        'http.method': 'GET',
        'http.host': 'Search.Internal:9200',
        'http.target': '/idx/_doc/9',
      }),
    );
    expect(fromHostHeader).toMatchObject({ host: 'search.internal:9200', urlTemplate: '/idx/_doc/{id}' });
    const fromUrl = normalizeSpan(
      span('GET', SpanKind.CLIENT, {
        'http.request.method': 'GET',
        'url.full': 'https://user:pw@cdn.example.com/a/1',
      }),
    );
    expect(fromUrl).toMatchObject({ host: 'cdn.example.com', urlTemplate: '/a/{id}' });
  });
});

describe('normalizeSpan: db_query', () => {
  it('fingerprints db.query.text with the dialect of db.system.name (current conventions)', () => {
    const operation = normalizeSpan(
      span('pg.query:SELECT shop', SpanKind.CLIENT, {
        'db.system.name': 'postgresql',
        'db.namespace': 'shop',
        'db.query.text': 'SELECT id, email FROM users WHERE id = $1 AND status IN ($2, $3)',
        'db.response.returned_rows': 1,
      }),
    );
    const fingerprint = 'select id, email from users where id = ? and status in (...)';
    expect(operation).toEqual(
      expect.objectContaining({
        type: 'db_query',
        system: 'postgresql',
        namespace: 'shop',
        fingerprint,
        fingerprintId: fingerprintId('postgresql', fingerprint),
        statementType: 'select',
        tables: ['users'],
        rows: 1,
      }),
    );
  });

  it('reads db.system, db.statement and db.name (old conventions), MySQL dialect included', () => {
    const operation = normalizeSpan(
      span('SELECT', SpanKind.CLIENT, {
        'db.system': 'mysql',
        'db.name': 'shop',
        'db.statement': 'SELECT * FROM orders WHERE note = "call ann@example.com" AND total > 99.5',
      }),
    );
    expect(operation).toMatchObject({
      type: 'db_query',
      system: 'mysql',
      namespace: 'shop',
      fingerprint: 'select * from orders where note = ? and total > ?',
      statementType: 'select',
      tables: ['orders'],
    });
  });

  it('gives the same fingerprint id to the same statement shape, a different one across systems', () => {
    const idOf = (system: string, text: string): string => {
      const operation = normalizeSpan(
        span('q', SpanKind.CLIENT, { 'db.system.name': system, 'db.query.text': text }),
      );
      if (operation.type !== 'db_query') throw new Error(`expected db_query, got ${operation.type}`);
      return operation.fingerprintId;
    };
    expect(idOf('mariadb', 'SELECT * FROM t WHERE id = 1')).toBe(
      idOf('mariadb', 'select * from t where id = 2'),
    );
    expect(idOf('sqlite', 'SELECT * FROM t WHERE id = 1')).not.toBe(
      idOf('mariadb', 'SELECT * FROM t WHERE id = 1'),
    );
  });

  it('keeps a statement without a system, as system unknown', () => {
    expect(
      normalizeSpan(span('q', SpanKind.CLIENT, { 'db.query.text': 'DELETE FROM jobs WHERE id = 3' })),
    ).toMatchObject({
      type: 'db_query',
      system: 'unknown',
      fingerprint: 'delete from jobs where id = ?',
      statementType: 'delete',
    });
  });

  it('scrubs document-store statements and takes the collection as the table', () => {
    const operation = normalizeSpan(
      span('mongodb.find', SpanKind.CLIENT, {
        'db.system.name': 'mongodb',
        'db.collection.name': 'users',
        'db.operation.name': 'find',
        'db.query.text': '{"find":"users","filter":{"email":"ann@example.com"}}',
      }),
    );
    expect(operation).toMatchObject({ type: 'db_query', system: 'mongodb', tables: ['users'] });
    expect(JSON.stringify(operation)).not.toContain('ann@example.com');
  });

  it('keeps only the summary of a captured plan: names, never the literals it prints', () => {
    const plan = [
      {
        Plan: {
          'Node Type': 'Seq Scan',
          'Relation Name': 'orders',
          Alias: 'orders',
          Filter: "(customer_email = 'ann@example.com'::text)",
        },
      },
    ];
    const operation = normalizeSpan(
      span('SELECT', SpanKind.CLIENT, {
        'db.system.name': 'postgresql',
        'db.query.text': "SELECT * FROM orders WHERE customer_email = 'ann@example.com'",
        [ChokepointAttributes.DB_PLAN]: JSON.stringify(plan),
      }),
    );
    expect(operation).toMatchObject({
      type: 'db_query',
      plan: {
        system: 'postgresql',
        fullScanTables: ['orders'],
        filterColumns: [{ table: 'orders', column: 'customer_email', comparison: 'equality' }],
      },
    });
    expect(JSON.stringify(operation)).not.toContain('ann@example.com');
  });

  it('reads the plan with the planner chokepoint.db.plan_system names, and ignores one it cannot read', () => {
    const withPlan = (plan: string, planSystem?: string) =>
      normalizeSpan(
        span('SELECT', SpanKind.CLIENT, {
          'db.system.name': 'mysql',
          'db.query.text': 'SELECT * FROM t',
          [ChokepointAttributes.DB_PLAN]: plan,
          ...(planSystem ? { [ChokepointAttributes.DB_PLAN_SYSTEM]: planSystem } : {}),
        }),
      );
    const sqliteRows = JSON.stringify([{ id: 2, parent: 0, notused: 0, detail: 'SCAN t' }]);
    expect(withPlan(sqliteRows, 'sqlite')).toMatchObject({
      plan: { system: 'sqlite', fullScanTables: ['t'] },
    });
    expect(withPlan(sqliteRows)).not.toHaveProperty('plan');
    expect(withPlan('{not json', 'sqlite')).toMatchObject({
      type: 'db_query',
      fingerprint: 'select * from t',
    });
    expect(withPlan('{not json', 'sqlite')).not.toHaveProperty('plan');
  });

  it('does not count statement preparation as a query', () => {
    const operation = normalizeSpan(
      span('prepare', SpanKind.INTERNAL, {
        'db.system.name': 'sqlite',
        'db.query.text': 'SELECT * FROM t WHERE id = ?',
        [ChokepointAttributes.DB_PREPARE]: true,
      }),
    );
    expect(operation).toMatchObject({ type: 'internal', name: 'prepare' });
  });
});

describe('normalizeSpan: db_connect', () => {
  it.each([
    ['pg.connect', { 'db.system.name': 'postgresql' }, 'postgresql'],
    ['pg-pool.connect', { 'db.system.name': 'postgresql', 'db.namespace': 'shop' }, 'postgresql'],
    ['pg-pool.connect', {}, 'postgresql'],
    ['redis-connect', { 'db.system.name': 'redis' }, 'redis'],
    ['connect', { 'db.system.name': 'redis', 'db.query.text': 'connect' }, 'redis'],
    ['mysql2 acquire', { 'db.system.name': 'mysql', [ChokepointAttributes.DB_CONNECT]: true }, 'mysql'],
    ['acquire', { [ChokepointAttributes.DB_CONNECT]: true }, 'unknown'],
  ])('%s %j → db_connect on %s', (name, attributes, system) => {
    expect(normalizeSpan(span(name, SpanKind.CLIENT, attributes))).toMatchObject({
      type: 'db_connect',
      system,
    });
  });

  it.each([
    ['pg.connect', { 'db.system.name': 'postgresql' }, true],
    ['pg-pool.connect', { 'db.system.name': 'postgresql' }, false],
    ['redis-connect', { 'db.system.name': 'redis' }, true],
    ['connect', { 'db.system.name': 'redis' }, true],
    ['acquire', { [ChokepointAttributes.DB_CONNECT]: true }, undefined],
  ])(
    '%s: opensConnection is %s (a new connection, a pool checkout, or unknown)',
    (name, attributes, opens) => {
      const operation = normalizeSpan(span(name, SpanKind.CLIENT, attributes)) as DbConnectOperation;
      expect(operation.type).toBe('db_connect');
      expect(operation.opensConnection).toBe(opens);
    },
  );

  it('names the server with its port, whatever the port', () => {
    const attributes = {
      'db.system.name': 'postgresql',
      'server.address': 'DB.internal',
      'server.port': 5432,
    };
    expect(normalizeSpan(span('pg.connect', SpanKind.CLIENT, attributes))).toMatchObject({
      host: 'db.internal:5432',
    });
  });

  it('names each server of one address by its own port, however many ports and however often', () => {
    const hostOf = (port: number | undefined) =>
      (
        normalizeSpan(
          span('pg.connect', SpanKind.CLIENT, {
            'db.system.name': 'postgresql',
            'server.address': 'Pool.internal',
            ...(port === undefined ? {} : { 'server.port': port }),
          }),
        ) as DbConnectOperation
      ).host;
    const ports = [undefined, ...Array.from({ length: 40 }, (_, i) => 6000 + i)];
    for (let round = 0; round < 3; round++) {
      for (const port of ports) {
        expect(hostOf(port)).toBe(port === undefined ? 'pool.internal' : `pool.internal:${port}`);
      }
    }
  });
});

describe('normalizeSpan: servers and failures of outbound calls', () => {
  it('gives statements, cache commands and publishes their server', () => {
    const server = { 'server.address': '127.0.0.1', 'server.port': 6379 };
    const query = span('SELECT', SpanKind.CLIENT, {
      'db.system.name': 'mysql',
      'db.query.text': 'select 1',
      'server.address': '127.0.0.1',
      'server.port': 3306,
    });
    const get = span('get', SpanKind.CLIENT, {
      'db.system.name': 'redis',
      'db.query.text': 'get a',
      ...server,
    });
    const publish = span('publish orders', SpanKind.PRODUCER, {
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': 'orders',
      'server.address': 'mq.internal',
      'server.port': 5672,
    });
    expect(normalizeSpan(query)).toMatchObject({ type: 'db_query', host: '127.0.0.1:3306' });
    expect(normalizeSpan(get)).toMatchObject({ type: 'cache_command', host: '127.0.0.1:6379' });
    expect(normalizeSpan(publish)).toMatchObject({ type: 'queue_message', host: 'mq.internal:5672' });
  });

  it('classifies a failed call without keeping the error text', () => {
    const failed = (message: string) =>
      normalizeSpan(
        span(
          'pg.query:INSERT shop',
          SpanKind.CLIENT,
          { 'db.system.name': 'postgresql', 'db.query.text': 'insert into users (email) values ($1)' },
          { statusCode: StatusCode.ERROR, statusMessage: message },
        ),
      );
    const duplicate = failed('duplicate key value violates unique constraint "users_email_key"');
    expect(duplicate).toMatchObject({ error: true, errorKind: 'rejected' });
    expect(JSON.stringify(duplicate)).not.toContain('users_email_key');
    expect(failed('canceling statement due to statement timeout').errorKind).toBe('timeout');
    expect(failed('connect ECONNREFUSED 127.0.0.1:5999').errorKind).toBe('connection');
  });

  it('leaves successful calls and failed requests unclassified', () => {
    const ok = span('get', SpanKind.CLIENT, { 'db.system.name': 'redis', 'db.query.text': 'get a' });
    const failedRequest = span(
      'GET /orders',
      SpanKind.SERVER,
      { 'http.request.method': 'GET', 'http.route': '/orders', 'http.response.status_code': 500 },
      { statusCode: StatusCode.ERROR, statusMessage: 'connect ECONNREFUSED' },
    );
    expect(normalizeSpan(ok)).not.toHaveProperty('errorKind');
    expect(normalizeSpan(failedRequest)).not.toHaveProperty('errorKind');
  });
});

describe('normalizeSpan: cache_command', () => {
  it('parses an ioredis statement, folds the key and reads the agent hit flag', () => {
    const operation = normalizeSpan(
      span('get', SpanKind.CLIENT, {
        'db.system.name': 'redis',
        'db.operation.name': 'get',
        'db.query.text': 'get user:42:profile',
        'server.address': 'localhost',
        [ChokepointAttributes.CACHE_HIT]: false,
      }),
    );
    expect(operation).toMatchObject({
      type: 'cache_command',
      system: 'redis',
      command: 'GET',
      keyPattern: 'user:{id}:profile',
      hit: false,
    });
  });

  it('reads a node-redis SET with its TTL, old conventions (db.system, db.statement)', () => {
    const operation = normalizeSpan(
      span('redis-SET', SpanKind.CLIENT, {
        'db.system': 'redis',
        'db.statement': 'SET session:AbC123xYz789QwE456rTy0 [3 other arguments]',
        [ChokepointAttributes.CACHE_TTL_SECONDS]: 3600,
      }),
    );
    expect(operation).toMatchObject({ command: 'SET', keyPattern: 'session:{hash}', ttlSeconds: 3600 });
    expect(JSON.stringify(operation)).not.toContain('AbC123xYz789QwE456rTy0');
  });

  it('reads multi-key hit counts, and prefers the agent key pattern', () => {
    const operation = normalizeSpan(
      span('mget', SpanKind.CLIENT, {
        'db.system.name': 'redis',
        'db.query.text': 'mget [3 other arguments]',
        [ChokepointAttributes.CACHE_KEY_PATTERN]: 'product:{id}',
        [ChokepointAttributes.CACHE_HITS]: 2,
        [ChokepointAttributes.CACHE_MISSES]: 1,
      }),
    );
    expect(operation).toMatchObject({ command: 'MGET', keyPattern: 'product:{id}', hits: 2, misses: 1 });
  });

  it('folds the raw key of the statement rather than the pattern an agent folded less', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
    const operation = normalizeSpan(
      span('get', SpanKind.CLIENT, {
        'db.system.name': 'redis',
        'db.query.text': `get session:${jwt}`,
        [ChokepointAttributes.CACHE_KEY_PATTERN]: 'session:{hash}.{hash}.{hash}_adQssw5c',
      }),
    );
    expect(operation).toMatchObject({ command: 'GET', keyPattern: 'session:{hash}' });
    expect(JSON.stringify(operation)).not.toContain('adQssw5c');
  });

  it('names the command from the operation name, then from the span name, when there is no statement', () => {
    const fromOperation = normalizeSpan(
      span('x', SpanKind.CLIENT, { 'db.system.name': 'redis', 'db.operation.name': 'hgetall' }),
    );
    expect(fromOperation).toMatchObject({ command: 'HGETALL' });
    const fromName = normalizeSpan(span('redis-INCR', SpanKind.CLIENT, { 'db.system.name': 'redis' }));
    expect(fromName).toMatchObject({ command: 'INCR' });
    expect(fromName.type === 'cache_command' && fromName.keyPattern).toBe(undefined);
  });

  it('handles memcached commands, whose statement carries the value too', () => {
    const operation = normalizeSpan(
      span('memcached set', SpanKind.CLIENT, {
        'db.system.name': 'memcached',
        'db.operation.name': 'set',
        'db.query.text': 'set user:42 0 60 6\r\nsecret',
      }),
    );
    expect(operation).toMatchObject({
      type: 'cache_command',
      system: 'memcached',
      command: 'SET',
      keyPattern: 'user:{id}',
    });
    expect(JSON.stringify(operation)).not.toContain('secret');
  });

  it('gives each key its own pattern, however many patterns were seen before', () => {
    // Patterns are kept as one shared string each, past the 10,000 kept.
    const patternOf = (statement: string) => {
      const operation = normalizeSpan(
        span('get', SpanKind.CLIENT, { 'db.system.name': 'redis', 'db.query.text': statement }),
      );
      return operation.type === 'cache_command' ? operation.keyPattern : undefined;
    };
    /** A name per number, in letters (digits would fold). */
    const tenant = (i: number) => String(i).replace(/\d/g, (digit) => 'abcdefghij'.charAt(Number(digit)));
    const wrong: string[] = [];
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 12_000; i++) {
        const pattern = patternOf(`get ${tenant(i)}:user:${round * 7 + i}`);
        if (pattern !== `${tenant(i)}:user:{id}`) wrong.push(`${pattern}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('normalizeSpan: queue_message', () => {
  it('reads an amqplib publish to the default exchange: the routing key is the queue', () => {
    const operation = normalizeSpan(
      span('publish <default>', SpanKind.PRODUCER, {
        'messaging.system': 'rabbitmq',
        'messaging.destination': '',
        'messaging.rabbitmq.routing_key': 'emails',
      }),
    );
    expect(operation).toMatchObject({
      type: 'queue_message',
      system: 'rabbitmq',
      destination: 'emails',
      role: 'publish',
    });
  });

  it('reads a consumer with the agent publish time', () => {
    const operation = normalizeSpan(
      span('emails process', SpanKind.CONSUMER, {
        'messaging.system': 'rabbitmq',
        'messaging.destination': 'notifications',
        'messaging.operation': 'process',
        [ChokepointAttributes.MESSAGE_PUBLISH_TIME_MS]: 1_699_999_999_000,
      }),
    );
    expect(operation).toMatchObject({
      role: 'consume',
      destination: 'notifications',
      publishTimeMs: 1_699_999_999_000,
    });
  });

  it('reads the current conventions (kafkajs): messaging.destination.name and messaging.operation.type', () => {
    const send = normalizeSpan(
      span('send orders', SpanKind.PRODUCER, {
        'messaging.system': 'kafka',
        'messaging.destination.name': 'orders',
        'messaging.operation.type': 'send',
      }),
    );
    expect(send).toMatchObject({ system: 'kafka', destination: 'orders', role: 'publish' });
    expect(send.type === 'queue_message' && send.publishTimeMs).toBe(undefined);
    const receive = normalizeSpan(
      span('poll orders', SpanKind.CLIENT, {
        'messaging.system': 'kafka',
        'messaging.destination.name': 'orders',
        'messaging.operation.type': 'receive',
      }),
    );
    expect(receive).toMatchObject({ type: 'queue_message', role: 'consume' });
  });

  it('folds ids in destinations and server-named reply queues', () => {
    const destination = (name: string) =>
      normalizeSpan(
        span('p', SpanKind.PRODUCER, { 'messaging.system': 'rabbitmq', 'messaging.destination.name': name }),
      );
    expect(destination('user.42.events')).toMatchObject({ destination: 'user.{id}.events' });
    expect(destination('amq.gen-JzTY20BRgKO-HjmUJj0wLg')).toMatchObject({ destination: 'amq.gen-{hash}' });
  });

  it('falls back to the scrubbed span name without a destination attribute', () => {
    expect(normalizeSpan(span('publish job 991', SpanKind.PRODUCER, {}))).toMatchObject({
      type: 'queue_message',
      system: 'unknown',
      destination: 'publish job {id}',
    });
  });
});

describe('normalizeSpan: internal', () => {
  it('keeps a static name and scrubs one that carries values', () => {
    expect(normalizeSpan(span('middleware - query', SpanKind.INTERNAL, {}))).toMatchObject({
      type: 'internal',
      name: 'middleware - query',
    });
    expect(
      normalizeSpan(span("SELECT * FROM t WHERE a = 'ann@example.com'", SpanKind.INTERNAL, {})),
    ).toMatchObject({
      type: 'internal',
      name: 'select * from t where a = ?',
    });
  });

  it('takes a CLIENT span without HTTP, database or messaging attributes as internal', () => {
    expect(
      normalizeSpan(span('grpc.shop.Orders/Get', SpanKind.CLIENT, { 'rpc.system': 'grpc' })),
    ).toMatchObject({
      type: 'internal',
    });
  });
});

describe('normalizeSpan: privacy', () => {
  const email = 'ann.smith@example.com';
  const card = '4111111111111111';
  const token = 'tok_9f8e7d6c5b4a39281706';
  const spans: Array<[string, SpanRecord]> = [
    [
      'server',
      span(`GET /u/${email}`, SpanKind.SERVER, {
        'http.method': 'GET',
        'http.target': `/u/${email}/cards/${card}?t=${token}`,
      }),
    ],
    [
      'client',
      span('GET', SpanKind.CLIENT, {
        'http.request.method': 'GET',
        'url.full': `https://user:${token}@api.example.com/cards/${card}?email=${email}`,
      }),
    ],
    [
      'sql',
      span(`SELECT '${email}'`, SpanKind.CLIENT, {
        'db.system.name': 'postgresql',
        'db.query.text': `UPDATE cards SET pan = '${card}', token = $$${token}$$ WHERE email = E'${email}'`,
      }),
    ],
    [
      'redis',
      span('set', SpanKind.CLIENT, {
        'db.system.name': 'redis',
        'db.query.text': `set card:${card} ${token}`,
      }),
    ],
    [
      'queue',
      span('publish', SpanKind.PRODUCER, {
        'messaging.system': 'rabbitmq',
        'messaging.destination.name': `inbox.${card}`,
      }),
    ],
    ['internal', span(`charge ${card} for ${email} with key=${token}`, SpanKind.INTERNAL, {})],
  ];

  it.each(spans)('%s: no planted email, card number or token reaches the operation', (_label, record) => {
    const text = JSON.stringify(normalizeSpan(record));
    for (const fragment of [email, 'ann.smith', card, '4111', token]) expect(text).not.toContain(fragment);
  });
});
