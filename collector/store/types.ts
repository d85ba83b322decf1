/**
 * The storage interface: the only door to persistence. It knows findings and opaque
 * time buckets — never OTLP, spans or detectors — so another backend (a shared
 * Postgres for several collectors) can implement it later.
 */
import type {
  Finding,
  FindingCandidate,
  FindingKind,
  FindingStatus,
  Recommendation,
} from '../../model/index.js';
import type { BucketRecord } from '../aggregate/window.js';

export interface FindingUpdate extends FindingCandidate {
  recommendation: Recommendation;
}

export interface FindingFilter {
  service?: string;
  kind?: FindingKind;
  status?: FindingStatus;
}

export interface LifecycleOptions {
  /** A finding stays `new` this long after it was first seen, then becomes `ongoing`. */
  newForMs: number;
  /** A finding not seen for this long becomes `resolved`. */
  resolveAfterMs: number;
}

export interface Store {
  /** Inserts or refreshes findings seen now; resolved ones seen again become `regressed`. */
  upsertFindings(findings: FindingUpdate[], nowMs: number): void;
  /** Applies time-based transitions: new → ongoing, unseen → resolved. */
  updateLifecycle(nowMs: number): void;
  listFindings(filter?: FindingFilter): Finding[];
  getFinding(id: string): Finding | undefined;
  listServices(): string[];
  writeBuckets(records: BucketRecord[]): void;
  readBuckets(query: {
    family?: string;
    service?: string;
    key?: string;
    fromMs: number;
    toMs?: number;
  }): BucketRecord[];
  /** Deletes buckets older than `beforeMs`. */
  pruneBuckets(beforeMs: number): number;
  sizeBytes(): number;
  close(): void;
}
