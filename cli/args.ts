/**
 * Flags of the `report` and `check` commands, declared in one table per command so that
 * parsing, error messages and `--help` agree: `--name value`, `--name=value`, switches,
 * and flags that may repeat. Anything unexpected is a {@link UsageError} naming it.
 *
 * @example
 * const flags = parseFlags(['--format', 'json'], { format: { type: 'value', help: 'output format' } });
 * flags.value('format'); // 'json'
 */
import { UsageError } from '../collector/config.js';

export { UsageError };

export interface FlagSpec {
  /** `value` takes one value (the last one given wins), `list` may repeat, `switch` takes none. */
  type: 'value' | 'list' | 'switch';
  /** What the value is, for `--help` (`file`, `ms`, …). */
  placeholder?: string;
  help: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export class Flags {
  constructor(private readonly given: ReadonlyMap<string, readonly string[]>) {}

  /** The last value given for a `value` flag. */
  value(name: string): string | undefined {
    return this.given.get(name)?.at(-1);
  }

  /** Every value given for a `list` flag, in order. */
  list(name: string): string[] {
    return [...(this.given.get(name) ?? [])];
  }

  has(name: string): boolean {
    return this.given.has(name);
  }
}

/**
 * Parses `argv` against `specs`; `-h` means `--help`.
 *
 * @example
 * parseFlags(['--ignore', 'a', '--ignore=b'], { ignore: { type: 'list', help: '' } }).list('ignore'); // ['a', 'b']
 */
export function parseFlags(argv: readonly string[], specs: FlagSpecs): Flags {
  const given = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-h' && specs.help) {
      given.set('help', []);
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const at = arg.indexOf('=');
    const name = at < 0 ? arg.slice(2) : arg.slice(2, at);
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown flag --${name} (see --help)`);
    if (spec.type === 'switch') {
      if (at >= 0) throw new UsageError(`--${name} takes no value`);
      given.set(name, []);
      continue;
    }
    const value = at < 0 ? argv[++i] : arg.slice(at + 1);
    if (value === undefined || (at < 0 && value.startsWith('--'))) {
      throw new UsageError(`--${name} needs a value`);
    }
    given.set(name, [...(given.get(name) ?? []), value]);
  }
  return new Flags(given);
}

/** The flags part of `--help`, one aligned line per flag. */
export function flagsHelp(specs: FlagSpecs): string {
  return Object.entries(specs)
    .map(([name, spec]) => {
      const left = `  --${name}${spec.type === 'switch' ? '' : ` <${spec.placeholder ?? 'value'}>`}`;
      return `${left.padEnd(32)}${spec.help}${spec.type === 'list' ? ' (repeatable)' : ''}`;
    })
    .join('\n');
}

export interface NumberBounds {
  /** Smallest value allowed (inclusive). */
  min?: number;
  /** Largest value allowed (inclusive). */
  max?: number;
  /** Values must be greater than this (exclusive). */
  above?: number;
  integer?: boolean;
}

/**
 * `raw` as a number within `bounds`, or a UsageError that names `source` and what was expected.
 *
 * @example
 * parseNumber('0.8', '--min-cache-hit-ratio', { min: 0, max: 1 }); // 0.8
 */
export function parseNumber(raw: string, source: string, bounds: NumberBounds = {}): number {
  const value = Number(raw);
  const expected = [
    bounds.integer ? 'a whole number' : 'a number',
    bounds.above !== undefined ? `> ${bounds.above}` : undefined,
    bounds.min !== undefined ? `≥ ${bounds.min}` : undefined,
    bounds.max !== undefined ? `≤ ${bounds.max}` : undefined,
  ]
    .filter(Boolean)
    .join(' ');
  const valid =
    raw.trim() !== '' &&
    Number.isFinite(value) &&
    (!bounds.integer || Number.isInteger(value)) &&
    (bounds.above === undefined || value > bounds.above) &&
    (bounds.min === undefined || value >= bounds.min) &&
    (bounds.max === undefined || value <= bounds.max);
  if (!valid) throw new UsageError(`${source}=${JSON.stringify(raw)} is not valid: expected ${expected}`);
  return value;
}

const DURATION_UNITS_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 60 * 60_000,
  d: 24 * 60 * 60_000,
  w: 7 * 24 * 60 * 60_000,
};

/**
 * A duration such as `90s`, `15m`, `1h`, `7d` or `2w`, in milliseconds. A bare number is refused:
 * minutes or hours would be a guess.
 *
 * @example
 * parseDuration('1h', '--since'); // 3_600_000
 */
export function parseDuration(raw: string, source: string): number {
  const match = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(raw.trim());
  const amount = Number(match?.[1]);
  if (!match || !(amount > 0)) {
    throw new UsageError(
      `${source}=${JSON.stringify(raw)} is not valid: expected a duration like 30m, 1h or 7d`,
    );
  }
  return amount * (DURATION_UNITS_MS[match[2] as string] as number);
}

/**
 * `raw` if it is one of `values`, else a UsageError listing them.
 *
 * @example
 * parseChoice('json', '--format', ['text', 'json', 'markdown'] as const); // 'json'
 */
export function parseChoice<T extends string>(raw: string, source: string, values: readonly T[]): T {
  const choice = values.find((value) => value === raw);
  if (choice === undefined) {
    throw new UsageError(`${source}=${JSON.stringify(raw)} is not valid: expected ${values.join(', ')}`);
  }
  return choice;
}
