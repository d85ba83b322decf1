/**
 * A bounded, approximately least-recently-used cache for the normalise stage's hot
 * paths: the same parameterised statement arrives thousands of times, and scanning
 * it once is enough.
 *
 * Two generations of `Map` (the scheme of hashlru and quick-lru): entries go into the
 * current one; when it is full it becomes the previous one and the older is dropped
 * whole; an entry read from the previous generation moves back into the current one.
 * No deletes and no iteration: evicting one entry at a time from a single `Map`
 * leaves deleted slots that V8 must skip to find the oldest key, which made every
 * eviction cost O(size) once the cache was full.
 */

export class LruCache<K, V> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();
  private readonly generationSize: number;

  /** Holds at most `maxEntries` entries; any entry used within the last `maxEntries / 2` insertions survives. */
  constructor(maxEntries: number) {
    this.generationSize = Math.max(1, Math.floor(maxEntries / 2));
  }

  /** Entries held, counting twice a key moved to the current generation and not yet dropped from the previous one. */
  get size(): number {
    return this.current.size + this.previous.size;
  }

  get(key: K): V | undefined {
    const value = this.current.get(key);
    if (value !== undefined) return value;
    const older = this.previous.get(key);
    if (older !== undefined) this.insert(key, older);
    return older;
  }

  /**
   * The value kept for `key`, else `compute(key)`, kept. Pass a function declared once, not a
   * closure made per call: this sits on hot paths.
   *
   * @example
   * const templates = new LruCache<string, string>(10_000);
   * templates.getOrCompute('/users/42', templateOf); // '/users/{id}'
   */
  getOrCompute(key: K, compute: (key: K) => V): V {
    let value = this.get(key);
    if (value === undefined) {
      value = compute(key);
      this.insert(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    if (this.current.has(key)) this.current.set(key, value);
    else this.insert(key, value);
  }

  private insert(key: K, value: V): void {
    this.current.set(key, value);
    if (this.current.size >= this.generationSize) {
      this.previous = this.current;
      this.current = new Map();
    }
  }
}
