/**
 * How an app under the agent ends: signals and the natural end flush the last spans, and
 * the process still exits exactly as it would have without the agent.
 */
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SpanKind } from '../../model/index.js';
import { type AppRun, killApps, ROOT, runWithAgent } from '../support/agent-process.js';
import { type OtlpCapture, startOtlpCapture } from '../support/otlp-capture.js';

let collector: OtlpCapture;
beforeEach(async () => {
  collector = await startOtlpCapture();
});
afterEach(async () => {
  killApps();
  await collector.close();
});

/** The batch timer never fires during a test: whatever arrives was flushed on the way out. */
function exportOnlyOnExit(env: Record<string, string> = {}): Record<string, string> {
  return { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '600000', ...env };
}

async function request(app: AppRun, times: number): Promise<void> {
  const [, port] = await app.waitForStdout(/listening on (\d+)/);
  for (let i = 0; i < times; i++) expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
}

function serverSpans(): number {
  return collector.spans.filter((span) => span.kind === SpanKind.SERVER).length;
}

describe.each(['SIGTERM', 'SIGINT'] as const)('%s', (signal) => {
  it('without an app handler: the last spans arrive, then the process dies by the signal, as without the agent', async () => {
    const app = runWithAgent('test/agent/fixtures/http-app.js', { env: exportOnlyOnExit() });
    await request(app, 3);
    app.child.kill(signal);

    expect(await app.exited).toEqual({ code: null, signal });
    expect(serverSpans()).toBe(3);
    expect(app.stderr()).toBe('');

    const bare = spawn(process.execPath, [join(ROOT, 'test/agent/fixtures/http-app.js')], { stdio: 'pipe' });
    await new Promise((resolve) => bare.stdout.once('data', resolve));
    bare.kill(signal);
    expect(
      await new Promise((resolve) =>
        bare.once('exit', (code, bareSignal) => resolve({ code, signal: bareSignal })),
      ),
    ).toEqual({
      code: null,
      signal,
    });
  });
});

it('with an app SIGTERM handler: the handler runs and decides the exit code; the spans still arrive', async () => {
  const app = runWithAgent('test/agent/fixtures/http-app.js', {
    env: exportOnlyOnExit({ OWN_SIGTERM_HANDLER: '1' }),
  });
  await request(app, 2);
  app.child.kill('SIGTERM');

  expect(await app.exited).toEqual({ code: 7, signal: null });
  expect(app.stdout()).toContain('app handler ran');
  expect(serverSpans()).toBe(2);
  expect(app.stderr()).toBe('');
});

describe('natural end', () => {
  it('flushes once the app is done and keeps its exit code', async () => {
    const app = runWithAgent('test/agent/fixtures/exit-code-app.js', { env: exportOnlyOnExit() });

    expect(await app.exited).toEqual({ code: 3, signal: null });
    expect(collector.spans.map((span) => span.name)).toEqual(['SELECT :memory:']);
  });

  it('does not wait out the exporter’s retries when the collector is down: one warning, same exit code', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));

    const app = runWithAgent('test/agent/fixtures/exit-code-app.js', {
      // The exporter would retry for a minute; the test's own timeout is half that.
      env: exportOnlyOnExit({
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_EXPORTER_OTLP_TIMEOUT: '60000',
      }),
    });

    expect(await app.exited).toEqual({ code: 3, signal: null });
    expect(app.agentLines()).toEqual([
      `chokepoint: no answer from the collector within 2000 ms; 1 span(s) dropped so far (collector http://127.0.0.1:${port}/v1/traces; this warning repeats at most once every 60 s)`,
    ]);
  });
});
