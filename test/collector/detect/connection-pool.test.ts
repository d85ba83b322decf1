import { describe, expect, it } from 'vitest';
import { connectionPoolDetector } from '../../../collector/detect/connection-pool.js';
import { recommend } from '../../../collector/recommend/index.js';
import { runDetector } from '../../support/detect-harness.js';
import { connectsOutsideRequests, exhaustedPool, nestedConnects } from './fixtures/pools.js';

describe('connection_pool detector', () => {
  it('fires when requests spend a meaningful share of their time waiting for a connection', () => {
    const findings = runDetector(connectionPoolDetector, exhaustedPool());
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'connection_pool',
      key: 'postgresql',
      title: 'Connection pool: requests wait 60 ms for a postgresql connection (60% of their time)',
      evidence: {
        system: 'postgresql',
        requests: 60,
        waitShare: 0.6,
        waitMsPerRequest: 60,
        requestMeanMs: 100,
        dbMsPerRequest: 20,
        // 60 ms of wait is three 20 ms statements queued ahead: four requests wanted a connection at once.
        peakConnectionsWanted: 4,
        routes: [{ route: 'GET /orders', requests: 60 }],
      },
    });
    const evidence = findings[0]?.evidence ?? {};
    // Little's law: arrival rate × (wait + statement time), with the rate over the minutes the window holds.
    expect(Number(evidence.connectionsWanted)).toBeCloseTo(
      (Number(evidence.arrivalPerSecond) * 80) / 1000,
      2,
    );
    expect(Number(evidence.connectionsBusy)).toBeCloseTo((Number(evidence.arrivalPerSecond) * 20) / 1000, 2);
  });

  it('stays silent when waits are a small share of request time, or too little per minute', () => {
    // 2 ms of a 42 ms request is 5%; one request's 60 ms wait is under 100 ms in the minute.
    expect(runDetector(connectionPoolDetector, exhaustedPool(2))).toEqual([]);
    expect(runDetector(connectionPoolDetector, exhaustedPool(60, 1))).toEqual([]);
  });

  it('does not count opening a new connection inside a checkout as waiting', () => {
    // 50 ms checkouts of which 45 ms open the connection: 5 ms of waiting in a 100 ms request.
    expect(runDetector(connectionPoolDetector, nestedConnects())).toEqual([]);
    // An 85 ms checkout with the same 45 ms connect inside waited 40 ms: that counts.
    const [finding] = runDetector(connectionPoolDetector, nestedConnects(85));
    expect(finding?.evidence).toMatchObject({ waitMsPerRequest: 40, waitShare: 0.4, requests: 30 });
  });

  it('ignores connects outside any request', () => {
    expect(runDetector(connectionPoolDetector, connectsOutsideRequests())).toEqual([]);
  });

  it('recommends a pool size from Little’s law with the driver’s setting', () => {
    const [pg] = runDetector(connectionPoolDetector, exhaustedPool());
    const pgFix = recommend(pg as NonNullable<typeof pg>);
    const size = Math.max(4, Math.ceil(Number(pg?.evidence.connectionsWanted) * 1.5));
    expect(pgFix.summary).toBe(`Size the postgresql pool for ${size} connections: new Pool({ max })`);
    expect(pgFix.code).toContain(`max: ${size},`);
    expect(pgFix.detail).toContain('max_connections');
    expect(pgFix.detail).toContain('queued behind 3 statements, so at least 4 wanted one at once');

    const [mysql] = runDetector(connectionPoolDetector, exhaustedPool(60, 60, 'mysql'));
    const mysqlFix = recommend(mysql as NonNullable<typeof mysql>);
    expect(mysqlFix.summary).toContain('createPool({ connectionLimit })');
    expect(mysqlFix.code).toContain(`connectionLimit: ${size},`);
  });
});
