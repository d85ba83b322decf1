/** The parts of Fastify the instrumentation relies on. */

export interface FastifyRequest {
  /** `url` is the matched route's pattern, prefix included; undefined when nothing matched (404). */
  routeOptions?: { url?: string };
}

export type OnRequestHook = (request: FastifyRequest, reply: unknown, done: () => void) => void;

export interface FastifyInstance {
  addHook(name: 'onRequest', hook: OnRequestHook): unknown;
}

/** What Fastify publishes on the `fastify.initialization` diagnostics channel for every new instance. */
export interface FastifyInitialization {
  fastify: FastifyInstance;
}
