/**
 * The agent's only voice: one `chokepoint: …` line on stderr. It lives inside someone
 * else's app, so it never throws (stderr may be closed) and never spans several lines.
 */

/**
 * Writes `chokepoint: <message>` as a single line on stderr.
 *
 * @example
 * warn('ignoring CHOKEPOINT_SCRUB=bogus: expected none, sql, redis or all');
 */
export function warn(message: string): void {
  try {
    process.stderr.write(`chokepoint: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  } catch {
    // Nowhere left to report to: staying silent beats crashing the app.
  }
}

/** An error's message, whatever was thrown. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The one line a failed start costs the app. */
export function warnNotStarted(error: unknown): void {
  warn(`agent not started, the app runs without tracing: ${describeError(error)}`);
}
