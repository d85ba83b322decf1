/**
 * event_loop_blocked and gc_pressure from real runtime samples: apps under the built agent
 * measure their own event loop and GC and POST them to the collector's /v1/runtime.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../../../model/index.js';
import { killApps, runWithAgent } from '../../../support/agent-process.js';
import { type CollectorRun, startCollectorRun } from './collector-run.js';

const SAMPLING = { CHOKEPOINT_RUNTIME_INTERVAL_MS: '250' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('event loop and GC findings from real runtime samples', () => {
  let run: CollectorRun;
  let findings: Finding[];
  let runtime: Array<Record<string, unknown>>;

  beforeAll(async () => {
    run = await startCollectorRun('test/collector/detect/fixtures/apps/runtime-app.js', {
      service: 'busy',
      env: SAMPLING,
    });
    // First the same app, left idle (and nothing else running in this test): its samples must raise nothing.
    const idle = runWithAgent('test/collector/detect/fixtures/apps/runtime-app.js', {
      env: { ...SAMPLING, OTEL_SERVICE_NAME: 'idle', OTEL_EXPORTER_OTLP_ENDPOINT: run.collector.otlpUrl },
    });
    await idle.waitForStdout(/listening on/);
    await sleep(2_000);
    idle.child.kill('SIGTERM');
    await idle.exited;
    for (const path of ['/block', '/churn', '/block', '/churn', '/block']) {
      expect((await fetch(run.appUrl + path)).status).toBe(200);
      await sleep(300);
    }
    await run.finish();
    findings = await run.findings();
    runtime = (
      (await (await fetch(`${run.collector.dashboardUrl}/api/runtime`)).json()) as {
        runtime: Array<Record<string, unknown>>;
      }
    ).runtime;
  });

  afterAll(async () => {
    killApps();
    await run?.close();
  });

  it('receives samples from both processes, one instance each', () => {
    expect(runtime.map((row) => row.service).sort()).toEqual(['busy', 'idle']);
    for (const row of runtime) expect(Number(row.samples)).toBeGreaterThanOrEqual(3);
  });

  it('finds the event loop held by synchronous work, with the stall it measured', () => {
    const blocked = findings.find((finding) => finding.kind === 'event_loop_blocked');
    expect(blocked?.service).toBe('busy');
    expect(Number(blocked?.evidence.maxDelayMs)).toBeGreaterThanOrEqual(100);
    expect(blocked?.impact).toBeGreaterThan(0);
    expect(blocked?.recommendation.code).toContain('worker_threads');
  });

  it('finds garbage collection pressure in the allocating process', () => {
    const gc = findings.find((finding) => finding.kind === 'gc_pressure');
    expect(gc?.service).toBe('busy');
    expect(Number(gc?.evidence.worstMsPerSecond)).toBeGreaterThanOrEqual(100);
  });

  it('raises nothing for the idle process', () => {
    expect(
      findings
        .filter((finding) => finding.service === 'idle')
        .map((f) => [f.kind, f.title, JSON.stringify(f.evidence)]),
    ).toEqual([]);
  });
});
