import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  postReport,
  type RuntimeReporter,
  reportTimeoutMs,
  startRuntimeReporter,
} from '../../../agent/runtime/reporter.js';
import type { RuntimeSample } from '../../../model/index.js';
import { type OtlpCapture, startOtlpCapture } from '../../support/otlp-capture.js';

/** Hand-made samples, numbered by `timeMs`: the reporter under test does not look inside. */
function sampleSource() {
  let taken = 0;
  return async (): Promise<RuntimeSample> => {
    taken += 1;
    return {
      service: 'shop',
      instanceId: 'web-1:42',
      timeMs: taken,
      intervalMs: 50,
      eventLoopLag: { minMs: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0 },
      gc: { count: 0, pauseMs: 0, maxPauseMs: 0, byKind: {} },
      memory: { rssBytes: 1, heapUsedBytes: 1, heapTotalBytes: 1, externalBytes: 0 },
      cpu: { userMs: 0, systemMs: 0 },
    };
  };
}

interface Drop {
  count: number;
  reason: string;
}

async function listening(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  const url = await listening(server);
  await new Promise((resolve) => server.close(resolve));
  return Number(new URL(url).port);
}

async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('startRuntimeReporter', () => {
  let capture: OtlpCapture | undefined;
  let reporter: RuntimeReporter | undefined;
  let other: Server | undefined;
  afterEach(async () => {
    reporter?.stop();
    await capture?.close();
    other?.closeAllConnections();
    other?.close();
    capture = undefined;
    other = undefined;
  });

  it('POSTs one sample per interval as {"samples":[…]} to the collector', async () => {
    capture = await startOtlpCapture();
    const drops: Drop[] = [];
    reporter = startRuntimeReporter({
      sample: sampleSource(),
      endpoint: `${capture.url}/v1/runtime`,
      intervalMs: 50,
      onDrop: (count, reason) => drops.push({ count, reason }),
    });

    const samples = await capture.waitForRuntime((received) => received.length >= 3);
    expect(samples.slice(0, 3).map((sample) => sample.timeMs)).toEqual([1, 2, 3]);
    expect(drops).toEqual([]);

    reporter.stop();
    // A POST already on its way when stop() ran may still land; after it, nothing more comes.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const count = capture.runtimeSamples.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(capture.runtimeSamples.length).toBe(count);
  });

  it('counts the samples a collector that is down never got', async () => {
    const port = await closedPort();
    const drops: Drop[] = [];
    reporter = startRuntimeReporter({
      sample: sampleSource(),
      endpoint: `http://127.0.0.1:${port}/v1/runtime`,
      intervalMs: 30,
      onDrop: (count, reason) => drops.push({ count, reason }),
    });

    await until(() => drops.length >= 2);
    expect(drops[0]).toEqual({
      count: 1,
      reason: `cannot export runtime samples: connect ECONNREFUSED 127.0.0.1:${port}`,
    });
  });

  it('gives up on a collector that hangs, and bounds what waits behind it', async () => {
    capture = await startOtlpCapture({ hang: true });
    const drops: Drop[] = [];
    reporter = startRuntimeReporter({
      sample: sampleSource(),
      endpoint: `${capture.url}/v1/runtime`,
      intervalMs: 20,
      timeoutMs: 200,
      maxPending: 2,
      onDrop: (count, reason) => drops.push({ count, reason }),
    });

    await until(() => drops.some((drop) => drop.reason.includes('no answer')));
    expect(drops).toContainEqual({
      count: 1,
      reason: 'runtime sample queue full (2 samples waiting for export)',
    });
    expect(drops).toContainEqual({
      count: 1,
      reason: 'cannot export runtime samples: no answer within 200 ms',
    });
  });

  it('waits for a collector slower to answer than the interval, losing nothing', async () => {
    // 600 ms per answer: the old timeout, the interval (250 ms), gave up on every report.
    const bodies: RuntimeSample[][] = [];
    other = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () =>
        setTimeout(() => {
          bodies.push(JSON.parse(Buffer.concat(chunks).toString()).samples);
          response.writeHead(200).end('{}');
        }, 600),
      );
    });
    const url = await listening(other);
    const drops: Drop[] = [];
    reporter = startRuntimeReporter({
      sample: sampleSource(),
      endpoint: `${url}/v1/runtime`,
      intervalMs: 250,
      onDrop: (count, reason) => drops.push({ count, reason }),
    });

    await until(() => bodies.length >= 3);
    expect(drops).toEqual([]);
    // Samples taken while a report was out went together in the next one, in order.
    const times = bodies.flat().map((sample) => sample.timeMs);
    expect(times).toEqual(times.map((_, i) => i + 1));
    expect(bodies.some((samples) => samples.length > 1)).toBe(true);
  });

  it('counts samples a collector refuses (an older collector without /v1/runtime answers 404)', async () => {
    other = createServer((_request, response) => response.writeHead(404).end());
    const url = await listening(other);
    const drops: Drop[] = [];
    reporter = startRuntimeReporter({
      sample: sampleSource(),
      endpoint: `${url}/v1/runtime`,
      intervalMs: 30,
      onDrop: (count, reason) => drops.push({ count, reason }),
    });

    await until(() => drops.length >= 1);
    expect(drops[0]).toEqual({ count: 1, reason: 'cannot export runtime samples: HTTP 404 Not Found' });
  });

  it('a failing sampler costs one counted sample, not the reporter', async () => {
    capture = await startOtlpCapture();
    const drops: Drop[] = [];
    const source = sampleSource();
    let calls = 0;
    reporter = startRuntimeReporter({
      sample: () => (++calls === 1 ? Promise.reject(new Error('prom-client broke')) : source()),
      endpoint: `${capture.url}/v1/runtime`,
      intervalMs: 30,
      onDrop: (count, reason) => drops.push({ count, reason }),
    });

    await capture.waitForRuntime((received) => received.length >= 1);
    expect(drops).toEqual([{ count: 1, reason: 'cannot sample the runtime: prom-client broke' }]);
  });
});

describe('reportTimeoutMs', () => {
  it('waits the interval, at least 2 s and at most 10 s', () => {
    expect(reportTimeoutMs(1_000, 6)).toBe(2_000);
    expect(reportTimeoutMs(5_000, 6)).toBe(5_000);
    expect(reportTimeoutMs(60_000, 6)).toBe(10_000);
  });

  it('never longer than the queued samples can wait before the oldest is dropped', () => {
    expect(reportTimeoutMs(250, 6)).toBe(1_500);
    expect(reportTimeoutMs(100, 2)).toBe(200);
  });
});

describe('postReport', () => {
  it('sends JSON and resolves on a 2xx answer', async () => {
    const capture = await startOtlpCapture();
    try {
      const [sample] = await Promise.all([sampleSource()()]);
      await postReport(
        `${capture.url}/v1/runtime`,
        { samples: [sample as RuntimeSample] },
        { timeoutMs: 1000 },
      );
      expect(capture.runtimeSamples).toEqual([sample]);
    } finally {
      await capture.close();
    }
  });

  it('sends the configured headers, so a collector started with --token accepts the samples', async () => {
    let authorization: string | undefined;
    const server = createServer((req, res) => {
      authorization = req.headers.authorization;
      req.resume();
      req.on('end', () => res.writeHead(authorization === 'Bearer s3cret' ? 200 : 401).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/runtime`;
      const sample = (await sampleSource()()) as RuntimeSample;
      await expect(postReport(url, { samples: [sample] }, { timeoutMs: 1000 })).rejects.toThrow();
      await postReport(
        url,
        { samples: [sample] },
        { timeoutMs: 1000, headers: { authorization: 'Bearer s3cret' } },
      );
      expect(authorization).toBe('Bearer s3cret');
    } finally {
      server.close();
    }
  });
});
