/**
 * startCollector's memory settings reach the isolates started after it: a worker thread's
 * young generation stays small however much short-lived data it handles.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { startCollector } from '../../collector/index.js';

/** A worker that allocates ~200 MB, keeping the last 200k objects alive, answers its new space's size. */
const CHURN = `
const { getHeapSpaceStatistics } = require('node:v8');
let kept = [];
for (let i = 0; i < 3e6; i++) {
  kept.push({ i, text: 'row ' + i });
  if (kept.length > 200000) kept = [];
}
const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
require('node:worker_threads').parentPort.postMessage(newSpace.space_size);
`;

function newSpaceOfAWorker(): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(CHURN, { eval: true });
    worker.once('message', (bytes: number) => {
      resolve(bytes);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

describe('startCollector memory settings', () => {
  it('keeps the young generation of worker threads started after it at 2 MB semi-spaces', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'chokepoint-memory-')), 'c.db');
    const collector = await startCollector({ otlpPort: 0, port: 0, db, quiet: true });
    try {
      // Two semi-spaces of 2 MB; V8's default lets this worker grow to two of 16 MB.
      expect(await newSpaceOfAWorker()).toBeLessThanOrEqual(4 * 1024 * 1024);
    } finally {
      await collector.close();
    }
  });
});
