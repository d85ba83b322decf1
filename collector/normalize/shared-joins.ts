/**
 * Strings joined from two parts that recur in every trace (a method and a route, a system and
 * its server), handed out as the same string object each time: the maps and label counts keyed
 * by them then hash (and internalise) one string, instead of a new concatenation per trace.
 */
import { LruCache } from './lru-cache.js';

export interface SharedJoinsOptions {
  /** The part joins are grouped by: the one whose values each have a few of the other's. */
  groupBy: 'first' | 'second';
  /** Groups held (least recently used dropped first). */
  maxGroups: number;
  /** Joins held per group; beyond them a join is built afresh each time. */
  maxPerGroup: number;
  /** What stands between the parts; a space unless given. */
  separator?: string;
}

/**
 * @example
 * const labels = new SharedJoins({ groupBy: 'second', maxGroups: 10_000, maxPerGroup: 16 });
 * labels.join('GET', '/orders/:id') === labels.join('GET', '/orders/:id'); // 'GET /orders/:id', one string
 */
export class SharedJoins {
  private readonly groups: LruCache<string, Map<string, string>>;
  private readonly bySecond: boolean;
  private readonly maxPerGroup: number;
  private readonly separator: string;

  constructor({ groupBy, maxGroups, maxPerGroup, separator = ' ' }: SharedJoinsOptions) {
    this.groups = new LruCache(maxGroups);
    this.bySecond = groupBy === 'second';
    this.maxPerGroup = maxPerGroup;
    this.separator = separator;
  }

  /** `${first}${separator}${second}`, the same string as the last time this pair was joined while held. */
  join(first: string, second: string): string {
    const groupKey = this.bySecond ? second : first;
    const member = this.bySecond ? first : second;
    let group = this.groups.get(groupKey);
    const known = group?.get(member);
    if (known !== undefined) return known;
    const joined = first + this.separator + second;
    if (!group) {
      group = new Map();
      this.groups.set(groupKey, group);
    }
    if (group.size < this.maxPerGroup) group.set(member, joined);
    return joined;
  }
}
