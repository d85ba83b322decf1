import type { IncomingMessage } from 'node:http';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';

export interface HttpServerInstrumentationConfig extends InstrumentationConfig {
  /**
   * Requests for which this returns `true` are served untraced, and so is everything their
   * handlers do. Called first thing for every request: keep it cheap. A hook that throws
   * counts as `false`.
   */
  ignoreIncomingRequestHook?: (request: IncomingMessage) => boolean;
}

/** The part of `http.Server.prototype` and `https.Server.prototype` the instrumentation patches. */
export interface ServerPrototype {
  emit(event: string | symbol, ...args: unknown[]): boolean;
}

export type ServerEmit = ServerPrototype['emit'];

/** The parts of the `http` and `https` modules the instrumentation patches. */
export interface HttpModule {
  Server: { prototype: ServerPrototype };
}
