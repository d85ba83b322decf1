/**
 * The driver wrappers that let a slow statement be planned later on the same pool or
 * connection settings: upstream's pg and mysql2 instrumentations give their hooks neither
 * the client nor the connection, so the agent wraps the same methods from outside theirs
 * and announces each call (calls.ts) to the span upstream starts inside it.
 *
 * - pg: `Client.prototype.query`, patched when `pg` itself has loaded — after upstream
 *   patched the prototype from both `pg/lib/client.js` and `pg` (upstream re-wraps on the
 *   second: patched earlier, this wrapper would be dropped). pg-pool's `_acquireClient`
 *   tells which pool a checked-out client belongs to.
 * - mysql2: `query` and `execute` on the connection prototype upstream patches (the shared
 *   base class since mysql2 3.11.5), from the same file, after upstream.
 *
 * Registered after the upstream instrumentations, so that its hooks run after theirs. The
 * layer is laid by hand: `InstrumentationBase._wrap` unwraps whatever wraps a method
 * before wrapping it, which would remove upstream's span. Should upstream re-patch after
 * it all the same, unwrapping this layer hands it the driver's own method (one span per
 * call, no plans) rather than its own wrapper to wrap twice.
 */
import {
  InstrumentationBase,
  type InstrumentationConfig,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  isWrapped,
} from '@opentelemetry/instrumentation';
import { AGENT_NAME, AGENT_VERSION } from '../version.js';
import { announceCall, withdrawCall } from './calls.js';
import { type MysqlConnection, mysql2Driver } from './mysql2.js';
import { type PgClient, type PgPool, pgDriver, poolOfClient } from './pg.js';
import type { ExplainDriver } from './types.js';

export interface ExplainInstrumentationConfig extends InstrumentationConfig {
  /** Which drivers to wrap: those whose spans the agent records. Default both. */
  drivers?: { pg?: boolean; mysql2?: boolean };
}

type Method = (this: unknown, ...args: unknown[]) => unknown;
type Prototype = Record<string, Method>;

interface ModuleWithClass {
  prototype: Prototype;
}

/** What `import pg from 'pg'` hands over under the ESM hook: the CJS exports as `default`. */
function exportsOf<T>(moduleExports: T | { [Symbol.toStringTag]: 'Module'; default: T }): T {
  return (moduleExports as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'Module'
    ? (moduleExports as { default: T }).default
    : (moduleExports as T);
}

/** mysql2 ≥ 3.11.5 keeps `query` and `execute` on a base class: where upstream patches them. */
function mysqlConnectionPrototype(Connection: ModuleWithClass): Prototype {
  const base = Object.getPrototypeOf(Connection.prototype) as Partial<Prototype> | null;
  return typeof base?.query === 'function' && typeof base.execute === 'function'
    ? (base as Prototype)
    : Connection.prototype;
}

/** The wrappers this module made: a module hooked twice (require, then import) is wrapped once. */
const wrappers = new WeakSet<Method>();

type Wrapped = Method & { __original?: Method };

function innermost(method: Wrapped): Method {
  let original = method;
  while (typeof original.__original === 'function') original = original.__original;
  return original;
}

/** Puts `wrapper` around `prototype[method]`, marked as shimmer marks its wrappers. */
function layer(prototype: Prototype, method: string, wrapper: Method): void {
  const original = prototype[method] as Wrapped;
  Object.defineProperties(wrapper, {
    __original: { value: original },
    __wrapped: { value: true },
    __unwrap: {
      value: () => {
        if (prototype[method] === wrapper) prototype[method] = innermost(original);
      },
    },
  });
  wrappers.add(wrapper);
  prototype[method] = wrapper;
}

function unlayer(prototype: Prototype, method: string): void {
  const current = prototype[method] as Wrapped | undefined;
  if (current !== undefined && wrappers.has(current) && current.__original) {
    prototype[method] = current.__original;
  }
}

/**
 * @example
 * registerInstrumentations({ instrumentations: [...upstream, new ExplainInstrumentation()] });
 */
export class ExplainInstrumentation extends InstrumentationBase<ExplainInstrumentationConfig> {
  constructor(config: ExplainInstrumentationConfig = {}) {
    super(`${AGENT_NAME}/explain`, AGENT_VERSION, config);
  }

  protected override init(): InstrumentationNodeModuleDefinition[] {
    const drivers = this.getConfig().drivers ?? {};
    const definitions: InstrumentationNodeModuleDefinition[] = [];
    if (drivers.pg !== false) {
      definitions.push(
        new InstrumentationNodeModuleDefinition(
          'pg',
          ['>=8.0.3 <9'],
          (moduleExports: { Client: ModuleWithClass }) => {
            this._patch(exportsOf(moduleExports).Client.prototype, ['query'], pgDriver);
            return moduleExports;
          },
          (moduleExports: { Client: ModuleWithClass }) => {
            unlayer(exportsOf(moduleExports).Client.prototype, 'query');
          },
        ),
        new InstrumentationNodeModuleDefinition(
          'pg-pool',
          ['>=2 <4'],
          (moduleExports: ModuleWithClass) => {
            this._patchPool(exportsOf(moduleExports).prototype);
            return moduleExports;
          },
          (moduleExports: ModuleWithClass) => {
            const { prototype } = exportsOf(moduleExports);
            if (isWrapped(prototype._acquireClient)) this._unwrap(prototype, '_acquireClient');
          },
        ),
      );
    }
    if (drivers.mysql2 !== false) {
      definitions.push(
        new InstrumentationNodeModuleDefinition('mysql2', ['>=1.4.2 <4'], undefined, undefined, [
          new InstrumentationNodeModuleFile(
            'mysql2/lib/connection.js',
            ['>=1.4.2 <4'],
            (moduleExports: ModuleWithClass) => {
              this._patch(mysqlConnectionPrototype(moduleExports), ['query', 'execute'], mysql2Driver);
              return moduleExports;
            },
            (moduleExports?: ModuleWithClass) => {
              if (!moduleExports) return;
              const prototype = mysqlConnectionPrototype(moduleExports);
              unlayer(prototype, 'query');
              unlayer(prototype, 'execute');
            },
          ),
        ]),
      );
    }
    return definitions;
  }

  private _patch(
    prototype: Prototype,
    methods: string[],
    driver: ExplainDriver<PgClient> | ExplainDriver<MysqlConnection>,
  ): void {
    for (const method of methods) {
      const original = prototype[method];
      if (typeof original !== 'function' || wrappers.has(original)) continue;
      layer(prototype, method, function announced(this: unknown, ...args: unknown[]): unknown {
        announceCall(driver as ExplainDriver, this, args);
        try {
          return original.apply(this, args);
        } finally {
          withdrawCall();
        }
      });
    }
  }

  private _patchPool(prototype: Prototype): void {
    if (typeof prototype._acquireClient !== 'function') return;
    this._wrap(
      prototype,
      '_acquireClient',
      (original: Method) =>
        function acquireClient(this: unknown, client: unknown, ...rest: unknown[]): unknown {
          if (typeof client === 'object' && client !== null) poolOfClient.set(client, this as PgPool);
          return original.call(this, client, ...rest);
        },
    );
  }
}
