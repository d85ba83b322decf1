import { describe, expect, it } from 'vitest';
import { hotPathCpuDetector } from '../../../collector/detect/hot-path-cpu.js';
import { linkRelated } from '../../../collector/detect/related.js';
import { defaultDetectionConfig } from '../../../collector/detect/types.js';
import { recommend } from '../../../collector/recommend/index.js';
import type {
  CpuProfileSummary,
  FindingCandidate,
  ProfileFrame,
  ProfileFunction,
  RuntimeSample,
} from '../../../model/index.js';
import { runDetector } from '../../support/detect-harness.js';
import { idleProcess, sample } from './fixtures/runtime.js';

const STALL_LAG = { minMs: 9.8, meanMs: 10.6, p50Ms: 10.2, p90Ms: 10.5, p99Ms: 11, maxMs: 260 };

const handler: ProfileFrame = { functionName: 'handle', url: 'src/server.js', line: 20 };
const hashPassword: ProfileFrame = { functionName: 'hashPassword', url: 'src/auth.js', line: 12 };

function fn(frame: ProfileFrame, selfMs: number, callers: ProfileFrame[] = [handler]): ProfileFunction {
  return { ...frame, selfMs, totalMs: selfMs, callers };
}

/** The native work under crypto.pbkdf2Sync, called by the app's hashPassword. */
function pbkdf2(selfMs: number): ProfileFunction {
  return fn({ functionName: 'run', url: '', line: 0 }, selfMs, [
    { functionName: 'pbkdf2Sync', url: 'node:internal/crypto/pbkdf2', line: 44 },
    hashPassword,
    handler,
  ]);
}

let profilesMade = 0;

function profile(functions: ProfileFunction[], fields: Partial<CpuProfileSummary> = {}): CpuProfileSummary {
  profilesMade += 1;
  return {
    // Each profile its own start: the collector keeps one copy of a summary per start.
    startMs: 1_700_000_000_000 + profilesMade * 300_000,
    durationMs: 2000,
    samplingIntervalUs: 1000,
    stalls: 6,
    stallMs: 400,
    sampledMs: functions.reduce((sum, f) => sum + f.selfMs, 0),
    startPauseMs: 28,
    functions,
    packages: [],
    ...fields,
  };
}

/** An idle minute of samples from one instance, except two stalled intervals; the last carries the profiles. */
function stalledService(...profiles: CpuProfileSummary[]): RuntimeSample[] {
  return idleProcess().map((s, index) => {
    const stalled = index === 1 || index >= 4 ? { ...s, eventLoopLag: STALL_LAG } : s;
    const carried = profiles[index - 6 + profiles.length];
    return carried ? { ...stalled, cpuProfile: carried } : stalled;
  });
}

describe('hot_path_cpu detector', () => {
  it('names the synchronous call and the app function behind the stalls, with its share of the blocked time', () => {
    const samples = stalledService(
      profile([
        pbkdf2(900),
        fn(handler, 40),
        fn({ functionName: '(garbage collector)', url: '', line: 0 }, 60),
      ]),
      profile([pbkdf2(700), fn({ functionName: 'serialize', url: 'src/json.js', line: 3 }, 300)]),
    );
    const [finding, ...rest] = runDetector(hotPathCpuDetector, [], {}, samples);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      kind: 'hot_path_cpu',
      service: 'api',
      key: 'pbkdf2Sync node:internal/crypto/pbkdf2:44 ← hashPassword src/auth.js:12',
      title:
        'CPU hot path in api: pbkdf2Sync called from hashPassword (src/auth.js:12) holds 80% of stalled time',
      evidence: {
        functionName: 'pbkdf2Sync',
        url: 'node:internal/crypto/pbkdf2',
        line: 44,
        origin: hashPassword,
        leaf: { functionName: 'run', url: '', line: 0 },
        selfMs: 1600,
        share: 0.8,
        sampledMs: 2000,
        stalls: 12,
        profiles: 2,
        instances: ['host-a:101'],
        hotInstances: ['host-a:101'],
        gcShare: 0.03,
        maxStartPauseMs: 28,
      },
    });
    expect(
      ((finding?.evidence.hotSpots ?? []) as Array<{ functionName: string }>).map((s) => s.functionName),
    ).toEqual(['pbkdf2Sync', 'serialize', 'handle']);
    // Blocked time as event_loop_blocked estimates it (three stalled intervals whose readings ran
    // 0.6 ms late on average, each a 10 ms timer period apart) over the minute of data, times 80%.
    expect(finding?.impact).toBeCloseTo(((3 * 10_000 * 0.6) / 10.6) * 0.8, 0);
    const advice = recommend(finding as NonNullable<typeof finding>);
    expect(advice.summary).toBe('Use the asynchronous pbkdf2 instead of pbkdf2Sync in hashPassword');
    expect(advice.detail).toContain(
      'run ← pbkdf2Sync (node:internal/crypto/pbkdf2:44) ← hashPassword (src/auth.js:12)',
    );
    expect(advice.code).toContain("promisify(require('node:crypto').pbkdf2)");
  });

  it('names the app’s own CPU-bound function and recommends a worker thread or chunking', () => {
    const fib: ProfileFrame = { functionName: 'fib', url: 'src/math.js', line: 3 };
    const [finding] = runDetector(
      hotPathCpuDetector,
      [],
      {},
      stalledService(profile([fn(fib, 450), fn(handler, 50)])),
    );
    expect(finding?.key).toBe('fib src/math.js:3');
    expect(finding?.title).toBe('CPU hot path in api: fib (src/math.js:3) holds 90% of stalled time');
    expect(finding?.evidence).not.toHaveProperty('origin');
    const advice = recommend(finding as NonNullable<typeof finding>);
    expect(advice.summary).toBe('Move fib off the event loop');
    expect(advice.code).toContain("new Piscina({ filename: require.resolve('./worker.js') })");
    expect(advice.code).toContain('setImmediate');
  });

  it('stays silent without profiles, below the share, and on too few samples', () => {
    expect(runDetector(hotPathCpuDetector, [], {}, stalledService())).toEqual([]);
    const spread = Array.from({ length: 6 }, (_, i) =>
      fn({ functionName: `step${i}`, url: 'src/a.js', line: i }, 50),
    );
    expect(runDetector(hotPathCpuDetector, [], {}, stalledService(profile(spread)))).toEqual([]);
    const short = profile([fn({ functionName: 'fib', url: 'src/math.js', line: 3 }, 80)]);
    expect(runDetector(hotPathCpuDetector, [], {}, stalledService(short))).toEqual([]);
    // Garbage collection is gc_pressure's to report.
    const gc = profile([fn({ functionName: '(garbage collector)', url: '', line: 0 }, 500)]);
    expect(runDetector(hotPathCpuDetector, [], {}, stalledService(gc))).toEqual([]);
  });

  it('follows the configured thresholds', () => {
    const spread = Array.from({ length: 6 }, (_, i) =>
      fn({ functionName: `step${i}`, url: 'src/a.js', line: i }, 50),
    );
    expect(
      runDetector(hotPathCpuDetector, [], { hotPathMinShare: 0.15 }, stalledService(profile(spread))),
    ).toHaveLength(6);
    const short = profile([fn({ functionName: 'fib', url: 'src/math.js', line: 3 }, 80)]);
    expect(
      runDetector(hotPathCpuDetector, [], { hotPathMinSampledMs: 50 }, stalledService(short)),
    ).toHaveLength(1);
  });

  it('reports a package whose functions together dominate, unless one of them already does', () => {
    const lodash = (name: string, selfMs: number) =>
      fn(
        { functionName: name, url: `node_modules/lodash/${name}.js`, line: 1, package: 'lodash@4.17.21' },
        selfMs,
      );
    const steps = Array.from({ length: 4 }, (_, i) =>
      fn({ functionName: `step${i}`, url: 'src/a.js', line: i }, 50),
    );
    const spread = profile(
      [lodash('baseClone', 60), lodash('baseMerge', 50), lodash('isEqual', 50), lodash('keys', 40), ...steps],
      { packages: [{ name: 'lodash@4.17.21', selfMs: 200 }] },
    );
    const [finding, ...rest] = runDetector(hotPathCpuDetector, [], {}, stalledService(spread));
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      key: 'package lodash',
      title: 'CPU hot path in api: package lodash holds 50% of stalled time',
      evidence: { package: 'lodash', versions: ['4.17.21'], share: 0.5 },
    });
    expect(recommend(finding as NonNullable<typeof finding>).code).toContain("require('lodash')");

    const one = profile([lodash('baseClone', 300), ...steps.slice(0, 2)], {
      packages: [{ name: 'lodash@4.17.21', selfMs: 300 }],
    });
    const findings = runDetector(hotPathCpuDetector, [], {}, stalledService(one));
    expect(findings.map((f) => f.key)).toEqual([
      'baseClone node_modules/lodash/baseClone.js:1 ← handle src/server.js:20',
    ]);
  });

  it('judges a service from all its instances, and services apart', () => {
    const fib: ProfileFrame = { functionName: 'fib', url: 'src/math.js', line: 3 };
    const other = stalledService(profile([fn(fib, 300)])).map((s) => ({ ...s, instanceId: 'host-b:202' }));
    const elsewhere = stalledService(profile([fn(hashPassword, 60)])).map((s) => ({
      ...s,
      service: 'billing',
    }));
    const findings = runDetector(hotPathCpuDetector, [], {}, [
      ...stalledService(profile([fn(fib, 200), fn(handler, 100)])),
      ...other,
      ...elsewhere,
    ]);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.evidence).toMatchObject({ selfMs: 500, hotInstances: ['host-a:101', 'host-b:202'] });
  });

  it('tailors the advice to what the hot function is', () => {
    const advice = (leaf: ProfileFrame, callers: ProfileFrame[] = [handler]) => {
      const [finding] = runDetector(
        hotPathCpuDetector,
        [],
        {},
        stalledService(profile([fn(leaf, 400, callers)])),
      );
      return recommend(finding as NonNullable<typeof finding>);
    };
    const gzip = advice({ functionName: 'gzipSync', url: 'node:zlib', line: 900 });
    expect(gzip.summary).toBe('Use the asynchronous zlib.gzip (or a stream) instead of gzipSync in handle');
    expect(gzip.code).toContain("promisify(require('node:zlib').gzip)");
    const read = advice({ functionName: 'readFileSync', url: 'node:fs', line: 441 });
    expect(read.summary).toBe('Use fs/promises instead of readFileSync in handle');
    const json = advice({ functionName: 'parse', url: '', line: 0 }, [
      {
        functionName: 'parse',
        url: 'node_modules/body-parser/lib/types/json.js',
        line: 77,
        package: 'body-parser@1.20.3',
      },
      handler,
    ]);
    expect(json.summary).toBe('Stop parsing or serialising large JSON in one piece in handle');
    expect(json.code).toContain('application/x-ndjson');
    const regex = advice({ functionName: 'replace', url: '', line: 0 });
    expect(regex.summary).toBe('Check the regular expression replace runs in handle');
    expect(regex.code).toContain('re2');
  });

  it('explains its rule for /api/meta', () => {
    expect(hotPathCpuDetector.explain(defaultDetectionConfig).rule).toContain('25%+ of the CPU time sampled');
  });
});

describe('hot_path_cpu from the runtime window', () => {
  it('counts a summary once, however many samples carried it', () => {
    const once = profile([pbkdf2(300), fn(handler, 100)]);
    const samples = idleProcess().map((s, index) => (index >= 3 ? { ...s, cpuProfile: once } : s));
    const [finding] = runDetector(hotPathCpuDetector, [], {}, samples);
    expect(finding?.evidence).toMatchObject({ selfMs: 300, sampledMs: 400, profiles: 1 });
  });

  it('forgets profiles older than the window', () => {
    const old = stalledService(profile([pbkdf2(500)])).map((s) => ({ ...s, timeMs: s.timeMs - 20 * 60_000 }));
    expect(runDetector(hotPathCpuDetector, [], {}, old)).toEqual([]);
    expect(
      runDetector(hotPathCpuDetector, [], {}, [sample({ index: 5, cpuProfile: profile([pbkdf2(500)]) })]),
    ).toHaveLength(1);
  });
});

describe('hot_path_cpu related findings', () => {
  const base = { title: 't', severity: 'low', impact: 1, evidence: {} } as const;
  const found = (kind: FindingCandidate['kind'], key: string, service = 'api'): FindingCandidate => ({
    ...base,
    kind,
    key,
    service,
    title: `${kind} ${key}`,
  });
  const idOf = (kind: string, service: string, key: string) => `${kind}/${service}/${key}`;

  it('names the stall and the code holding it to each other, within a service', () => {
    const [blocked, hot, elsewhere, route] = linkRelated(
      [
        found('event_loop_blocked', 'event_loop'),
        found('hot_path_cpu', 'fib src/math.js:3'),
        found('hot_path_cpu', 'parse', 'billing'),
        { ...found('slow_endpoint', 'GET /report'), evidence: { dominant: 'ownCode' } },
      ],
      idOf,
    );
    expect(blocked?.evidence.related).toEqual([
      {
        id: 'hot_path_cpu/api/fib src/math.js:3',
        kind: 'hot_path_cpu',
        title: 'hot_path_cpu fib src/math.js:3',
        impact: 1,
      },
    ]);
    expect(hot?.evidence.related).toEqual([
      {
        id: 'event_loop_blocked/api/event_loop',
        kind: 'event_loop_blocked',
        title: 'event_loop_blocked event_loop',
        impact: 1,
      },
    ]);
    expect(elsewhere?.evidence).not.toHaveProperty('related');
    expect(((route?.evidence.related ?? []) as Array<{ kind: string }>).map((r) => r.kind)).toEqual([
      'event_loop_blocked',
      'hot_path_cpu',
    ]);
  });

  it('links a hot path inside a synchronous SQLite call to the service’s slow SQLite queries, and advises on the query', () => {
    const hotIn = (leaf: ProfileFrame): FindingCandidate => ({
      ...found('hot_path_cpu', `${leaf.functionName} ← report`),
      evidence: { functionName: 'report', url: 'src/report.js', line: 8, leaf, share: 0.9, callers: [] },
    });
    const query = (system: string, key: string, service = 'api'): FindingCandidate => ({
      ...found('slow_query', key, service),
      evidence: { system },
    });
    const candidates = [
      hotIn({ functionName: 'all', url: '', line: 0 }),
      hotIn({ functionName: 'fib', url: 'src/math.js', line: 3 }),
      query('sqlite', 'select … from orders where customer_email = ?'),
      query('postgresql', 'select … from users where id = ?'),
      query('sqlite', 'select … from carts', 'billing'),
    ];
    const [inSqlite, inOwnCode] = linkRelated(candidates, idOf);
    expect(inSqlite?.evidence.related).toEqual([
      {
        id: 'slow_query/api/select … from orders where customer_email = ?',
        kind: 'slow_query',
        title: 'slow_query select … from orders where customer_email = ?',
        impact: 1,
      },
    ]);
    expect(inOwnCode?.evidence).not.toHaveProperty('related');
    const advice = recommend(inSqlite as FindingCandidate);
    expect(advice.summary).toBe(
      'Make the SQLite query in report cheaper: better-sqlite3 runs it on the event loop',
    );
    expect(advice.detail).toContain('“slow_query select … from orders where customer_email = ?”');
    expect(recommend(inOwnCode as FindingCandidate).summary).toBe('Move report off the event loop');
  });
});
