/** The fix for an event_loop_blocked: find the synchronous hot path and take it off the loop. */
import type { FindingCandidate, Recommendation } from '../../model/index.js';

export function recommendEventLoopBlocked(candidate: FindingCandidate): Recommendation {
  const { evidence } = candidate;
  return {
    summary: 'Find the synchronous code that blocks the event loop and move it off the loop',
    detail:
      `The event loop stalled for up to ${evidence.maxDelayMs} ms (median delay ${evidence.medianDelayMs} ms). ` +
      'While it is blocked, every request and reply in the process waits. Record a CPU profile under load ' +
      '(node --cpu-prof) and look for the widest synchronous frames. Usual causes: JSON.parse/stringify of ' +
      'large payloads (stream them, or paginate), sync crypto, zlib or fs calls (use the async forms), ' +
      'catastrophic regular expressions, and CPU-heavy loops — move those to worker threads.',
    code: [
      '// 1. Profile under load: node --cpu-prof --cpu-prof-dir=./profiles --require chokepoint/agent server.js',
      '// 2. Move CPU-heavy work to a worker thread:',
      "const { Worker } = require('node:worker_threads');",
      'function runInWorker(file, workerData) {',
      '  return new Promise((resolve, reject) => {',
      '    const worker = new Worker(file, { workerData });',
      "    worker.once('message', resolve);",
      "    worker.once('error', reject);",
      '  });',
      '}',
    ].join('\n'),
    language: 'javascript',
  };
}
