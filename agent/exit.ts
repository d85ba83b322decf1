/**
 * Flushing on the way out without changing the way out. On SIGTERM or SIGINT the agent
 * flushes (for a bounded time); then, if the app has no handler of its own for the signal,
 * it re-raises it so the process ends exactly as it would have without the agent (killed
 * by that signal). If the app has a handler, the app owns the exit and the agent does
 * nothing more. `beforeExit` flushes once, then lets the process end with the exit code
 * the app set.
 */

export interface ExitFlushOptions {
  flush: () => Promise<void>;
  /** Longest wait for `flush`. */
  timeoutMs: number;
  /** Called when `flush` did not settle within `timeoutMs`. */
  onTimeout?: () => void;
  signals?: readonly NodeJS.Signals[];
}

const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * Installs the exit listeners.
 *
 * @returns a function that removes them again.
 * @example
 * const uninstall = flushOnExit({ flush: () => processor.forceFlush(), timeoutMs: 2000 });
 */
export function flushOnExit({
  flush,
  timeoutMs,
  onTimeout,
  signals = DEFAULT_SIGNALS,
}: ExitFlushOptions): () => void {
  const flushing = new Set<NodeJS.Signals>();

  async function boundedFlush(): Promise<void> {
    if (!(await waitAtMost(flush, timeoutMs))) onTimeout?.();
  }

  function reraise(signal: NodeJS.Signals): void {
    // Without any listener left, Node restores the default action: termination by the signal.
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }

  function onSignal(signal: NodeJS.Signals): void {
    const appHandlesSignal = process.listenerCount(signal) > 1;
    if (flushing.has(signal)) {
      // Asked twice while still flushing: the user is done waiting.
      if (!appHandlesSignal) reraise(signal);
      return;
    }
    flushing.add(signal);
    void boundedFlush().then(() => {
      flushing.delete(signal);
      if (!appHandlesSignal) reraise(signal);
    });
  }

  function onBeforeExit(): void {
    void boundedFlush().then(() => {
      // The loop was empty: the app was done. What may still hold the process is the export
      // (retry timers while the collector is down), so end it now, as it would have ended
      // without the agent, unless another beforeExit listener may have work in flight.
      if (process.listenerCount('beforeExit') === 0) process.exit();
    });
  }

  for (const signal of signals) process.on(signal, onSignal);
  process.once('beforeExit', onBeforeExit);
  return () => {
    for (const signal of signals) process.removeListener(signal, onSignal);
    process.removeListener('beforeExit', onBeforeExit);
  };
}

/**
 * Waits for `task` for at most `timeoutMs`. Never rejects: a failed task counts as settled,
 * its failure being reported where it happened (the exporter's drop warning).
 *
 * @returns whether the task settled in time.
 * @example
 * if (!(await waitAtMost(() => sdk.shutdown(), 2000))) processor.abandon(2000);
 */
export async function waitAtMost(task: () => Promise<void>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(resolve, timeoutMs, false);
  });
  const settled = Promise.resolve()
    .then(task)
    .then(
      () => true,
      () => true,
    );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
