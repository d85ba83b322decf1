/**
 * A store whose writes run on a worker thread (`writer-thread.ts`, its own SQLite connection)
 * while reads stay on the calling thread's connection: WAL lets the API read while the writer
 * commits, and the ingest thread never waits on bucket writes, roll-ups or pruning.
 *
 * Writes are queued and sent as one batch at a time: while the writer works on a batch, the
 * next one gathers, and a bucket written again before it is sent is sent once, in its latest
 * state, so a slow disk costs fewer writes rather than more memory. `flushed()` resolves once
 * every write asked for so far is committed; `close()` drains the queue, then closes both
 * connections. If the writer thread cannot start or dies, writes go on here, and that is reported.
 *
 * @example
 * const store = new ThreadedStore('/var/lib/chokepoint.db', { onError: console.error });
 * store.writeBuckets(aggregator.takeDirty());
 * await store.flushed();
 * store.readBuckets({ fromMs: 0 }); // sees them
 * await store.close();
 */
import { Worker } from 'node:worker_threads';
import type { Finding } from '../../model/index.js';
import { mergeBucketData } from '../aggregate/stats.js';
import type { BucketRecord } from '../aggregate/window.js';
import { workerScript } from '../worker-script.js';
import { SqliteStore, type StoreOptions } from './sqlite-store.js';
import type {
  ExampleTrace,
  FindingFilter,
  FindingRevision,
  FindingUpdate,
  MergeBuckets,
  Store,
} from './types.js';

export type WriteRequest =
  | { op: 'upsertFindings'; findings: FindingUpdate[]; nowMs: number }
  | { op: 'updateLifecycle'; nowMs: number }
  | { op: 'writeBuckets'; records: BucketRecord[] }
  | { op: 'rollUpBuckets'; beforeMs: number; budgetMs?: number }
  | { op: 'pruneBuckets'; beforeMs: number }
  | { op: 'saveExampleTraces'; traces: ExampleTrace[]; nowMs: number }
  | { op: 'releaseMemory' }
  | { op: 'close' };

/** What the writer thread receives: requests in order, and the sequence number of the last. */
export interface WriteBatch {
  requests: WriteRequest[];
  lastSeq: number;
}

/** The writer thread's answer to a batch, or its word that its connection is open. */
export type WriterMessage = { ready: true } | WriterReply;

export interface WriterReply {
  seq: number;
  failures: Array<{ op: string; message: string }>;
  /** Kinds of request that all succeeded in the batch. */
  succeeded: string[];
}

export interface ThreadedStoreOptions extends Partial<StoreOptions> {
  /** Where write failures are reported, once per kind of write until it succeeds again. */
  onError: (message: string) => void;
  /** The writer thread's script; by default the built `writer-thread.js` (see `writerScript`). */
  writerScript: string;
}

/** Bucket writes not yet sent: one record per bucket (the latest), late-data deltas in order. */
interface QueuedBuckets {
  op: 'writeBuckets';
  latest: Map<string, BucketRecord>;
  deltas: BucketRecord[];
}

type Queued = Exclude<WriteRequest, { op: 'writeBuckets' }> | QueuedBuckets;

export class ThreadedStore implements Store {
  private readonly reader: SqliteStore;
  private readonly onError: (message: string) => void;
  private worker: Worker | undefined;
  private queue: Queued[] = [];
  /** The batch the writer is working on, kept until it answers. */
  private inFlight: WriteRequest[] | undefined;
  /** The writer opened its connection: before that, nothing it was sent can have been written. */
  private writerReady = false;
  /** Sequence number of the last request sent to the writer. */
  private sent = 0;
  private sendScheduled = false;
  private issued = 0;
  private acknowledged = 0;
  private waiters: Array<{ seq: number; resolve: () => void }> = [];
  private readonly failing = new Set<string>();
  private closing: Promise<void> | undefined;

  constructor(path: string, options: Partial<ThreadedStoreOptions> = {}) {
    const {
      onError = (message) => console.error(`chokepoint: ${message}`),
      writerScript,
      ...storeOptions
    } = options;
    this.onError = onError;
    // Opened first: it creates or migrates the database before the writer connects.
    this.reader = new SqliteStore(path, storeOptions);
    try {
      const worker = new Worker(writerScript ?? defaultWriterScript(), {
        workerData: { path, options: storeOptions },
      });
      worker.on('message', (message: WriterMessage) => {
        if ('ready' in message) this.writerReady = true;
        else this.acknowledge(message);
      });
      worker.on('error', (error) => this.writerLost(`store writer thread failed: ${error.message}`));
      worker.on('exit', (code) => {
        // Exiting is its answer to close(); any other exit loses it.
        if (this.worker === worker && !this.closing) this.writerLost(`store writer thread exited (${code})`);
      });
      // Keeps the process alive only while it has writes to commit (see send and acknowledge).
      worker.unref();
      this.worker = worker;
    } catch (error) {
      this.onError(
        `store writer thread could not start (${(error as Error).message}): writing on the main thread`,
      );
    }
  }

  upsertFindings(findings: FindingUpdate[], nowMs: number): void {
    if (findings.length > 0) this.enqueue({ op: 'upsertFindings', findings, nowMs });
  }

  updateLifecycle(nowMs: number): void {
    this.enqueue({ op: 'updateLifecycle', nowMs });
  }

  /** Queues bucket writes; late data is merged by the aggregate layer's `mergeBucketData` on the writer. */
  writeBuckets(records: BucketRecord[], _merge?: MergeBuckets): void {
    if (records.length === 0) return;
    if (!this.worker) {
      this.direct({ op: 'writeBuckets', records });
      return;
    }
    let tail = this.queue[this.queue.length - 1];
    if (tail?.op !== 'writeBuckets') {
      tail = { op: 'writeBuckets', latest: new Map(), deltas: [] };
      this.queue.push(tail);
    }
    for (const record of records) {
      if (record.merge) tail.deltas.push(record);
      else
        tail.latest.set(
          `${record.family}\u0000${record.service}\u0000${record.key}\u0000${record.bucketStartMs}`,
          record,
        );
    }
    this.issued += 1;
    this.scheduleSend();
  }

  /**
   * Queues a roll-up. Functions cannot cross threads: the writer merges with the aggregate
   * layer's `mergeBucketData`, the function the pipeline passes.
   */
  rollUpBuckets(beforeMs: number, _merge: MergeBuckets, budgetMs?: number): void {
    this.enqueue(
      budgetMs === undefined
        ? { op: 'rollUpBuckets', beforeMs }
        : { op: 'rollUpBuckets', beforeMs, budgetMs },
    );
  }

  pruneBuckets(beforeMs: number): void {
    this.enqueue({ op: 'pruneBuckets', beforeMs });
  }

  saveExampleTraces(traces: ExampleTrace[], nowMs: number): void {
    if (traces.length > 0) this.enqueue({ op: 'saveExampleTraces', traces, nowMs });
  }

  /**
   * Asks the writer thread for a full garbage collection once it has committed what is queued
   * (see release-memory.ts): after a burst, its heap keeps the size the burst's batches grew it
   * to (27 MB of old generation for 4 MB live after 1M spans). Without a writer thread, nothing.
   */
  releaseMemory(): void {
    if (this.worker) this.enqueue({ op: 'releaseMemory' });
  }

  /** Resolves once every write asked for before the call is committed (or has failed and been reported). */
  flushed(): Promise<void> {
    if (this.acknowledged >= this.issued) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq: this.issued, resolve }));
  }

  /** Writes waiting for the writer thread (a bucket write counts once however many buckets it holds). */
  get queuedWrites(): number {
    return this.issued - this.acknowledged;
  }

  listFindings(filter?: FindingFilter): Finding[] {
    return this.reader.listFindings(filter);
  }

  listFindingRevisions(
    filter: FindingFilter,
    isKept: (id: string, revision: number) => boolean,
  ): FindingRevision[] {
    return this.reader.listFindingRevisions(filter, isKept);
  }

  findingsRevision(): string {
    return this.reader.findingsRevision();
  }

  getFinding(id: string): Finding | undefined {
    return this.reader.getFinding(id);
  }

  listServices(): string[] {
    return this.reader.listServices();
  }

  readBuckets(query: Parameters<SqliteStore['readBuckets']>[0]): BucketRecord[] {
    return this.reader.readBuckets(query);
  }

  getExampleTrace(traceId: string): ExampleTrace | undefined {
    return this.reader.getExampleTrace(traceId);
  }

  hasExampleTrace(traceId: string): boolean {
    return this.reader.hasExampleTrace(traceId);
  }

  sizeBytes(): number {
    return this.reader.sizeBytes();
  }

  /** Sends what is queued, waits for the writer to commit it and close, then closes the reader. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const worker = this.worker;
      if (worker) {
        worker.ref();
        const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
        this.enqueue({ op: 'close' });
        await this.flushed();
        this.worker = undefined;
        await exited;
      }
      this.reader.close();
    })();
    return this.closing;
  }

  private enqueue(request: Exclude<WriteRequest, { op: 'writeBuckets' }>): void {
    if (!this.worker) {
      this.direct(request);
      return;
    }
    this.queue.push(request);
    this.issued += 1;
    this.scheduleSend();
  }

  /** Batches what one synchronous stretch (a detection tick) asks for into one message. */
  private scheduleSend(): void {
    if (this.inFlight !== undefined || this.sendScheduled) return;
    this.sendScheduled = true;
    queueMicrotask(() => {
      this.sendScheduled = false;
      this.send();
    });
  }

  private send(): void {
    if (this.inFlight !== undefined || this.queue.length === 0 || !this.worker) return;
    const requests = this.queue.map(toRequest);
    this.queue = [];
    this.inFlight = requests;
    this.sent = this.issued;
    // Like a pending file write, uncommitted writes keep the process alive.
    this.worker.ref();
    this.worker.postMessage({ requests, lastSeq: this.issued } satisfies WriteBatch);
  }

  private acknowledge(reply: WriterReply): void {
    this.inFlight = undefined;
    this.acknowledged = reply.seq;
    if (this.queue.length === 0 && !this.closing) this.worker?.unref();
    for (const failure of reply.failures) this.report(failure.op, failure.message);
    for (const op of reply.succeeded) this.failing.delete(op);
    this.wakeWaiters();
    this.send();
  }

  /** The writer thread is gone: writes go on here. */
  private writerLost(message: string): void {
    if (!this.worker) return;
    this.worker = undefined;
    // A writer that never opened its connection wrote nothing: its batch is done here. One that
    // did may have committed part of it, and late-data merges must not be applied twice.
    const unsent = this.writerReady ? [] : (this.inFlight ?? []);
    const lost = this.writerReady && this.inFlight ? this.sent - this.acknowledged : 0;
    this.inFlight = undefined;
    this.onError(
      `${message}: writing on the main thread from now on${lost > 0 ? ` (${lost} writes it had not committed are lost)` : ''}`,
    );
    const queued = this.queue;
    this.queue = [];
    for (const request of unsent) this.direct(request);
    for (const request of queued) this.direct(toRequest(request));
    this.acknowledged = this.issued;
    this.wakeWaiters();
  }

  private direct(write: WriteRequest): void {
    try {
      applyWrite(this.reader, write);
    } catch (error) {
      this.report(write.op, (error as Error).message);
    }
  }

  private report(op: string, message: string): void {
    if (this.failing.has(op)) return;
    this.failing.add(op);
    this.onError(`store ${op} failed: ${message}`);
  }

  private wakeWaiters(): void {
    const ready = this.waiters.filter((waiter) => waiter.seq <= this.acknowledged);
    this.waiters = this.waiters.filter((waiter) => waiter.seq > this.acknowledged);
    for (const waiter of ready) waiter.resolve();
  }
}

/**
 * Runs one write on a synchronous store: the writer thread's loop, and this thread's when the
 * writer is gone. Late data and roll-ups merge with the aggregate layer's `mergeBucketData`.
 */
export function applyWrite(store: SqliteStore, write: WriteRequest): void {
  switch (write.op) {
    case 'upsertFindings':
      store.upsertFindings(write.findings, write.nowMs);
      break;
    case 'updateLifecycle':
      store.updateLifecycle(write.nowMs);
      break;
    case 'writeBuckets':
      store.writeBuckets(write.records, mergeBucketData);
      break;
    case 'rollUpBuckets':
      store.rollUpBuckets(write.beforeMs, mergeBucketData, write.budgetMs);
      break;
    case 'pruneBuckets':
      store.pruneBuckets(write.beforeMs);
      break;
    case 'saveExampleTraces':
      store.saveExampleTraces(write.traces, write.nowMs);
      break;
    // The writer thread's loop acts on these itself, after the batch.
    case 'releaseMemory':
    case 'close':
      break;
  }
}

function toRequest(queued: Queued): WriteRequest {
  if (queued.op !== 'writeBuckets') return queued;
  return { op: 'writeBuckets', records: [...queued.latest.values(), ...queued.deltas] };
}

/** The built `writer-thread.js`, beside this module or under dist/ (see ../worker-script.ts). */
export function defaultWriterScript(): string {
  return workerScript(__dirname, 'writer-thread.js');
}
