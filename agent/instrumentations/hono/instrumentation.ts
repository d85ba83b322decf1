/**
 * OpenTelemetry instrumentation for Hono (no upstream one exists): names the route of
 * requests served through `@hono/node-server`, so the http SERVER span carries
 * `http.route` (`/users/:id`) instead of a raw path.
 *
 * Hono keeps its handlers in a router instance it builds itself, and its dispatch is a
 * private method, so the patch goes one level down: every router class's `add` receives
 * Hono's `[handler, route]` entries and stores a handler that names the route before it
 * runs. The route is the one of the last handler entered: the matched route when
 * middleware calls `next()`, the middleware's own pattern when it answers by itself —
 * what Hono's `routePath(c)` reports after the chain. Routers are patched in both the
 * CommonJS and the ESM build; `SmartRouter` hands its entries to the router it picks, which
 * leaves already-wrapped handlers alone.
 */
import {
  InstrumentationBase,
  type InstrumentationConfig,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  isWrapped,
} from '@opentelemetry/instrumentation';
import { AGENT_NAME, AGENT_VERSION } from '../../version.js';
import { setHttpRoute } from '../http-route.js';
import type { HonoHandler, RouteEntry, RouterPrototype } from './types.js';

const MODULE_NAME = 'hono';
const SUPPORTED_VERSIONS = ['>=4.0.0 <5'];

/** Router folder → exported class, in hono/dist/router (ESM) and hono/dist/cjs/router (CommonJS). */
const ROUTERS: Readonly<Record<string, string>> = {
  'reg-exp-router': 'RegExpRouter',
  'trie-router': 'TrieRouter',
  'pattern-router': 'PatternRouter',
  'linear-router': 'LinearRouter',
  'smart-router': 'SmartRouter',
};

const ROUTE_NAMING = Symbol('chokepoint.hono.routeNaming');
type RouteNamingHandler = HonoHandler & { [ROUTE_NAMING]?: true };

type RouterModule = Record<string, { prototype: RouterPrototype } | undefined>;

function isRouteEntry(handler: unknown): handler is RouteEntry {
  if (!Array.isArray(handler) || typeof handler[0] !== 'function') return false;
  const route: unknown = handler[1];
  return (
    typeof route === 'object' && route !== null && typeof (route as { path?: unknown }).path === 'string'
  );
}

/**
 * Names the route of the requests a Hono app serves.
 *
 * @example
 * new NodeSDK({ instrumentations: [new HonoInstrumentation()] });
 */
export class HonoInstrumentation extends InstrumentationBase {
  constructor(config: InstrumentationConfig = {}) {
    super(`${AGENT_NAME}/instrumentation-${MODULE_NAME}`, AGENT_VERSION, config);
  }

  protected override init(): InstrumentationNodeModuleDefinition {
    const files = Object.entries(ROUTERS).flatMap(([folder, className]) =>
      ['dist/cjs/router', 'dist/router'].map(
        (base) =>
          new InstrumentationNodeModuleFile(
            `${MODULE_NAME}/${base}/${folder}/router.js`,
            SUPPORTED_VERSIONS,
            (moduleExports: RouterModule) => {
              const prototype = moduleExports[className]?.prototype;
              if (prototype) {
                if (isWrapped(prototype.add)) this._unwrap(prototype, 'add');
                this._wrap(prototype, 'add', this._patchAdd());
              }
              return moduleExports;
            },
            (moduleExports: RouterModule) => {
              const prototype = moduleExports[className]?.prototype;
              if (prototype) this._unwrap(prototype, 'add');
            },
          ),
      ),
    );
    return new InstrumentationNodeModuleDefinition(
      MODULE_NAME,
      SUPPORTED_VERSIONS,
      undefined,
      undefined,
      files,
    );
  }

  private _patchAdd() {
    const instrumentation = this;
    return (original: RouterPrototype['add']) =>
      function add(this: RouterPrototype, method: string, path: string, handler: unknown): void {
        if (!isRouteEntry(handler) || (handler[0] as RouteNamingHandler)[ROUTE_NAMING]) {
          original.call(this, method, path, handler);
          return;
        }
        const [run, route] = handler;
        const named: RouteNamingHandler = function (this: unknown, ...args: unknown[]) {
          if (instrumentation.isEnabled()) setHttpRoute(route.path);
          return run.apply(this, args);
        };
        named[ROUTE_NAMING] = true;
        original.call(this, method, path, [named, route]);
      };
  }
}
