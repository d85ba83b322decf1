import { describe, expect, it } from 'vitest';
import { SharedJoins } from '../../../collector/normalize/shared-joins.js';

describe('SharedJoins', () => {
  for (const groupBy of ['first', 'second'] as const) {
    it(`joins every pair right, grouped by the ${groupBy} part, past its group and per-group bounds`, () => {
      const joins = new SharedJoins({ groupBy, maxGroups: 4, maxPerGroup: 3 });
      // 10 × 10 pairs, twice, in both orders: the second pass reads held joins, builds the rest afresh.
      for (const pass of [0, 1]) {
        for (let a = 0; a < 10; a++) {
          for (let b = 0; b < 10; b++) {
            const [first, second] = pass === 0 ? [`f${a}`, `s${b}`] : [`f${9 - a}`, `s${9 - b}`];
            expect(joins.join(first, second)).toBe(`${first} ${second}`);
          }
        }
      }
    });
  }

  it('joins with the separator it was given', () => {
    const joins = new SharedJoins({ groupBy: 'second', maxGroups: 4, maxPerGroup: 3, separator: ':' });
    expect(joins.join('n_plus_one', 'select ?')).toBe('n_plus_one:select ?');
    expect(joins.join('n_plus_one', 'select ?')).toBe('n_plus_one:select ?');
  });
});
