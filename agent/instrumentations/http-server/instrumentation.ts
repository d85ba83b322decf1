/**
 * Inbound HTTP for `http` and `https` servers: one SERVER span per request carrying what
 * the collector reads and nothing more — `http.request.method`, `http.response.status_code`,
 * `http.route` when a framework names it (else `url.path`, without the query string) and
 * an ERROR status for 5xx, thrown handlers and aborted requests. It replaces the incoming
 * side of `@opentelemetry/instrumentation-http`, whose client side the agent keeps.
 *
 * Upstream spends most of a small request's overhead before the app runs: a dozen request
 * attributes (URL parsing, forwarded headers, peer addresses), header-capture closures,
 * duration metrics, and `context.bind` on the request and the response, which replaces
 * six methods on each and wraps every listener added later. Here a request costs one span,
 * one context (request-context.ts), and two shared functions installed as the `emit` of its
 * request and response, so that their listeners (body parsers, `on-finished`) run in the
 * request's context exactly as upstream's binding makes them. Propagation headers are read
 * from `rawHeaders`: `request.headers` is an object Node builds on first read, which an app
 * that never reads it would otherwise pay for on every request.
 *
 * Frameworks name the route as they do with upstream: the context holds an RPC metadata
 * record of type HTTP (`@opentelemetry/core`), whose `route` the Express, Koa, Connect,
 * Hapi and Restify instrumentations and the agent's own Fastify and Hono ones set; it is
 * read when the response closes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
} from '@opentelemetry/api';
import { type RPCMetadata, RPCType, suppressTracing } from '@opentelemetry/core';
import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { AGENT_NAME, AGENT_VERSION } from '../../version.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from '../semconv.js';
import { RequestContext } from './request-context.js';
import type { HttpModule, HttpServerInstrumentationConfig, ServerEmit } from './types.js';
import { describeMethod, requestPath } from './utils.js';

const MODULE_NAMES = ['http', 'https'] as const;
const SUPPORTED_VERSIONS = ['*'];

/** The context a request's and its response's listeners run in. */
const REQUEST_CONTEXT = Symbol('chokepoint.http.requestContext');
/** The span a response ends when it closes. */
const SERVER_SPAN = Symbol('chokepoint.http.serverSpan');

/** The request's RPC metadata, whose `route` frameworks set, and what ending its span takes. */
interface ServerSpan extends RPCMetadata {
  span: Span;
  spanName: string;
  target: string | undefined;
  ended: boolean;
}

type BoundMessage = (IncomingMessage | ServerResponse) & { [REQUEST_CONTEXT]?: Context };
type TracedResponse = ServerResponse & { [SERVER_SPAN]?: ServerSpan };

/**
 * Installed as the own `emit` of a request and of its response: listeners run in the
 * request's context. Events nobody listens to skip the context switch, and so do events
 * emitted in that context already (most are: the response's writes and ticks carry it).
 */
function emitInRequestContext(this: BoundMessage, event: string | symbol): boolean {
  const emit = Object.getPrototypeOf(this).emit as ServerEmit;
  const requestContext = this[REQUEST_CONTEXT];
  if (
    requestContext === undefined ||
    this.listenerCount(event) === 0 ||
    context.active() === requestContext
  ) {
    // biome-ignore lint/complexity/noArguments: forwards any number of event arguments without copying them.
    return Reflect.apply(emit, this, arguments);
  }
  // biome-ignore lint/complexity/noArguments: as above.
  return context.with(requestContext, Reflect.apply, undefined, emit, this, arguments);
}

function bindToContext(message: BoundMessage, requestContext: Context): void {
  message[REQUEST_CONTEXT] = requestContext;
  message.emit = emitInRequestContext;
}

/**
 * Propagation headers as `request.headers` would hold them (repeated ones joined with
 * `, `), read from `rawHeaders` without building that object.
 */
const rawHeaderGetter: TextMapGetter<IncomingMessage> = {
  keys: (request) => Object.keys(request.headers),
  get(request, key) {
    const raw = request.rawHeaders;
    let value: string | undefined;
    for (let i = 0; i < raw.length - 1; i += 2) {
      const name = raw[i] as string;
      if (name.length !== key.length || name.toLowerCase() !== key) continue;
      const line = raw[i + 1] as string;
      value = value === undefined ? line : `${value}, ${line}`;
    }
    return value;
  },
};

/** Names the request after its route, when a framework named one, else records its path. */
function recordTarget(state: ServerSpan): void {
  const { span, route } = state;
  if (route) {
    span.setAttribute(ATTR_HTTP_ROUTE, route);
    span.updateName(`${state.spanName} ${route}`);
  } else {
    span.setAttribute(ATTR_URL_PATH, requestPath(state.target));
  }
}

/** The response's `close` listener, shared by all responses: `close` follows `finish`, and an abort. */
function endServerSpan(this: TracedResponse): void {
  const state = this[SERVER_SPAN];
  if (state === undefined || state.ended) return;
  state.ended = true;
  const { span } = state;
  recordTarget(state);
  const completed = this.writableEnded;
  if (completed || this.headersSent) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, this.statusCode);
  if (!completed) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'connection closed before the response ended' });
  } else if (this.statusCode >= 500) {
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** Ends the span of a request whose handler threw. */
function endWithError(state: ServerSpan, error: unknown): void {
  if (state.ended) return;
  state.ended = true;
  const { span } = state;
  recordTarget(state);
  const code = (error as { code?: unknown } | undefined)?.code;
  span.setAttribute(
    ATTR_ERROR_TYPE,
    typeof code === 'string' ? code : error instanceof Error ? error.name : '_OTHER',
  );
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
  span.end();
}

/**
 * Traces the requests `http` and `https` servers serve.
 *
 * @example
 * new HttpServerInstrumentation({ ignoreIncomingRequestHook: (request) => request.url === '/health' });
 */
export class HttpServerInstrumentation extends InstrumentationBase<HttpServerInstrumentationConfig> {
  constructor(config: HttpServerInstrumentationConfig = {}) {
    super(`${AGENT_NAME}/instrumentation-http-server`, AGENT_VERSION, config);
  }

  protected override init(): InstrumentationNodeModuleDefinition[] {
    return MODULE_NAMES.map(
      (name) =>
        new InstrumentationNodeModuleDefinition(
          name,
          SUPPORTED_VERSIONS,
          (moduleExports: HttpModule) => {
            // Loaded through both `require` and `import`: `_wrap` replaces a wrapper, never stacks one.
            this._wrap(moduleExports.Server.prototype, 'emit', this._patchEmit());
            return moduleExports;
          },
          (moduleExports: HttpModule | undefined) => {
            if (moduleExports) this._unwrap(moduleExports.Server.prototype, 'emit');
          },
        ),
    );
  }

  private _patchEmit() {
    const instrumentation = this;
    return (original: ServerEmit) =>
      function emit(
        this: unknown,
        event: string | symbol,
        request?: IncomingMessage,
        response?: ServerResponse,
      ): boolean {
        if (event !== 'request' || request === undefined || response === undefined) {
          // biome-ignore lint/complexity/noArguments: forwards the event's arguments untouched.
          return Reflect.apply(original, this, arguments);
        }
        const traced = instrumentation._traceRequest(request, response);
        // The agent failed: the request is served as it would be without it.
        // biome-ignore lint/complexity/noArguments: as above.
        if (traced === undefined) return Reflect.apply(original, this, arguments);
        const [requestContext, state] = traced;
        if (state === undefined) {
          // biome-ignore lint/complexity/noArguments: as above.
          return context.with(requestContext, Reflect.apply, undefined, original, this, arguments);
        }
        try {
          // biome-ignore lint/complexity/noArguments: as above.
          return context.with(requestContext, Reflect.apply, undefined, original, this, arguments);
        } catch (error) {
          endWithError(state, error);
          throw error;
        }
      };
  }

  /**
   * Starts the request's span and binds the request and the response to its context; for
   * an ignored request, binds them to a context where nothing is traced (no span).
   */
  private _traceRequest(
    request: IncomingMessage,
    response: ServerResponse,
  ): [Context, ServerSpan | undefined] | undefined {
    try {
      if (this._isIgnored(request)) {
        const untraced = suppressTracing(context.active());
        bindToContext(request, untraced);
        bindToContext(response, untraced);
        return [untraced, undefined];
      }
      const { spanName, attributes } = describeMethod(request.method);
      const parent = propagation.extract(ROOT_CONTEXT, request, rawHeaderGetter);
      const span = this.tracer.startSpan(spanName, { kind: SpanKind.SERVER, attributes }, parent);
      const state: ServerSpan = {
        type: RPCType.HTTP,
        span,
        route: undefined,
        spanName,
        target: request.url,
        ended: false,
      };
      const requestContext = new RequestContext(parent, state);
      (response as TracedResponse)[SERVER_SPAN] = state;
      response.on('close', endServerSpan);
      bindToContext(request, requestContext);
      bindToContext(response, requestContext);
      return [requestContext, state];
    } catch {
      return undefined;
    }
  }

  private _isIgnored(request: IncomingMessage): boolean {
    const hook = this.getConfig().ignoreIncomingRequestHook;
    if (hook === undefined) return false;
    try {
      return hook(request) === true;
    } catch {
      return false;
    }
  }
}
