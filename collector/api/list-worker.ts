/**
 * The list thread (see list-thread.ts): a read-only `SqliteStore` on its own connection that
 * merges the list answers the main thread asks for, one at a time, and posts back their JSON,
 * or the message of what went wrong.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteStore } from '../store/sqlite-store.js';
import { listAnswer } from './list-answer.js';
import type { ListJob, ListReply } from './list-thread.js';

const { path } = workerData as { path: string };
const store = new SqliteStore(path, { readonly: true });

parentPort?.on('message', ({ id, request }: ListJob) => {
  let reply: ListReply;
  try {
    reply = { id, answer: listAnswer(store, request) };
  } catch (error) {
    reply = { id, error: (error as Error).message };
  }
  parentPort?.postMessage(reply);
});
