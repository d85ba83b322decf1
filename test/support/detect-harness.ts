/**
 * Runs detectors over operations the way the pipeline does (assemble → inspect →
 * aggregate → detect), without I/O, so fixtures test the rules and nothing else.
 */

import { Aggregator } from '../../collector/aggregate/window.js';
import { TraceAssembler } from '../../collector/assemble/trace-assembler.js';
import { type DetectionConfig, type Detector, defaultDetectionConfig } from '../../collector/detect/types.js';
import type { FindingCandidate, Operation, RuntimeSample } from '../../model/index.js';

export const FIXTURE_NOW = 1_700_000_060_000;

export function runDetector(
  detector: Detector,
  operations: Operation[],
  config: Partial<DetectionConfig> = {},
  runtimeSamples: RuntimeSample[] = [],
): FindingCandidate[] {
  const settings = { ...defaultDetectionConfig, ...config };
  const assembler = new TraceAssembler();
  const aggregator = new Aggregator();
  aggregator.recordRuntime(runtimeSamples, FIXTURE_NOW);
  assembler.add(operations, FIXTURE_NOW);
  for (const trace of assembler.drainAll()) {
    aggregator.record(trace, detector.inspectTrace?.(trace, settings) ?? [], FIXTURE_NOW);
  }
  return detector.detect(aggregator.view(FIXTURE_NOW - 15 * 60_000, FIXTURE_NOW + 1), settings, FIXTURE_NOW);
}
