/**
 * Naming the route of the request being served, for frameworks whose upstream
 * instrumentation is missing. The http instrumentation leaves a mutable RPC metadata
 * record in the request's context; whatever `route` it holds when the response ends
 * becomes the SERVER span's `http.route` and the second half of its name (`GET /users/:id`),
 * exactly as the Express and Koa instrumentations do it.
 */
import { context } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';

/**
 * Sets the route of the HTTP request in the active context, if there is one.
 *
 * @returns whether a request was there to take it.
 * @example
 * setHttpRoute('/users/:id');
 */
export function setHttpRoute(route: string): boolean {
  const metadata = getRPCMetadata(context.active());
  if (metadata?.type !== RPCType.HTTP) return false;
  metadata.route = route;
  return true;
}
