/**
 * The collector's spine, one direction: receive hands spans in → normalise →
 * assemble → detect (per trace, then per window) → recommend → store.
 * Time is injected (`clock`) so tests and detectors never read the wall clock.
 */
import type { FindingCandidate, Recommendation, RuntimeSample, SpanRecord } from '../model/index.js';
import { mergeBucketData } from './aggregate/stats.js';
import { ServiceVersions } from './aggregate/versions.js';
import { Aggregator, type AggregatorOptions, defaultAggregatorOptions } from './aggregate/window.js';
import { RecentTraces } from './assemble/recent-traces.js';
import type { AssembledTrace } from './assemble/trace.js';
import { type AssemblerOptions, TraceAssembler } from './assemble/trace-assembler.js';
import { detectors as allDetectors } from './detect/registry.js';
import { linkRelated } from './detect/related.js';
import {
  type DetectionConfig,
  type Detector,
  defaultDetectionConfig,
  type Occurrence,
} from './detect/types.js';
import { normalizeSpan } from './normalize/index.js';
import { recommend } from './recommend/index.js';
import { findingId } from './store/finding-id.js';
import type { ExampleTrace, FindingUpdate, Store } from './store/types.js';

export interface PipelineOptions {
  detection: DetectionConfig;
  /** Detection looks at the aggregates of this trailing window. */
  windowMs: number;
  /** Buckets older than this are deleted from the store. */
  retentionMs: number;
  /**
   * Per-minute buckets older than this are rolled up into hourly ones. Never less than the
   * window plus the aggregator's lateness allowance, so no minute still being written is rolled up.
   */
  rollupAfterMs: number;
  assembler: Partial<AssemblerOptions>;
  aggregator: Partial<AggregatorOptions>;
  /**
   * Most changed buckets handed to the store per detection run, oldest change first: the rest
   * wait for the next run, and a bucket changed again meanwhile is written once. Bounds the
   * ingest thread's share of store work per run; `flush` writes them all.
   */
  maxBucketWritesPerTick: number;
  detectors: readonly Detector[];
  /** Where internal errors (a detector throwing) are reported; the pipeline keeps going. */
  onError: (message: string) => void;
  /** Read-only taps on what flows through (Prometheus metrics, tests); they never change the data. */
  observers: readonly PipelineObserver[];
}

export interface PipelineObserver {
  /** A trace was assembled and inspected. */
  onTrace?(trace: AssembledTrace, occurrences: readonly Occurrence[]): void;
  /** Runtime samples arrived from an agent. */
  onRuntime?(samples: readonly RuntimeSample[]): void;
}

export const defaultPipelineOptions: PipelineOptions = {
  detection: defaultDetectionConfig,
  windowMs: 15 * 60_000,
  retentionMs: 7 * 24 * 60 * 60_000,
  rollupAfterMs: 2 * 60 * 60_000,
  assembler: {},
  aggregator: {},
  maxBucketWritesPerTick: 4_096,
  detectors: allDetectors,
  onError: (message) => console.error(`chokepoint: ${message}`),
  observers: [],
};

export interface PipelineCounters {
  spansReceived: number;
  runtimeSamplesReceived: number;
  tracesAssembled: number;
  detectionRuns: number;
  findingsUpdated: number;
}

export class Pipeline {
  readonly counters: PipelineCounters = {
    spansReceived: 0,
    runtimeSamplesReceived: 0,
    tracesAssembled: 0,
    detectionRuns: 0,
    findingsUpdated: 0,
  };
  private readonly options: PipelineOptions;
  /** The detectors that inspect each assembled trace. */
  private readonly traceDetectors: readonly Detector[];
  private readonly assembler: TraceAssembler;
  private readonly aggregator: Aggregator;
  private readonly failedDetectors = new Set<string>();
  private readonly failedRecommenders = new Set<string>();
  private readonly versions = new ServiceVersions();
  private readonly recentTraces = new RecentTraces();
  private lastPruneMs = 0;
  private rollupFailing = false;

  constructor(
    private readonly store: Store,
    options: Partial<PipelineOptions> = {},
    private readonly clock: () => number = Date.now,
  ) {
    this.options = { ...defaultPipelineOptions, ...options };
    this.traceDetectors = this.options.detectors.filter((detector) => detector.inspectTrace);
    this.assembler = new TraceAssembler(this.options.assembler);
    this.aggregator = new Aggregator({ memoryMs: this.options.windowMs, ...this.options.aggregator });
    const loadedFromMs = this.clock() - this.options.windowMs;
    // Buckets before this were not read: late data for them is merged into the stored ones.
    this.aggregator.load(this.store.readBuckets({ fromMs: loadedFromMs }), loadedFromMs);
  }

  /** Spans in from the receiver: normalised and held until their trace is complete. */
  ingest(spans: SpanRecord[]): void {
    this.counters.spansReceived += spans.length;
    const now = this.clock();
    const released = this.assembler.add(spans.map(normalizeSpan), now);
    for (const trace of released) this.process(trace, now);
  }

  /** Runtime samples in from agents (event loop, GC, memory, CPU). */
  ingestRuntime(samples: RuntimeSample[]): void {
    this.counters.runtimeSamplesReceived += samples.length;
    for (const sample of samples) this.versions.note(sample.service, sample.serviceVersion);
    this.aggregator.recordRuntime(samples, this.clock());
    for (const observer of this.options.observers) this.notify(() => observer.onRuntime?.(samples));
  }

  /** Periodic step: completes ready traces, runs window detection, persists. */
  tick(): void {
    const now = this.clock();
    for (const trace of this.assembler.drainReady(now)) this.process(trace, now);
    this.detectAndStore(now, this.options.maxBucketWritesPerTick);
  }

  /** Completes every pending trace now, then detects and persists (shutdown, tests). */
  flush(): void {
    const now = this.clock();
    for (const trace of this.assembler.drainAll()) this.process(trace, now);
    this.detectAndStore(now, Number.POSITIVE_INFINITY);
  }

  get pendingTraces(): number {
    return this.assembler.size;
  }

  private process(trace: AssembledTrace, now: number): void {
    this.counters.tracesAssembled += 1;
    for (const operation of trace.operations) this.versions.note(operation.service, operation.serviceVersion);
    // Per trace, so without a closure per detector (as `guard` takes) or a spread of what each found.
    const occurrences: Occurrence[] = [];
    for (const detector of this.traceDetectors) {
      try {
        const found = detector.inspectTrace?.(trace, this.options.detection);
        if (found) for (const occurrence of found) occurrences.push(occurrence);
      } catch (error) {
        this.detectorFailed(detector, error);
      }
    }
    this.aggregator.record(trace, occurrences, now);
    this.recentTraces.remember(trace);
    for (const observer of this.options.observers) {
      if (observer.onTrace) this.notify(() => observer.onTrace?.(trace, occurrences));
    }
  }

  /** An observer's failure is reported and never stops the pipeline. */
  private notify(run: () => void): void {
    try {
      run();
    } catch (error) {
      this.options.onError(`pipeline observer failed: ${(error as Error).message}`);
    }
  }

  private detectAndStore(now: number, maxBucketWrites: number): void {
    this.counters.detectionRuns += 1;
    const window = this.aggregator.view(now - this.options.windowMs, now + 1);
    const candidates = this.options.detectors.flatMap(
      (detector) => this.guard(detector, () => detector.detect(window, this.options.detection, now)) ?? [],
    );
    const updates: FindingUpdate[] = linkRelated(candidates, findingId).map((candidate) => {
      const serviceVersion = this.versions.of(candidate.service);
      // Copied, then added to: a spread with a field after it takes V8's slow path, per finding and run.
      const update = Object.assign({}, candidate) as FindingUpdate;
      update.recommendation = this.recommend(candidate);
      if (serviceVersion !== undefined) update.serviceVersion = serviceVersion;
      return update;
    });
    this.store.upsertFindings(updates, now);
    this.store.saveExampleTraces(this.newExampleTraces(updates), now);
    this.store.updateLifecycle(now);
    this.store.writeBuckets(this.aggregator.takeDirty(maxBucketWrites), mergeBucketData);
    this.rollUp(now);
    this.counters.findingsUpdated += updates.length;
    if (now - this.lastPruneMs >= 60_000) {
      this.lastPruneMs = now;
      this.aggregator.prune(now);
      this.store.pruneBuckets(now - this.options.retentionMs);
    }
  }

  /** The example requests findings name that are still in memory and not stored yet. */
  private newExampleTraces(updates: FindingUpdate[]): ExampleTrace[] {
    const traces = new Map<string, ExampleTrace>();
    for (const { evidence } of updates) {
      const traceId = evidence.exampleTraceId;
      if (typeof traceId !== 'string' || traces.has(traceId)) continue;
      // Memory first: most examples left it long ago, and asking the store is a query each.
      const operations = this.recentTraces.get(traceId);
      if (operations && !this.store.hasExampleTrace(traceId)) traces.set(traceId, { traceId, operations });
    }
    return [...traces.values()];
  }

  /** A recommender that throws must not lose the finding: it keeps a generic fix and is reported once. */
  private recommend(candidate: FindingCandidate): Recommendation {
    try {
      return recommend(candidate);
    } catch (error) {
      if (!this.failedRecommenders.has(candidate.kind)) {
        this.failedRecommenders.add(candidate.kind);
        this.options.onError(`recommender for ${candidate.kind} failed: ${(error as Error).stack ?? error}`);
      }
      return {
        summary: 'See the evidence for what to change',
        detail: 'No specific advice could be built for this finding.',
      };
    }
  }

  /**
   * Rolls minute buckets up into hours, a little on every run so that no run holds the
   * thread long. A failure (a busy or full disk) is reported once until a roll-up succeeds
   * again; the minutes stay and are rolled up later.
   */
  private rollUp(now: number): void {
    try {
      this.store.rollUpBuckets(now - this.rollupAfterMs(), mergeBucketData);
      this.rollupFailing = false;
    } catch (error) {
      if (!this.rollupFailing) this.options.onError(`roll-up failed: ${(error as Error).message}`);
      this.rollupFailing = true;
    }
  }

  private rollupAfterMs(): number {
    const lateness = this.options.aggregator.maxLatenessMs ?? defaultAggregatorOptions.maxLatenessMs;
    return Math.max(this.options.rollupAfterMs, this.options.windowMs + lateness + 60_000);
  }

  /** A failing detector is reported once and skipped for that call; the others still run. */
  private guard<T>(detector: Detector, run: () => T): T | undefined {
    try {
      return run();
    } catch (error) {
      this.detectorFailed(detector, error);
      return undefined;
    }
  }

  private detectorFailed(detector: Detector, error: unknown): void {
    if (this.failedDetectors.has(detector.kind)) return;
    this.failedDetectors.add(detector.kind);
    this.options.onError(`detector ${detector.kind} failed: ${(error as Error).stack ?? error}`);
  }
}
