import { describe, expect, it } from 'vitest';
import { connectionPoolDetector } from '../../../collector/detect/connection-pool.js';
import { defaultDetectionConfig } from '../../../collector/detect/types.js';
import { recommend } from '../../../collector/recommend/index.js';
import type { Operation } from '../../../model/index.js';
import { runDetector } from '../../support/detect-harness.js';
import {
  connectionPerRequest,
  connectsOutsideRequests,
  exhaustedPool,
  nestedConnects,
  sharedClient,
  warmPool,
} from './fixtures/pools.js';

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
    const waiting = (operations: Operation[]) =>
      runDetector(connectionPoolDetector, operations).filter((finding) => finding.key === 'postgresql');
    // 50 ms checkouts of which 45 ms open the connection: 5 ms of waiting in a 100 ms request.
    expect(waiting(nestedConnects())).toEqual([]);
    // An 85 ms checkout with the same 45 ms connect inside waited 40 ms: that counts.
    const [finding] = waiting(nestedConnects(85));
    expect(finding?.evidence).toMatchObject({ waitMsPerRequest: 40, waitShare: 0.4, requests: 30 });
  });

  it('ignores connects outside any request', () => {
    expect(runDetector(connectionPoolDetector, connectsOutsideRequests())).toEqual([]);
  });

  it('advises a pool size from Little’s law with the driver’s setting', () => {
    const [pg] = runDetector(connectionPoolDetector, exhaustedPool());
    // The average wanted with 1.5× headroom, at least the 4 wanted at the worst moment.
    const size = Math.max(4, Math.ceil(Number(pg?.evidence.connectionsWanted) * 1.5));
    expect(pg?.evidence.advisedPoolSize).toBe(size);
    // One request a second wants a fraction of a connection on average: the burst sizes the pool.
    expect(Number(pg?.evidence.connectionsWanted)).toBeLessThan(1);
    expect(size).toBe(4);
    const pgFix = recommend(pg as NonNullable<typeof pg>);
    expect(pgFix.summary).toBe(`Size the postgresql pool for ${size} connections: new Pool({ max })`);
    expect(pgFix.code).toContain(`max: ${size},`);
    expect(pgFix.detail).toContain('max_connections');
    expect(pgFix.detail).toContain('queued behind 3 statements, so at least 4 wanted one at once');

    const [mysql] = runDetector(connectionPoolDetector, exhaustedPool(60, 60, 'mysql'));
    const mysqlFix = recommend(mysql as NonNullable<typeof mysql>);
    expect(mysqlFix.summary).toContain('createPool({ connectionLimit })');
    expect(mysqlFix.code).toContain(`connectionLimit: ${size},`);
  });

  it('sets the pool size the evidence advises, not one of its own', () => {
    const [pg] = runDetector(connectionPoolDetector, exhaustedPool());
    const evidence = { ...pg?.evidence, advisedPoolSize: 17 };
    const fix = recommend({ ...(pg as NonNullable<typeof pg>), evidence });
    expect(fix.summary).toBe('Size the postgresql pool for 17 connections: new Pool({ max })');
    expect(fix.code).toContain('max: 17,');
  });
});

describe('connection_pool detector: a new connection per request', () => {
  it('fires when requests open their own connection, with the pool size from arrival rate × statement time', () => {
    const findings = runDetector(connectionPoolDetector, connectionPerRequest());
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      key: 'postgresql @opened',
      title:
        'Connection per request: requests open a new postgresql connection in 100% of requests (15 ms each)',
      evidence: {
        rule: 'new_connections',
        system: 'postgresql',
        pooled: false,
        requests: 60,
        requestsOpening: 60,
        openShare: 1,
        connectionsOpened: 60,
        openMsPerRequest: 15,
        dbMsPerRequest: 20,
        // Statements hold a fraction of a connection at once: the smallest pool worth having.
        advisedPoolSize: 2,
        routes: [{ route: 'GET /invoices/:id', requests: 60 }],
      },
    });
    // 60 connections × 15 ms over the minute of data the window holds.
    expect(findings[0]?.impact).toBeCloseTo(900, -1);
    const fix = recommend(findings[0] as NonNullable<(typeof findings)[0]>);
    expect(fix.summary).toBe(
      'Reuse postgresql connections: one pool of 2 for the process (new Pool({ max }))',
    );
    expect(fix.detail).toContain('`new Client() + connect() + end()`');
    expect(fix.code).toContain('max: 2,');
  });

  it('sizes the pool from Little’s law when traffic holds several connections at once', () => {
    // 100 requests a second with 20 ms of statements each hold 2 connections at once; × 1.5 headroom.
    const busy = runDetector(connectionPoolDetector, connectionPerRequest(6_000, 'postgresql', 10))[0];
    expect(Number(busy?.evidence.connectionsBusy)).toBeCloseTo(2, 1);
    expect(busy?.evidence.advisedPoolSize).toBe(3);
    expect(recommend(busy as NonNullable<typeof busy>).code).toContain('max: 3,');
  });

  it('names a pool that opens a connection on most checkouts as churning', () => {
    const [churn] = runDetector(connectionPoolDetector, nestedConnects()).filter(
      (finding) => finding.evidence.rule === 'new_connections',
    );
    expect(churn?.evidence).toMatchObject({ pooled: true, requestsOpening: 30, openShare: 1 });
    expect(churn?.title).toContain('the postgresql pool opens a new connection');
    expect(recommend(churn as NonNullable<typeof churn>).detail).toContain('created per request');
  });

  it('gives mysql2 its createPool settings', () => {
    const [mysql] = runDetector(connectionPoolDetector, connectionPerRequest(60, 'mysql'));
    const fix = recommend(mysql as NonNullable<typeof mysql>);
    expect(fix.summary).toContain('createPool({ connectionLimit })');
    expect(fix.code).toContain('connectionLimit: 2,');
  });

  it('advises no pool size for a Redis client opened per request: one client per process instead', () => {
    const [redis] = runDetector(connectionPoolDetector, connectionPerRequest(60, 'redis'));
    expect(redis?.evidence).toMatchObject({
      rule: 'new_connections',
      system: 'redis',
      advisedPoolSize: null,
    });
    const fix = recommend(redis as NonNullable<typeof redis>);
    expect(fix.summary).toBe('Reuse redis connections: one client per process, created at start-up');
    expect(fix.detail).not.toContain('covers that with headroom');
    expect(fix.detail).toContain('create one client when the app starts');
    expect(fix.detail).not.toContain('open one pool');
    expect(fix.code).toContain('new Redis(');
  });

  it('stays silent on a pool that opens its connections once, a shared client, and a few requests', () => {
    expect(runDetector(connectionPoolDetector, warmPool())).toEqual([]);
    expect(runDetector(connectionPoolDetector, sharedClient())).toEqual([]);
    expect(runDetector(connectionPoolDetector, connectionPerRequest(9))).toEqual([]);
  });

  it('follows the thresholds it is given', () => {
    const loose = { poolOpenShare: 0.05, poolOpenMinRequests: 4, poolMinImpact: 50 };
    expect(runDetector(connectionPoolDetector, warmPool(), loose)).toHaveLength(1);
    expect(runDetector(connectionPoolDetector, connectionPerRequest(), { poolMinImpact: 1_000 })).toEqual([]);
    expect(connectionPoolDetector.explain({ ...defaultDetectionConfig, poolOpenShare: 0.8 }).rule).toContain(
      '≥ 80% of the requests that acquire a connection open a new one',
    );
  });
});
