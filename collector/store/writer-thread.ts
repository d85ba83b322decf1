/**
 * The store's writer thread: a `SqliteStore` on its own connection that applies the write
 * batches a {@link ThreadedStore} posts, in order, so bucket writes, roll-ups and pruning never
 * hold the ingest thread. Each batch is answered with the sequence number of its last request
 * and the failures it met (one per request that threw); a `close` request closes the database
 * and ends the thread, a `releaseMemory` one collects its garbage once the batch is answered.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { releaseMemory } from './release-memory.js';
import { SqliteStore, type StoreOptions } from './sqlite-store.js';
import { applyWrite, type WriteBatch, type WriterMessage, type WriterReply } from './threaded-store.js';

const { path, options } = workerData as { path: string; options: Partial<StoreOptions> };
const store = new SqliteStore(path, options);
const port = parentPort;
port?.postMessage({ ready: true } satisfies WriterMessage);

port?.on('message', (batch: WriteBatch) => {
  const failures: WriterReply['failures'] = [];
  let closing = false;
  let releasing = false;
  for (const request of batch.requests) {
    if (request.op === 'close') {
      closing = true;
      continue;
    }
    if (request.op === 'releaseMemory') {
      releasing = true;
      continue;
    }
    try {
      applyWrite(store, request);
    } catch (error) {
      failures.push({ op: request.op, message: (error as Error).message });
    }
  }
  port.postMessage({
    seq: batch.lastSeq,
    failures,
    succeeded: succeededOps(batch, failures),
  } satisfies WriterMessage);
  if (closing) {
    store.close();
    port.close();
  } else if (releasing) releaseMemory();
});

/** The kinds of request of the batch that all went through, so their earlier failures can be forgotten. */
function succeededOps(batch: WriteBatch, failures: WriterReply['failures']): string[] {
  const failed = new Set(failures.map((failure) => failure.op));
  return [...new Set(batch.requests.map((request) => request.op))].filter((op) => !failed.has(op));
}
