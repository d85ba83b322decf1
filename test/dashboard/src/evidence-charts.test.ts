import { describe, expect, it } from 'vitest';
import {
  connectionPoolCharts,
  dependencyCharts,
  hotPathCharts,
  offloadCharts,
  staticAssetsCharts,
} from '../../../dashboard/src/evidence-charts.js';
import type { Evidence } from '../../../model/finding.js';

/** Charts drawn from `evidence`, as `summary` gives them. */
interface Case {
  does: string;
  evidence: Evidence;
  charts: string[];
}

/** Each chart as `title: label value …`, emphasised bars starred. */
const summary = (charts: ReturnType<typeof connectionPoolCharts>) =>
  charts.map(
    (chart) =>
      `${chart.layout} ${chart.unit} ${chart.title}: ${chart.bars
        .map((bar) => `${bar.label} ${bar.value}${bar.emphasis ? '*' : ''}`)
        .join(', ')}`,
  );

describe('connectionPoolCharts', () => {
  it.each<Case>([
    {
      does: 'splits a request’s time around the wait and sets the pool size advised beside the concurrency',
      evidence: {
        waitMsPerRequest: 60,
        dbMsPerRequest: 20,
        requestMeanMs: 100,
        connectionsBusy: 1.2,
        connectionsWanted: 4.8,
        peakConnectionsWanted: 8,
        advisedPoolSize: 9,
      },
      charts: [
        'parts ms A request’s time, on average: waiting for a connection 60*, running statements 20, everything else 20',
        'bars count Connections at once: held (average) 1.2, wanted (average) 4.8, wanted (peak) 8, pool size advised 9*',
      ],
    },
    {
      does: 'splits the time of requests that open their own connection around the opening',
      evidence: {
        rule: 'new_connections',
        openMsPerRequest: 25,
        dbMsPerRequest: 10,
        requestMeanMs: 45,
        connectionsBusy: 0.4,
        advisedPoolSize: 2,
      },
      charts: [
        'parts ms A request’s time, on average: opening a connection 25*, running statements 10, everything else 10',
        'bars count Connections at once: held (average) 0.4, pool size advised 2*',
      ],
    },
  ])('$does', ({ evidence, charts }) => {
    expect(summary(connectionPoolCharts(evidence))).toEqual(charts);
  });

  it('sets no pool size beside the connections of a client that needs no pool', () => {
    const charts = connectionPoolCharts({
      rule: 'new_connections',
      connectionsBusy: 3,
      advisedPoolSize: null,
    });
    expect(charts).toEqual([]);
  });

  it('leaves out what was not measured instead of drawing zeros, and advises only what the evidence does', () => {
    expect(connectionPoolCharts({ waitMsPerRequest: 60 })).toEqual([]);
    // Without the detector's advice, no size of its own: the measurements alone.
    expect(summary(connectionPoolCharts({ connectionsWanted: 2, peakConnectionsWanted: 3 }))).toEqual([
      'bars count Connections at once: wanted (average) 2, wanted (peak) 3',
    ]);
  });
});

/** The detector's buckets (5 ms … 30 s, then open), with the calls given by bound, 0 elsewhere. */
function latencyBuckets(calls: Record<string, number>) {
  return [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, null].map((leMs) => ({
    leMs,
    calls: calls[String(leMs ?? 'inf')] ?? 0,
  }));
}

describe('dependencyCharts', () => {
  it.each<Case>([
    {
      does: 'counts calls by outcome, and healthy calls by latency with the p99 and the timeout advised marked',
      evidence: {
        calls: 20,
        failed: 5,
        timeouts: 1,
        retries: 5,
        hung: 2,
        successP99Ms: 250,
        advisedTimeoutMs: 500,
        latencyBuckets: latencyBuckets({ 50: 2, 100: 4, 250: 7 }),
      },
      charts: [
        'bars count Calls by outcome: succeeded 15, failed 5*, timed out 1*, retries 5, hung 2*',
        // From the first bucket holding calls to the timeout's; the empty buckets between kept.
        'bars count Healthy calls by latency: ≤ 50 ms 2, ≤ 100 ms 4, ≤ 250 ms (p99) 7*, ≤ 500 ms (timeout advised) 0*',
      ],
    },
    {
      does: 'counts the failures that could not reach the server and those it answered',
      evidence: {
        calls: 30,
        failed: 12,
        timeouts: 2,
        errorKinds: { timeout: 2, connection: 4, rejected: 6 },
      },
      charts: [
        'bars count Calls by outcome: succeeded 18, failed 12*, timed out 2*, could not reach it 4*, answered with an error 6*',
      ],
    },
  ])('$does', ({ evidence, charts }) => {
    expect(summary(dependencyCharts(evidence))).toEqual(charts);
  });

  it('charts every bucket up to the last holding calls, the open one named by the bound below it', () => {
    const charts = dependencyCharts({
      successP99Ms: 25,
      advisedTimeoutMs: 100,
      latencyBuckets: latencyBuckets({ 5: 90, 25: 9, inf: 1 }),
    });
    expect(summary(charts)[0]).toBe(
      'bars count Healthy calls by latency: ≤ 5.0 ms 90, ≤ 10 ms 0, ≤ 25 ms (p99) 9*, ≤ 50 ms 0, ≤ 100 ms (timeout advised) 0*, ' +
        '≤ 250 ms 0, ≤ 500 ms 0, ≤ 1.00 s 0, ≤ 2.50 s 0, ≤ 5.00 s 0, ≤ 10.0 s 0, ≤ 30.0 s 0, > 30.0 s 1',
    );
  });

  it('has no latency chart when no call succeeded, nor without the buckets', () => {
    const none = dependencyCharts({
      calls: 10,
      failed: 10,
      successP99Ms: null,
      advisedTimeoutMs: 2_000,
      latencyBuckets: latencyBuckets({}),
    });
    expect(none.map((chart) => chart.title)).toEqual(['Calls by outcome']);
    expect(dependencyCharts({ successP99Ms: 25, advisedTimeoutMs: 100 })).toEqual([]);
    expect(dependencyCharts({ latencyBuckets: [{ leMs: '5', calls: 3 }, 'noise'] })).toEqual([]);
  });
});

describe('offloadCharts', () => {
  it('splits a request into what the response needs and the work a queue could take', () => {
    expect(
      summary(offloadCharts({ work: 'POST mail.internal/send', msPerRequest: 120, requestMeanMsAfter: 40 })),
    ).toEqual([
      'parts ms A request’s time, on average: what the response needs 40, POST mail.internal/send 120*',
    ]);
    expect(offloadCharts({ msPerRequest: 120 })).toEqual([]);
  });
});

describe('staticAssetsCharts', () => {
  it('shows the share of requests and time, and requests by file type, most first', () => {
    const charts = staticAssetsCharts({
      requestShare: 0.6,
      timeShare: 0.25,
      extensions: { css: 10, js: 30, svg: 'many', png: 5 },
    });
    expect(summary(charts)).toEqual([
      'bars ratio Share of the service’s HTTP traffic: requests 0.6*, time 0.25',
      'bars count Static requests by file type: js 30, css 10, png 5',
    ]);
    expect(staticAssetsCharts({ extensions: ['js'] })).toEqual([]);
  });
});

describe('hotPathCharts', () => {
  it('shows the stalled CPU by function and by package, the finding’s own emphasised', () => {
    const charts = hotPathCharts({
      functionName: 'pbkdf2Sync',
      url: 'node:internal/crypto/pbkdf2',
      line: 44,
      hotSpots: [
        { functionName: 'pbkdf2Sync', url: 'node:internal/crypto/pbkdf2', line: 44, share: 0.8 },
        { functionName: 'serialize', url: 'src/json.js', line: 3, share: 0.15 },
        'noise',
      ],
      packages: [{ name: 'fast-json', share: 0.05 }],
    });
    expect(summary(charts)).toEqual([
      'bars ratio Stalled CPU by function: pbkdf2Sync 0.8*, serialize 0.15',
      'bars ratio Stalled CPU by package: fast-json 0.05',
    ]);
  });

  it('emphasises the package of a package finding', () => {
    const charts = hotPathCharts({ package: 'marked', packages: [{ name: 'marked', share: 0.4 }] });
    expect(summary(charts)).toEqual(['bars ratio Stalled CPU by package: marked 0.4*']);
  });
});
