import { describe, expect, it } from 'vitest';
import {
  evidenceEntries,
  numberField,
  placeText,
  readNPlusOneEvidence,
  readObjects,
  readPlace,
  readRelated,
  readRouteCounts,
  readSlowQueryEvidence,
  stringField,
} from '../../../dashboard/src/evidence.js';

describe('readSlowQueryEvidence', () => {
  it('reads the fields the slow_query detector writes', () => {
    const evidence = readSlowQueryEvidence({
      system: 'postgresql',
      fingerprint: 'select * from orders where id = ?',
      statementType: 'select',
      tables: ['orders'],
      count: 12,
      totalMs: 1500,
      p50Ms: 110,
      p95Ms: 140,
      p99Ms: 150,
      maxMs: 151,
      shareOfDbTime: 0.8,
      routes: [{ route: 'GET /orders/:id', count: 12 }],
      exampleTraceId: 'ab'.repeat(16),
    });
    expect(evidence).toEqual({
      system: 'postgresql',
      fingerprint: 'select * from orders where id = ?',
      statementType: 'select',
      tables: ['orders'],
      count: 12,
      totalMs: 1500,
      p50Ms: 110,
      p95Ms: 140,
      p99Ms: 150,
      maxMs: 151,
      shareOfDbTime: 0.8,
      routes: [{ route: 'GET /orders/:id', count: 12 }],
      exampleTraceId: 'ab'.repeat(16),
    });
  });

  it('drops missing and mistyped fields instead of failing', () => {
    const evidence = readSlowQueryEvidence({
      fingerprint: 42,
      tables: 'orders',
      count: '12',
      p95Ms: Number.NaN,
      routes: [{ route: '/a', count: 1 }, { route: 7, count: 1 }, null, { route: '/b' }],
    });
    expect(evidence).toEqual({
      system: undefined,
      fingerprint: undefined,
      statementType: undefined,
      tables: [],
      count: undefined,
      totalMs: undefined,
      p50Ms: undefined,
      p95Ms: undefined,
      p99Ms: undefined,
      maxMs: undefined,
      shareOfDbTime: undefined,
      routes: [{ route: '/a', count: 1 }],
      exampleTraceId: undefined,
    });
  });
});

describe('readNPlusOneEvidence', () => {
  it('reads routes counted in requests', () => {
    const evidence = readNPlusOneEvidence({
      fingerprint: 'select * from items where order_id = ?',
      routes: [{ route: 'GET /orders', requests: 3 }],
      requests: 3,
      avgRepeats: 8,
      maxRepeats: 9,
      repeatMsPerRequest: 24.5,
    });
    expect(evidence.routes).toEqual([{ route: 'GET /orders', count: 3 }]);
    expect([
      evidence.requests,
      evidence.avgRepeats,
      evidence.maxRepeats,
      evidence.repeatMsPerRequest,
    ]).toEqual([3, 8, 9, 24.5]);
  });
});

describe('evidenceEntries', () => {
  it('shows evidence of unknown kinds as text, structures as JSON', () => {
    expect(evidenceEntries({ hitRatio: 0.4, keyPattern: 'user:{id}', keys: ['a'], missing: null })).toEqual([
      ['hitRatio', '0.4'],
      ['keyPattern', 'user:{id}'],
      ['keys', '["a"]'],
      ['missing', 'null'],
    ]);
  });
});

describe('readers for the other kinds', () => {
  it('reads the findings behind a slow route, skipping malformed entries', () => {
    expect(
      readRelated({
        related: [
          { id: 'a1', kind: 'slow_query', title: 'Slow SELECT', impact: 1200 },
          { id: 'a2', kind: 'cache_hit_ratio', title: 'Cache', impact: '9' },
          'a3',
        ],
      }),
    ).toEqual([{ id: 'a1', kind: 'slow_query', title: 'Slow SELECT', impact: 1200 }]);
    expect(readRelated({})).toEqual([]);
  });

  it('reads lists of objects and routes counted either way', () => {
    expect(readObjects([{ instanceId: 'a' }, 3, null, ['b']])).toEqual([{ instanceId: 'a' }]);
    expect(readObjects('instances')).toEqual([]);
    expect(
      readRouteCounts(
        {
          routes: [
            { route: '/a', requests: 2 },
            { route: '/b', count: 1 },
          ],
        },
        'requests',
      ),
    ).toEqual([{ route: '/a', count: 2 }]);
  });

  it('reads single fields, refusing other types', () => {
    expect([
      numberField({ n: 3 }, 'n'),
      numberField({ n: '3' }, 'n'),
      numberField({ n: Number.NaN }, 'n'),
    ]).toEqual([3, undefined, undefined]);
    expect([
      stringField({ s: 'orders' }, 's'),
      stringField({ s: '' }, 's'),
      stringField({ s: 1 }, 's'),
    ]).toEqual(['orders', undefined, undefined]);
  });
});

describe('readPlace and placeText', () => {
  it('reads a place in the code and writes it for people', () => {
    const place = readPlace({ functionName: 'hashPassword', url: 'src/auth.js', line: 12, extra: 1 });
    expect(place).toEqual({ functionName: 'hashPassword', url: 'src/auth.js', line: 12 });
    expect(placeText(place ?? { functionName: '', url: '', line: 0 })).toBe('hashPassword (src/auth.js:12)');
    expect(placeText({ functionName: 'run', url: '', line: 0 })).toBe('run (native code)');
    expect(
      placeText({
        functionName: 'parse',
        url: 'node_modules/marked/lib/marked.cjs',
        line: 0,
        package: 'marked@12.0.0',
      }),
    ).toBe('parse (node_modules/marked/lib/marked.cjs) · marked@12.0.0');
  });

  it('reads nothing from what is not a place', () => {
    expect(readPlace(undefined)).toBeUndefined();
    expect(readPlace({ url: 'src/a.js' })).toBeUndefined();
    expect(readPlace({ functionName: 'f', line: '3' })).toEqual({ functionName: 'f', url: '', line: 0 });
  });
});
