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

/** A key's total and value, which a caller can hold and add to without looking the key up again. */
export interface TopEntry<T> {
  readonly key: string;
  readonly value: T;
  total: number;
  /** In the top. */
  member: boolean;
  /** Held among the tracked keys; once forgotten, the next amount starts its total again. */
  tracked: boolean;
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
 * // Or, for a key added to often: hold its entry.
 * const entry = top.entry(fingerprintId, info);
 * top.addTo(entry, durationMs);
 */
export class TopKeys<T> {
  private readonly tracked = new Map<string, TopEntry<T>>();
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
    return this.addTo(this.entry(key, value), amount);
  }

  /** The entry of `key` while it is tracked, else a new one (tracked from its first {@link addTo}). */
  entry(key: string, value: T): TopEntry<T> {
    return this.tracked.get(key) ?? { key, value, total: 0, member: false, tracked: false };
  }

  /** {@link add} to an entry held from {@link entry}: the latest one for its key. */
  addTo(entry: TopEntry<T>, amount: number): boolean {
    if (entry.tracked) entry.total += amount;
    else {
      entry.total = amount;
      entry.tracked = true;
      this.tracked.set(entry.key, entry);
    }
    if (entry.member) return true;
    if (this.members.size < this.limit) {
      this.members.add(entry.key);
      entry.member = true;
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
    const entryOf = (key: string) => this.tracked.get(key) as TopEntry<T>;
    for (const key of demoted) {
      this.members.delete(key);
      entryOf(key).member = false;
    }
    for (const key of promoted) {
      this.members.add(key);
      entryOf(key).member = true;
    }
    const valueFor = (key: string) => entryOf(key).value;
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
    for (const entry of this.tracked.values()) {
      if (entry.total > threshold) continue;
      if (entry.total === threshold && ties > 0) ties -= 1;
      else if (!entry.member) this.forget(entry);
    }
  }

  private forget(entry: TopEntry<T>): void {
    this.tracked.delete(entry.key);
    entry.tracked = false;
  }

  /** Forgets all but the `count` highest totals (members are always kept); returns the kept keys, highest first. */
  private keepHighest(count: number): string[] {
    const ranked = [...this.tracked.values()].sort((a, b) => b.total - a.total);
    for (const entry of ranked.slice(count)) if (!entry.member) this.forget(entry);
    return ranked.filter((entry) => entry.tracked).map((entry) => entry.key);
  }
}
