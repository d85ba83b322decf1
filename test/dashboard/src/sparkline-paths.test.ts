import { describe, expect, it } from 'vitest';
import { firstMeasuredSlot, sparklinePaths } from '../../../dashboard/src/sparkline-paths.js';

describe('sparklinePaths', () => {
  it('draws each run between gaps on a 100 × 24 box, zero at the bottom and the maximum at the top', () => {
    expect(sparklinePaths([0, 5, 10], 10)).toEqual(['0,22 50,12 100,2']);
    expect(sparklinePaths([1, 2, null, 2], 2)).toEqual(['0,12 33.33,2', '98.5,2 100,2']);
  });

  it('widens a lone value into a level tick, kept inside the box', () => {
    expect(sparklinePaths([null, 4, null], 4)).toEqual(['48.5,2 51.5,2']);
    expect(sparklinePaths([7], 7)).toEqual(['0,2 1.5,2']);
  });

  it('draws nothing without values, and a flat line along the bottom for all zeros', () => {
    expect(sparklinePaths([null, null], 0)).toEqual([]);
    expect(sparklinePaths([0, 0], 0)).toEqual(['0,22 100,22']);
  });

  it('clamps values above the given maximum to the top', () => {
    expect(sparklinePaths([20, 10], 10)).toEqual(['0,2 100,2']);
  });
});

describe('firstMeasuredSlot', () => {
  it('starts where any row first measured something, zero rates not counting', () => {
    expect(
      firstMeasuredSlot([
        [0, 0, 0, 0, 3, 4, 5, 6],
        [null, null, 2, null, null, null, null, null],
      ]),
    ).toBe(2);
  });

  it('keeps at least three slots, and everything when nothing was measured', () => {
    expect(firstMeasuredSlot([[null, null, null, null, 5]])).toBe(2);
    expect(firstMeasuredSlot([[0, 0, 0, 0]])).toBe(1);
    expect(firstMeasuredSlot([])).toBe(0);
    expect(firstMeasuredSlot([[1, 2]])).toBe(0);
  });
});
