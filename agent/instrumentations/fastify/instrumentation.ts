/**
 * Route names for Fastify 5, whose upstream instrumentation (`@fastify/otel`) is not part
 * of auto-instrumentations-node: an `onRequest` hook puts the matched route's pattern
 * (`request.routeOptions.url`, `/users/:id`) on the http SERVER span as `http.route`.
 *
 * Nothing of Fastify is patched: every instance announces itself on the
 * `fastify.initialization` diagnostics channel before any route or plugin is registered,
 * and the hook is added there, so it runs for every route of every encapsulated plugin.
 * The channel is subscribed to while Fastify is loaded and the instrumentation enabled.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  InstrumentationBase,
  type InstrumentationConfig,
  InstrumentationNodeModuleDefinition,
} from '@opentelemetry/instrumentation';
import { AGENT_NAME, AGENT_VERSION } from '../../version.js';
import { setHttpRoute } from '../http-route.js';
import type { FastifyInitialization, OnRequestHook } from './types.js';

const MODULE_NAME = 'fastify';
const SUPPORTED_VERSIONS = ['>=5.0.0 <6'];
const INITIALIZATION_CHANNEL = 'fastify.initialization';

const nameRoute: OnRequestHook = (request, _reply, done) => {
  const route = request.routeOptions?.url;
  if (route !== undefined) setHttpRoute(route);
  done();
};

function onInitialization(message: unknown): void {
  (message as FastifyInitialization).fastify.addHook('onRequest', nameRoute);
}

/**
 * Names the route of the requests a Fastify app serves.
 *
 * @example
 * new NodeSDK({ instrumentations: [new FastifyInstrumentation()] });
 */
export class FastifyInstrumentation extends InstrumentationBase {
  private _subscribed = false;

  constructor(config: InstrumentationConfig = {}) {
    super(`${AGENT_NAME}/instrumentation-${MODULE_NAME}`, AGENT_VERSION, config);
  }

  protected override init(): InstrumentationNodeModuleDefinition {
    return new InstrumentationNodeModuleDefinition(
      MODULE_NAME,
      SUPPORTED_VERSIONS,
      (moduleExports: unknown) => {
        // Once, however many copies of Fastify load: a second subscription would add a second hook.
        if (!this._subscribed) subscribe(INITIALIZATION_CHANNEL, onInitialization);
        this._subscribed = true;
        return moduleExports;
      },
      () => {
        if (this._subscribed) unsubscribe(INITIALIZATION_CHANNEL, onInitialization);
        this._subscribed = false;
      },
    );
  }
}
