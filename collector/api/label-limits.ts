/**
 * Bounds on Prometheus label values built from traffic (routes, key patterns, queues,
 * query fingerprints). Every label value is a series held in the collector's memory and
 * in Prometheus' index for as long as it is scraped, so each set is capped and its long
 * tail folded into one `other` value.
 */

/** The label value the long tail is folded into. */
export const OTHER = 'other';

/**
 * First come, first kept: the first `limit` keys keep their own series, later ones are
 * told to fold into {@link OTHER}. A kept key stays kept, so every series is monotonic.
 *
 * @example
 * const routes = new LabelCap(2);
 * routes.admits('GET /a'); // true
 * routes.admits('GET /b'); // true
 * routes.admits('GET /c'); // false: count it under route="other"
 */
export class LabelCap {
  private readonly kept = new Set<string>();

  constructor(private readonly limit: number) {}

  admits(key: string): boolean {
    if (this.kept.has(key)) return true;
    if (this.kept.size >= this.limit) return false;
    this.kept.add(key);
    return true;
  }
}

export interface RankChange<T> {
  /** Values of the keys that joined the top: their series start now. */
  promoted: T[];
  /** Values of the keys that left it: their series are removed, their new amounts go to `other`. */
  demoted: T[];
}

/**
 * The `limit` keys with the most recent total (time spent, say), each total halving every
 * `halfLifeMs` so that a query heavy yesterday gives its place to one heavy now. While the
 * top has room a new key joins at once; after that membership changes only in
 * {@link TopKeys.rerank}, which the caller runs on a slow period so series do not flap.
 * Each key carries a value (what its series are labelled with). Memory is bounded: at most
 * `10 × limit` (and at least 1 000) keys are tracked between re-rankings, twice that at peak.
 *
 * @example
 * const top = new TopKeys<Info>(100, 30 * 60_000, Date.now());
 * const label = top.add(fingerprintId, durationMs, info) ? fingerprintId : OTHER;
 * const { promoted, demoted } = top.rerank(Date.now());
 */
export class TopKeys<T> {
  private readonly tracked = new Map<string, { total: number; value: T }>();
  private readonly members = new Set<string>();
  private readonly trackLimit: number;
  private decayedAtMs: number;

  constructor(
    private readonly limit: number,
    private readonly halfLifeMs: number,
    nowMs: number,
  ) {
    this.trackLimit = Math.max(limit * 10, 1_000);
    this.decayedAtMs = nowMs;
  }

  has(key: string): boolean {
    return this.members.has(key);
  }

  /** How many keys are in the top: it grows as keys join while there is room. */
  get memberCount(): number {
    return this.members.size;
  }

  /** How many keys have a total held: at most twice the tracking limit. */
  get trackedCount(): number {
    return this.tracked.size;
  }

  /** Adds to a key's total (first `value` kept); true when the key is in the top, joining it if there is room. */
  add(key: string, amount: number, value: T): boolean {
    const entry = this.tracked.get(key);
    if (entry) entry.total += amount;
    else this.tracked.set(key, { total: amount, value });
    if (this.members.has(key)) return true;
    if (this.members.size < this.limit) {
      this.members.add(key);
      return true;
    }
    if (this.tracked.size > 2 * this.trackLimit) this.trim(this.trackLimit);
    return false;
  }

  /** Decays the totals to `nowMs` and makes the `limit` highest the top. */
  rerank(nowMs: number): RankChange<T> {
    const factor = 0.5 ** (Math.max(0, nowMs - this.decayedAtMs) / this.halfLifeMs);
    this.decayedAtMs = nowMs;
    for (const entry of this.tracked.values()) entry.total *= factor;
    const top = new Set(this.keepHighest(this.trackLimit).slice(0, this.limit));
    const demoted = [...this.members].filter((key) => !top.has(key));
    const promoted = [...top].filter((key) => !this.members.has(key));
    for (const key of demoted) this.members.delete(key);
    for (const key of promoted) this.members.add(key);
    const valueFor = (key: string) => (this.tracked.get(key) as { value: T }).value;
    return { promoted: promoted.map(valueFor), demoted: demoted.map(valueFor) };
  }

  /**
   * Forgets all but the `count` highest totals, as {@link keepHighest} does (ties kept oldest
   * first), from a threshold rather than an order: it runs between rankings, as keys arrive.
   */
  private trim(count: number): void {
    const totals = new Float64Array(this.tracked.size);
    let i = 0;
    for (const entry of this.tracked.values()) totals[i++] = entry.total;
    totals.sort();
    const threshold = totals[totals.length - count] as number;
    let ties = count;
    for (const total of totals) if (total > threshold) ties -= 1;
    for (const [key, entry] of this.tracked) {
      if (entry.total > threshold) continue;
      if (entry.total === threshold && ties > 0) ties -= 1;
      else if (!this.members.has(key)) this.tracked.delete(key);
    }
  }

  /** Forgets all but the `count` highest totals (members are always kept); returns the kept keys, highest first. */
  private keepHighest(count: number): string[] {
    const ranked = [...this.tracked.entries()].sort((a, b) => b[1].total - a[1].total).map(([key]) => key);
    for (const key of ranked.slice(count)) if (!this.members.has(key)) this.tracked.delete(key);
    return ranked.filter((key) => this.tracked.has(key));
  }
}
