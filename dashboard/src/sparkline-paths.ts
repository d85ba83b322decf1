/**
 * The geometry of a sparkline: polylines on a 100 × 24 box, one per run of values between
 * gaps. Pure, so the drawing rules are tested without a browser.
 */

export const SPARKLINE_WIDTH = 100;
export const SPARKLINE_HEIGHT = 24;
const PADDING = 2;
/** Half the width of the tick that stands for a run of a single value. */
const TICK = 1.5;

/**
 * Polyline point lists for the runs of values between gaps (`null`), scaled from 0 to `max`.
 * A run of one value has no length to draw, so it becomes a short level tick.
 *
 * @example
 * sparklinePaths([1, 2, null, 2], 2) // ['0,12 33.33,2', '98.5,2 100,2']
 */
export function sparklinePaths(values: ReadonlyArray<number | null>, max: number): string[] {
  const step = values.length > 1 ? SPARKLINE_WIDTH / (values.length - 1) : 0;
  const y = (value: number) =>
    round(
      SPARKLINE_HEIGHT -
        PADDING -
        (max > 0 ? Math.min(value / max, 1) : 0) * (SPARKLINE_HEIGHT - 2 * PADDING),
    );
  const runs: Array<Array<[number, number]>> = [];
  let run: Array<[number, number]> | undefined;
  values.forEach((value, index) => {
    if (value === null || !Number.isFinite(value)) {
      run = undefined;
      return;
    }
    if (!run) {
      run = [];
      runs.push(run);
    }
    run.push([round(index * step), y(value)]);
  });
  return runs.map((points) => {
    const [only] = points;
    if (points.length === 1 && only) {
      const [x, level] = only;
      return `${round(Math.max(x - TICK, 0))},${level} ${round(Math.min(x + TICK, SPARKLINE_WIDTH))},${level}`;
    }
    return points.map(([x, level]) => `${x},${level}`).join(' ');
  });
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Fewest slots a sparkline keeps when leading empty ones are dropped. */
const MIN_SLOTS = 3;

/**
 * Where a table's sparklines start: the first slot in which any row measured anything
 * (a rate above zero, any other value), so a service that started ten minutes into an hour
 * is drawn over those ten minutes. Every row of the table starts there, keeping one time axis.
 *
 * @example
 * firstMeasuredSlot([[0, 0, 3, 4], [null, null, null, 1]]) // 1 (at least three slots are kept)
 */
export function firstMeasuredSlot(series: ReadonlyArray<ReadonlyArray<number | null>>): number {
  const length = Math.max(0, ...series.map((values) => values.length));
  let first = length;
  for (const values of series) {
    const index = values.findIndex((value) => value !== null && value !== 0 && Number.isFinite(value));
    if (index !== -1) first = Math.min(first, index);
  }
  return Math.max(0, Math.min(first, length - MIN_SLOTS));
}
