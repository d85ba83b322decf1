/** The fix for a gc_pressure: allocate less, or give a heap near its limit room. */
import type { FindingCandidate, Recommendation } from '../../model/index.js';

export function recommendGcPressure(candidate: FindingCandidate): Recommendation {
  const { evidence } = candidate;
  const heapMb = Number(evidence.heapUsedMaxMb ?? 0);
  // Twice the heap seen, in steps of 256 MiB, and never below 512.
  const suggestedMb = Math.max(512, Math.ceil((heapMb * 2) / 256) * 256);
  return {
    summary: 'Allocate less per request, or give the heap more room',
    detail:
      `Garbage collection paused the process up to ${evidence.worstMsPerSecond} ms per second ` +
      `(longest pause ${evidence.maxPauseMs} ms, heap up to ${heapMb} MB). Frequent major collections on a ` +
      'heap close to its limit call for a larger --max-old-space-size (within the memory the host gives the ' +
      'process); otherwise reduce allocation: stream large responses and files instead of buffering them, ' +
      'avoid building big intermediate arrays and strings, and reuse buffers. A heap profile (--heap-prof) ' +
      'shows where the allocations come from.',
    code: [
      `node --max-old-space-size=${suggestedMb} --require chokepoint/agent server.js`,
      '# where allocations come from (open the .heapprofile in Chrome DevTools):',
      'node --heap-prof --heap-prof-dir=./profiles --require chokepoint/agent server.js',
    ].join('\n'),
    language: 'shell',
  };
}
