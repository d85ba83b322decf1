/**
 * mysql2: the configuration of `@opentelemetry/instrumentation-mysql2`, and the connection
 * spans it does not make (`Mysql2ConnectionInstrumentation`).
 *
 * Upstream formats the bound values into `db.query.text` whenever it holds mysql2's
 * `format` when it patches (it depends on module load order): the statement would then
 * carry the very literals the collector fingerprints away, and a different text per call.
 * Its masking hook is the one place to decide the text, so it keeps the statement as
 * written; `CHOKEPOINT_SCRUB` scrubs it further like any SQL. Successful queries also get
 * `db.response.returned_rows`.
 */
import { type Attributes, context, type Span, SpanKind, trace } from '@opentelemetry/api';
import {
  InstrumentationBase,
  type InstrumentationConfig,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  isWrapped,
} from '@opentelemetry/instrumentation';
import { ChokepointAttributes } from '../../../model/attributes.js';
import { AGENT_NAME, AGENT_VERSION } from '../../version.js';
import { endSpanWithError } from '../better-sqlite3/utils.js';
import { ATTR_DB_NAMESPACE, ATTR_DB_RESPONSE_RETURNED_ROWS, ATTR_DB_SYSTEM_NAME } from '../semconv.js';
import type { UpstreamConfig } from './types.js';

/**
 * Rows in a mysql2 result: the rows of a `SELECT`; none for the `ResultSetHeader` a
 * statement without a row set answers with.
 *
 * @example
 * returnedRows([{ id: 1 }, { id: 2 }]); // 2
 * returnedRows({ affectedRows: 3, insertId: 0 }); // 0
 */
export function returnedRows(results: unknown): number | undefined {
  if (Array.isArray(results)) return results.length;
  return typeof results === 'object' && results !== null && 'affectedRows' in results ? 0 : undefined;
}

export const mysql2Config: UpstreamConfig<'mysql2'> = {
  maskStatement: true,
  maskStatementHook: (query) => query,
  responseHook(span: Span, { queryResults }) {
    const rows = returnedRows(queryResults);
    if (rows !== undefined) span.setAttribute(ATTR_DB_RESPONSE_RETURNED_ROWS, rows);
  },
};

/** A new connection's handshake: TCP, TLS when asked, authentication. Read as opening one. */
export const MYSQL2_CONNECT_SPAN = 'mysql2.connect';
/** `pool.getConnection`: a checkout, which nests a connect span only when the pool opens a connection. */
export const MYSQL2_CHECKOUT_SPAN = 'mysql2-pool.getConnection';

type Method = (this: never, ...args: never[]) => unknown;

/** The parts of a mysql2 connection configuration the spans name (a pool's has it as `connectionConfig`). */
interface ConnectionSettings {
  host?: string;
  port?: number | string;
  database?: string;
  isServer?: boolean;
}

interface MysqlConnectionLike {
  config?: ConnectionSettings;
  once(event: 'connect', listener: () => void): unknown;
}

interface MysqlPoolLike {
  config?: { connectionConfig?: ConnectionSettings };
}

type GetConnectionCallback = (error: unknown, connection?: unknown) => void;

/** The prototype that defines `method`: mysql2 ≥ 3.11.5 keeps connection and pool methods on base classes. */
function ownerOf(prototype: object, method: string): Record<string, Method> | undefined {
  for (let owner: object | null = prototype; owner !== null; owner = Object.getPrototypeOf(owner)) {
    if (Object.hasOwn(owner, method)) {
      return typeof (owner as Record<string, unknown>)[method] === 'function'
        ? (owner as Record<string, Method>)
        : undefined;
    }
  }
  return undefined;
}

/**
 * What a connection span says of its server, as upstream's query spans do (`db.system.name`
 * `mysql` for MariaDB too), so that the collector pairs them; marked as connection acquisition.
 *
 * @example
 * connectionAttributes({ host: '127.0.0.1', port: 3306, database: 'shop' });
 * // { 'db.system.name': 'mysql', 'chokepoint.db.connect': true, 'server.address': '127.0.0.1', 'server.port': 3306, 'db.namespace': 'shop' }
 */
export function connectionAttributes(settings: ConnectionSettings | undefined): Attributes {
  const attributes: Attributes = {
    [ATTR_DB_SYSTEM_NAME]: 'mysql',
    [ChokepointAttributes.DB_CONNECT]: true,
  };
  if (typeof settings?.host === 'string') attributes['server.address'] = settings.host;
  const port = Number(settings?.port);
  if (Number.isInteger(port)) attributes['server.port'] = port;
  if (typeof settings?.database === 'string') attributes[ATTR_DB_NAMESPACE] = settings.database;
  return attributes;
}

/**
 * Connection spans for mysql2, which upstream does not trace: `mysql2.connect` for each
 * connection's handshake (`createConnection`, and a pool opening one), and
 * `mysql2-pool.getConnection` for each checkout (`pool.getConnection`, and the one inside
 * `pool.query` and `pool.execute`; the promise API wraps the same pool). The collector's
 * connection_pool rules read them as pg's `pg.connect` and `pg-pool.connect`.
 *
 * The methods are wrapped from outside, as the explain layer does: the handshake is the
 * first command a client connection adds (`addCommand`), and its failure goes through
 * `_notifyError`; upstream wraps neither, nor the pool. No `error` listener is added: an
 * app without one still sees mysql2's error as it would. A checkout's callback runs in its
 * caller's context, so the statements after it are not its children.
 *
 * @example
 * registerInstrumentations({ instrumentations: [new MySQL2Instrumentation(mysql2Config), new Mysql2ConnectionInstrumentation()] });
 */
export class Mysql2ConnectionInstrumentation extends InstrumentationBase {
  /** Handshakes under way, each with its span. */
  private readonly _connecting = new WeakMap<object, Span>();

  constructor(config: InstrumentationConfig = {}) {
    super(`${AGENT_NAME}/instrumentation-mysql2-connections`, AGENT_VERSION, config);
  }

  protected override init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition('mysql2', ['>=1.4.2 <4'], undefined, undefined, [
        new InstrumentationNodeModuleFile(
          'mysql2/lib/connection.js',
          ['>=1.4.2 <4'],
          (Connection: { prototype: object }) => {
            this._patchConnection(Connection.prototype);
            return Connection;
          },
          (Connection?: { prototype: object }) => {
            if (Connection) this._unpatch(Connection.prototype, ['addCommand', '_notifyError']);
          },
        ),
        new InstrumentationNodeModuleFile(
          'mysql2/lib/pool.js',
          ['>=1.4.2 <4'],
          (Pool: { prototype: object }) => {
            this._patchPool(Pool.prototype);
            return Pool;
          },
          (Pool?: { prototype: object }) => {
            if (Pool) this._unpatch(Pool.prototype, ['getConnection']);
          },
        ),
      ]),
    ];
  }

  private _patchConnection(prototype: object): void {
    const connecting = this._connecting;
    const tracer = this.tracer;
    const commands = ownerOf(prototype, 'addCommand');
    if (commands && !isWrapped(commands.addCommand)) {
      this._wrap(
        commands,
        'addCommand',
        (original: Method) =>
          function addCommand(this: MysqlConnectionLike, command: { constructor?: { name?: string } }) {
            if (command?.constructor?.name === 'ClientHandshake' && !this.config?.isServer) {
              const span = tracer.startSpan(MYSQL2_CONNECT_SPAN, {
                kind: SpanKind.CLIENT,
                attributes: connectionAttributes(this.config),
              });
              connecting.set(this, span);
              this.once('connect', () => {
                if (connecting.get(this) !== span) return;
                connecting.delete(this);
                span.end();
              });
            }
            return (original as (this: unknown, command: unknown) => unknown).call(this, command);
          },
      );
    }
    const errors = ownerOf(prototype, '_notifyError');
    if (errors && !isWrapped(errors._notifyError)) {
      this._wrap(
        errors,
        '_notifyError',
        (original: Method) =>
          function notifyError(this: object, error: unknown) {
            const span = connecting.get(this);
            if (span) {
              connecting.delete(this);
              endSpanWithError(span, error);
            }
            return (original as (this: unknown, error: unknown) => unknown).call(this, error);
          },
      );
    }
  }

  private _patchPool(prototype: object): void {
    const tracer = this.tracer;
    const pools = ownerOf(prototype, 'getConnection');
    if (!pools || isWrapped(pools.getConnection)) return;
    this._wrap(
      pools,
      'getConnection',
      (original: Method) =>
        function getConnection(this: MysqlPoolLike, callback: unknown, ...rest: unknown[]) {
          const call = original as (this: unknown, ...args: unknown[]) => unknown;
          if (typeof callback !== 'function') return call.call(this, callback, ...rest);
          const parent = context.active();
          const span = tracer.startSpan(
            MYSQL2_CHECKOUT_SPAN,
            { kind: SpanKind.CLIENT, attributes: connectionAttributes(this.config?.connectionConfig) },
            parent,
          );
          let acquired = false;
          const whenAcquired: GetConnectionCallback = (error, connection) => {
            if (!acquired) {
              acquired = true;
              if (error) endSpanWithError(span, error);
              else span.end();
            }
            return (callback as GetConnectionCallback)(error, connection);
          };
          return context.with(trace.setSpan(parent, span), () =>
            call.call(this, context.bind(parent, whenAcquired), ...rest),
          );
        },
    );
  }

  private _unpatch(prototype: object, methods: string[]): void {
    for (const method of methods) {
      const owner = ownerOf(prototype, method);
      if (owner && isWrapped(owner[method])) this._unwrap(owner, method);
    }
  }
}
