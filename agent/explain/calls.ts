/**
 * How a driver call meets its span. The span is started by an instrumentation (upstream's
 * for pg and mysql2) that hands its hooks neither the client nor the connection; the
 * agent's wrapper around the driver method knows them. It announces the call right before
 * the instrumented method runs; the span that method starts synchronously picks the
 * announcement up (`ExplainSpanProcessor.onStart`), and the wrapper withdraws it once the
 * method returns, whether or not a span took it (unsampled calls start none).
 */
import type { ExplainableCall, ExplainDriver } from './types.js';

let announced: ExplainableCall | undefined;
let listening = false;

/** Turns announcements on (they cost an object per call): done once a processor reads them. */
export function listenForCalls(on: boolean): void {
  listening = on;
  announced = undefined;
}

/**
 * @example
 * announceCall(pgDriver, client, args);
 * try { return original.apply(client, args); } finally { withdrawCall(); }
 */
export function announceCall(driver: ExplainDriver, connection: unknown, args: readonly unknown[]): void {
  if (listening) announced = { driver, connection, args };
}

export function withdrawCall(): void {
  announced = undefined;
}

/** The call behind the span starting now, if one was announced; it can be taken once. */
export function takeCall(): ExplainableCall | undefined {
  const call = announced;
  announced = undefined;
  return call;
}
