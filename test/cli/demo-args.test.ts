/** `chokepoint demo`'s flags: its own, with help, and a clear refusal of anything else. */
import { describe, expect, it } from 'vitest';
import { parseDemoArgs } from '../../cli/demo.js';
import { runCli } from './run-cli.js';

describe('parseDemoArgs', () => {
  it('defaults to the usual ports, a temporary database and load until Ctrl-C', () => {
    expect(parseDemoArgs([], {})).toEqual({
      port: 7070,
      otlpPort: 4318,
      db: undefined,
      durationMs: undefined,
    });
  });

  it('takes flags over the environment', () => {
    const env = { CHOKEPOINT_PORT: '9000', CHOKEPOINT_OTLP_PORT: '9001', CHOKEPOINT_DB: '/tmp/env.db' };
    expect(parseDemoArgs([], env)).toEqual({
      port: 9000,
      otlpPort: 9001,
      db: '/tmp/env.db',
      durationMs: undefined,
    });
    expect(
      parseDemoArgs(['--port', '0', '--otlp-port=0', '--db', 'keep.db', '--duration', '90s'], env),
    ).toEqual({ port: 0, otlpPort: 0, db: 'keep.db', durationMs: 90_000 });
  });

  it.each([
    [['--token', 'secret'], 'unknown flag --token (see --help)'],
    [['--port', '70000'], '--port="70000" is not valid: expected a whole number ≥ 0 ≤ 65535'],
    [['--duration', '10'], '--duration="10" is not valid: expected a duration like 30m, 1h or 7d'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseDemoArgs(argv, {})).toThrow(message);
  });

  it('names the variable when the environment holds a bad port', () => {
    expect(() => parseDemoArgs([], { CHOKEPOINT_PORT: 'http' })).toThrow(
      'CHOKEPOINT_PORT="http" is not valid',
    );
  });
});

describe('chokepoint demo (CLI)', () => {
  it('prints its own help', async () => {
    const run = await runCli(['demo', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: chokepoint demo \[flags\]/);
    expect(run.stdout).toContain('--duration <time>');
  });

  it('refuses a flag it does not take, exit code 2, pointing at its help', async () => {
    const run = await runCli(['demo', '--max-body', '1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'chokepoint: unknown flag --max-body (see --help)\nRun `chokepoint demo --help` for usage.\n',
    );
  });
});
