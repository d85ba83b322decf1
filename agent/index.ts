/**
 * Chokepoint's agent: the programmatic API. `node --require chokepoint/agent` (or
 * `--import` for ESM) calls {@link start} before the app's first line; call it yourself,
 * first thing, to pass options.
 *
 * The agent lives inside someone else's app, so nothing here may crash, block or slow it:
 * `start()` never throws (a failure costs one warning line and the app runs untraced), the
 * OpenTelemetry SDK is only loaded when the agent really starts, and export failures are
 * counted and reported, never thrown.
 */
import { type AgentOptions, resolveConfig } from './config.js';
import { flushOnExit, waitAtMost } from './exit.js';
import type { RunningRuntime } from './runtime/index.js';
import type { RunningSdk } from './sdk.js';
import { warn, warnNotStarted } from './warn.js';

export type { AgentOptions } from './config.js';
export type { ScrubMode } from './scrub.js';

interface RunningAgent {
  sdk: RunningSdk;
  runtime: RunningRuntime;
  flushTimeoutMs: number;
  removeExitListeners: () => void;
}

let started = false;
let running: RunningAgent | undefined;

/**
 * Starts tracing: instruments the libraries the app loads from now on and exports spans
 * to the collector, with runtime samples beside them. Options override the environment. Only the first call does anything:
 * OpenTelemetry's globals can be registered once per process.
 *
 * @example
 * import { start } from 'chokepoint';
 * start({ serviceName: 'checkout', scrub: 'sql' });
 */
export function start(options: Partial<AgentOptions> = {}): void {
  if (started) return;
  started = true;
  try {
    const { config, warnings } = resolveConfig(options, process.env);
    for (const warning of warnings) warn(warning);
    if (config.disabled) {
      if (config.debug) warn('disabled by configuration');
      return;
    }
    // Loaded here, not at the top: a disabled agent costs the app nothing.
    const { startSdk } = require('./sdk.js') as typeof import('./sdk.js');
    const sdk = startSdk(config, process.env);
    const { startRuntime } = require('./runtime/index.js') as typeof import('./runtime/index.js');
    const runtime = startRuntime(config, sdk.resource);
    const { flushTimeoutMs } = config;
    running = {
      sdk,
      runtime,
      flushTimeoutMs,
      removeExitListeners: flushOnExit({
        flush: sdk.flush,
        timeoutMs: flushTimeoutMs,
        onTimeout: () => sdk.abandon(flushTimeoutMs),
      }),
    };
  } catch (error) {
    warnNotStarted(error);
  }
}

/**
 * Exports what is queued (waiting at most `flushTimeoutMs`) and stops the agent. Never
 * rejects: failed exports are reported on stderr.
 *
 * @example
 * await shutdown();
 */
export async function shutdown(): Promise<void> {
  const agent = running;
  running = undefined;
  if (!agent) return;
  agent.removeExitListeners();
  await agent.runtime.stop();
  if (!(await waitAtMost(agent.sdk.shutdown, agent.flushTimeoutMs))) agent.sdk.abandon(agent.flushTimeoutMs);
}
