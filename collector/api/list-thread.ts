/**
 * The list routes' merges on a thread of their own. Merging an hour of a thousand statements
 * reads and parses ~60 000 stored buckets: ~0.75 s that, on the collector's main thread, would
 * hold every OTLP request and API call behind it. The thread (`list-worker.ts`) opens the
 * database read-only on its own connection and answers one request at a time; the main
 * thread only waits for the JSON. If the thread cannot start or dies, merges run here again,
 * and that is reported once.
 *
 * @example
 * const lists = new ListThread('/var/lib/chokepoint.db', { fallback: (request) => listAnswer(store, request) });
 * const { json } = await lists.answer({ name: 'queries', since: '1h', fromMs, nowMs, limit: 100 });
 * await lists.close();
 */
import { Worker } from 'node:worker_threads';
import { workerScript } from '../worker-script.js';
import type { ListAnswer, ListRequest } from './list-answer.js';

export interface ListThreadOptions {
  /** Answers requests on this thread when the list thread is not there. */
  fallback: (request: ListRequest) => ListAnswer;
  /** Where losing the thread is reported (default: stderr). */
  onError?: (message: string) => void;
  /** The thread's script; by default the built `list-worker.js` (see `listWorkerScript`). */
  script?: string;
}

/** What the list thread receives, and what it answers. */
export interface ListJob {
  id: number;
  request: ListRequest;
}
export type ListReply = { id: number; answer: ListAnswer } | { id: number; error: string };

export class ListThread {
  private worker: Worker | undefined;
  private readonly fallback: (request: ListRequest) => ListAnswer;
  private readonly onError: (message: string) => void;
  private readonly waiting = new Map<
    number,
    { request: ListRequest; resolve: (answer: ListAnswer) => void; reject: (error: Error) => void }
  >();
  private nextId = 0;

  constructor(path: string, options: ListThreadOptions) {
    this.fallback = options.fallback;
    this.onError = options.onError ?? ((message) => console.error(`chokepoint: ${message}`));
    try {
      const worker = new Worker(options.script ?? listWorkerScript(), { workerData: { path } });
      worker.on('message', (reply: ListReply) => this.settle(reply));
      worker.on('error', (error) => this.lost(`list thread failed: ${error.message}`));
      worker.on('exit', (code) => {
        if (this.worker === worker) this.lost(`list thread exited (${code})`);
      });
      // Keeps the process alive only while a merge is under way.
      worker.unref();
      this.worker = worker;
    } catch (error) {
      this.onError(
        `list thread could not start (${(error as Error).message}): merging lists on the main thread`,
      );
    }
  }

  /** The list's answer, merged on the list thread (or here, without one). */
  answer(request: ListRequest): Promise<ListAnswer> {
    const worker = this.worker;
    if (!worker) return Promise.resolve().then(() => this.fallback(request));
    const id = ++this.nextId;
    worker.ref();
    worker.postMessage({ id, request } satisfies ListJob);
    return new Promise((resolve, reject) => this.waiting.set(id, { request, resolve, reject }));
  }

  /** Ends the thread; requests still waiting are answered here. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    await worker.terminate();
    this.answerHere();
  }

  private settle(reply: ListReply): void {
    const waiter = this.waiting.get(reply.id);
    if (!waiter) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker?.unref();
    if ('error' in reply) waiter.reject(new Error(reply.error));
    else waiter.resolve(reply.answer);
  }

  private lost(message: string): void {
    if (!this.worker) return;
    this.worker = undefined;
    this.onError(`${message}: merging lists on the main thread from now on`);
    this.answerHere();
  }

  /** Requests the thread took but will not answer: merged here. */
  private answerHere(): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const { request, resolve, reject } of waiting) {
      try {
        resolve(this.fallback(request));
      } catch (error) {
        reject(error as Error);
      }
    }
  }
}

/** The built `list-worker.js`, beside this module or under dist/ (see ../worker-script.ts). */
export function listWorkerScript(): string {
  return workerScript(__dirname, 'list-worker.js');
}
