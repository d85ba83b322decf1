/** The parts of Hono's routing the instrumentation relies on (hono/dist/types and router.ts). */

/** Hono's record of a registered handler: `path` is the full pattern, base path included. */
export interface RouterRoute {
  path: string;
  method: string;
}

export type HonoHandler = (this: unknown, ...args: unknown[]) => unknown;

/** What `Hono` stores in its router for every handler, and gets back from `match`. */
export type RouteEntry = [HonoHandler, RouterRoute];

export interface RouterPrototype {
  add(method: string, path: string, handler: unknown): void;
}
