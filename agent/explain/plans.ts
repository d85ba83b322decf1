/**
 * The agent's memory of plans, by statement key: when each was last asked for, and the
 * plan waiting to ride on the next span of its statement. Bounded: the least recently
 * used key goes first. Plans are asked for at most once per key per interval, and at most
 * `perMinute` times a minute in all (a sliding window of start times).
 */
import type { CapturedPlan, ExplainSettings } from './types.js';

interface Entry {
  /** When a plan was last asked for (or the statement found unplannable), epoch ms. */
  askedAt: number;
  /** A plan not yet attached to a span. */
  pending?: CapturedPlan;
}

export class PlanBook {
  private readonly entries = new Map<string, Entry>();
  private readonly starts: number[] = [];
  /** Entries holding a plan not yet attached: while 0, spans need no key. */
  pendingCount = 0;

  constructor(
    private readonly settings: Pick<ExplainSettings, 'intervalMs' | 'perMinute' | 'maxFingerprints'>,
  ) {}

  /**
   * Whether `key` may be planned now; if so, the ask is recorded.
   *
   * @example
   * if (book.ask(key, Date.now())) void runExplain();
   */
  ask(key: string, now: number): boolean {
    const entry = this.entries.get(key);
    if (entry !== undefined && now - entry.askedAt < this.settings.intervalMs) return false;
    while (this.starts.length > 0 && now - (this.starts[0] ?? 0) >= 60_000) this.starts.shift();
    if (this.starts.length >= this.settings.perMinute) return false;
    this.starts.push(now);
    this.touch(key, { ...entry, askedAt: now });
    return true;
  }

  /** Remembers that `key` is not to be planned, for an interval, without using the rate. */
  refuse(key: string, now: number): void {
    const entry = this.entries.get(key);
    if (entry === undefined || now - entry.askedAt >= this.settings.intervalMs) {
      this.touch(key, { ...entry, askedAt: now });
    }
  }

  /** Whether `key` was asked for or refused within the interval. */
  isRecent(key: string, now: number): boolean {
    const entry = this.entries.get(key);
    return entry !== undefined && now - entry.askedAt < this.settings.intervalMs;
  }

  /** Keeps a fresh plan for the next span of `key`. */
  store(key: string, plan: CapturedPlan): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    if (entry.pending === undefined) this.pendingCount++;
    entry.pending = plan;
  }

  /** The plan waiting for `key`, handed over once. */
  take(key: string): CapturedPlan | undefined {
    const entry = this.entries.get(key);
    const plan = entry?.pending;
    if (entry === undefined || plan === undefined) return undefined;
    entry.pending = undefined;
    this.pendingCount--;
    return plan;
  }

  private touch(key: string, entry: Entry): void {
    const previous = this.entries.get(key);
    if (previous !== undefined) {
      this.entries.delete(key);
    } else if (this.entries.size >= this.settings.maxFingerprints) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) {
        if (this.entries.get(oldest)?.pending !== undefined) this.pendingCount--;
        this.entries.delete(oldest);
      }
    }
    this.entries.set(key, entry);
  }
}
