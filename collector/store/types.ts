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
  Operation,
  Recommendation,
} from '../../model/index.js';
import type { BucketRecord } from '../aggregate/window.js';

export interface FindingUpdate extends FindingCandidate {
  recommendation: Recommendation;
  /** The service's current version (the newest `service.version` seen), when it reports one. */
  serviceVersion?: string;
}

/** Merges the data of several buckets of one family into one (the aggregate layer knows how). */
export type MergeBuckets = (family: string, data: unknown[]) => unknown;

export interface ExampleTrace {
  traceId: string;
  operations: Operation[];
}

export interface FindingFilter {
  service?: string;
  kind?: FindingKind;
  status?: FindingStatus;
}

/** A finding's place in a list: its id and revision, and the finding itself when the reader asked for it. */
export interface FindingRevision {
  id: string;
  /** Changes with every write to the finding, through any connection. */
  revision: number;
  finding?: Finding;
}

export interface LifecycleOptions {
  /** A finding stays `new` this long after it was first seen, then becomes `ongoing`. */
  newForMs: number;
  /** A finding not seen for this long becomes `resolved`. */
  resolveAfterMs: number;
}

export interface Store {
  /**
   * Inserts or refreshes findings seen now. Resolved ones seen again become `regressed`, and
   * so do ones that got worse (impact ≥ 2×, or p95 ≥ 1.5×) since a new service version appeared.
   */
  upsertFindings(findings: FindingUpdate[], nowMs: number): void;
  /** Applies time-based transitions: new → ongoing, unseen → resolved. */
  updateLifecycle(nowMs: number): void;
  listFindings(filter?: FindingFilter): Finding[];
  /**
   * The list `listFindings(filter)` answers, in its order, as ids and revisions, with the whole
   * finding only where `isKept(id, revision)` is false: a reader that kept what it made of each
   * finding (the API's serialized list) reads and redoes only those written since. One read: the
   * order, revisions and findings are of the same moment.
   */
  listFindingRevisions(
    filter: FindingFilter,
    isKept: (id: string, revision: number) => boolean,
  ): FindingRevision[];
  /**
   * Changes whenever what `listFindings` answers may have changed: a write to findings through
   * this store, or a commit by another connection to the same database. Readers cache on it.
   */
  findingsRevision(): string;
  getFinding(id: string): Finding | undefined;
  listServices(): string[];
  /**
   * Writes buckets, each replacing the stored one, except records flagged `merge` (late data),
   * which `merge` folds into the bucket already stored.
   */
  writeBuckets(records: BucketRecord[], merge?: MergeBuckets): void;
  readBuckets(query: {
    family?: string;
    service?: string;
    key?: string;
    fromMs: number;
    toMs?: number;
  }): BucketRecord[];
  /**
   * Merges fine buckets that start before `beforeMs` into the hourly bucket of their key and
   * hour, oldest first, deleting them as it goes; stops after `budgetMs`, always having done
   * some. A synchronous store returns how many fine buckets were rolled up.
   */
  rollUpBuckets(beforeMs: number, merge: MergeBuckets, budgetMs?: number): void;
  /** Deletes buckets (fine and hourly) older than `beforeMs`; a synchronous store returns how many. */
  pruneBuckets(beforeMs: number): void;
  /** Keeps whole example requests that findings point at (operations are already scrubbed). */
  saveExampleTraces(traces: ExampleTrace[], nowMs: number): void;
  getExampleTrace(traceId: string): ExampleTrace | undefined;
  hasExampleTrace(traceId: string): boolean;
  sizeBytes(): number;
  close(): void;
}
