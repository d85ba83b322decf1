/** The flag parser and value converters shared by `report` and `check`. */
import { describe, expect, it } from 'vitest';
import {
  type FlagSpecs,
  flagsHelp,
  parseChoice,
  parseDuration,
  parseFlags,
  parseNumber,
  UsageError,
} from '../../cli/args.js';

const SPECS: FlagSpecs = {
  db: { type: 'value', placeholder: 'file', help: 'database' },
  ignore: { type: 'list', help: 'leave out' },
  help: { type: 'switch', help: 'show help' },
};

describe('parseFlags', () => {
  it('reads values spaced or inline (the last wins), repeated lists in order, and switches', () => {
    const flags = parseFlags(['--db', 'a.db', '--ignore=x', '--db=b.db', '--ignore', 'y=z', '-h'], SPECS);
    expect(flags.value('db')).toBe('b.db');
    expect(flags.list('ignore')).toEqual(['x', 'y=z']);
    expect(flags.has('help')).toBe(true);
    expect(flags.value('missing')).toBeUndefined();
    expect(flags.list('missing')).toEqual([]);
  });

  it.each([
    [['--nope'], 'unknown flag --nope (see --help)'],
    [['stray'], 'unexpected argument "stray"'],
    [['--db'], '--db needs a value'],
    [['--db', '--help'], '--db needs a value'],
    [['--help=yes'], '--help takes no value'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseFlags(argv, SPECS)).toThrow(UsageError);
    expect(() => parseFlags(argv, SPECS)).toThrow(message);
  });

  it('lists every flag in --help with its placeholder', () => {
    expect(flagsHelp(SPECS).split('\n')).toEqual([
      expect.stringMatching(/^ {2}--db <file> +database$/),
      expect.stringMatching(/^ {2}--ignore <value> +leave out \(repeatable\)$/),
      expect.stringMatching(/^ {2}--help +show help$/),
    ]);
  });
});

describe('value converters', () => {
  it('parses durations with a unit and refuses bare numbers', () => {
    expect(parseDuration('90s', '--since')).toBe(90_000);
    expect(parseDuration('15m', '--since')).toBe(15 * 60_000);
    expect(parseDuration('1.5h', '--since')).toBe(90 * 60_000);
    expect(parseDuration('7d', '--since')).toBe(7 * 24 * 60 * 60_000);
    expect(parseDuration('2w', '--since')).toBe(14 * 24 * 60 * 60_000);
    for (const raw of ['5', '0h', '-1h', '1y', 'h']) {
      expect(() => parseDuration(raw, '--since')).toThrow(`--since=${JSON.stringify(raw)} is not valid`);
    }
  });

  it('checks numbers against their bounds, saying what was expected', () => {
    expect(parseNumber('3', '--n', { integer: true, min: 1 })).toBe(3);
    expect(parseNumber('0', '--lag', { min: 0 })).toBe(0);
    expect(() => parseNumber('0', '--ms', { above: 0 })).toThrow(
      '--ms="0" is not valid: expected a number > 0',
    );
    expect(() => parseNumber('1.5', '--n', { integer: true })).toThrow('expected a whole number');
    expect(() => parseNumber('', '--n')).toThrow('expected a number');
    expect(() => parseNumber('Infinity', '--n')).toThrow('expected a number');
  });

  it('accepts only listed choices', () => {
    expect(parseChoice('json', '--format', ['text', 'json'] as const)).toBe('json');
    expect(() => parseChoice('xml', '--format', ['text', 'json'])).toThrow('expected text, json');
  });
});
