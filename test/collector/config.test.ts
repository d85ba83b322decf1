import { describe, expect, it } from 'vitest';
import {
  collectorHelp,
  defaultCollectorOptions,
  parseCollectorArgs,
  UsageError,
} from '../../collector/config.js';

describe('parseCollectorArgs', () => {
  it('uses the documented defaults', () => {
    expect(parseCollectorArgs([], {})).toEqual(defaultCollectorOptions());
    expect(defaultCollectorOptions()).toMatchObject({
      host: '127.0.0.1',
      port: 7070,
      otlpPort: 4318,
      db: './chokepoint.db',
    });
  });

  it('reads CHOKEPOINT_* variables, and flags beat them', () => {
    const env = { CHOKEPOINT_PORT: '8080', CHOKEPOINT_OTLP_PORT: '0', CHOKEPOINT_SLOW_QUERY_MS: '250' };
    expect(parseCollectorArgs([], env)).toMatchObject({ port: 8080, otlpPort: 0, slowQueryMs: 250 });
    expect(parseCollectorArgs(['--port', '9090', '--n-plus-one-min=8'], env)).toMatchObject({
      port: 9090,
      nPlusOneMin: 8,
    });
  });

  it.each([
    [['--port', 'abc'], /--port="abc" is not valid: expected a number/],
    [['--port', '70000'], /expected a port from 0 to 65535/],
    [['--n-plus-one-min', '2.5'], /expected a whole number ≥ 1/],
    [['--slow-query-ms', '-1'], /expected a number > 0/],
    [['--bogus', '1'], /unknown flag --bogus/],
    [['--db'], /--db needs a value/],
    [['stray'], /unexpected argument "stray"/],
  ])('rejects %j with a clear message', (argv, message) => {
    expect(() => parseCollectorArgs(argv, {})).toThrow(UsageError);
    expect(() => parseCollectorArgs(argv, {})).toThrow(message);
  });

  it('names the variable when an environment value is bad', () => {
    expect(() => parseCollectorArgs([], { CHOKEPOINT_OTLP_PORT: 'x' })).toThrow(/CHOKEPOINT_OTLP_PORT="x"/);
  });

  it('lists every flag with its variable in --help', () => {
    const help = collectorHelp();
    for (const flag of ['--port', '--otlp-port', '--db', '--slow-query-ms', '--n-plus-one-min'])
      expect(help).toContain(flag);
    expect(help).toContain('CHOKEPOINT_OTLP_PORT');
  });

  it('sets the playbook thresholds in the detection config, flag over variable', () => {
    const env = { CHOKEPOINT_POOL_WAIT_SHARE: '0.2', CHOKEPOINT_DEPENDENCY_HANG_MS: '5000' };
    expect(
      parseCollectorArgs(['--dependency-error-rate=0.1', '--pool-wait-share', '0.3'], env).detection,
    ).toEqual({
      poolWaitShare: 0.3,
      dependencyHangMs: 5_000,
      dependencyErrorRate: 0.1,
    });
    expect(() => parseCollectorArgs(['--static-min-share', '5'], {})).toThrow(
      /--static-min-share="5" is not valid: expected a share above 0 and at most 1/,
    );
    expect(collectorHelp()).toMatch(
      /--pool-open-share <n>.*\(default 0\.5; env CHOKEPOINT_POOL_OPEN_SHARE\)/,
    );
  });
});
