/**
 * TypeScript run from source, as the README shows: `node --import tsx --import
 * chokepoint/agent server.ts`. The loader compiles on the fly and the agent must still
 * hook the modules the app loads, in CommonJS (tsx's require hook) and in ES modules
 * (both loaders chained on `import`). Needs the build.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SpanKind } from '../../model/index.js';
import { killApps, runWithAgent } from '../support/agent-process.js';
import { type OtlpCapture, startOtlpCapture } from '../support/otlp-capture.js';

let collector: OtlpCapture;
beforeEach(async () => {
  collector = await startOtlpCapture();
});
afterEach(async () => {
  killApps();
  await collector.close();
});

const exportEnv = (): Record<string, string> => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
  OTEL_BSP_SCHEDULE_DELAY: '200',
});

describe('a TypeScript app under tsx', () => {
  for (const [name, nodeFlags, loader] of [
    ['--import tsx, --import the agent', ['--import', 'tsx'], '--import'],
    ['--require tsx/cjs, --require the agent', ['--require', 'tsx/cjs'], '--require'],
  ] as const) {
    it(`traces requests and queries of a CommonJS .ts app (${name})`, async () => {
      const app = runWithAgent('test/agent/fixtures/typescript/app.ts', {
        nodeFlags: [...nodeFlags],
        loader,
        env: exportEnv(),
      });
      const [, port] = await app.waitForStdout(/listening on (\d+)/);
      const response = await fetch(`http://127.0.0.1:${port}/orders/42`);
      expect(await response.json()).toEqual({ id: 42, items: 3 });

      const spans = await collector.waitFor((received) =>
        received.some((span) => span.kind === SpanKind.SERVER),
      );
      const request = spans.find((span) => span.kind === SpanKind.SERVER);
      const query = spans.find((span) => span.name === 'SELECT :memory:');
      expect(request?.attributes['http.response.status_code']).toBe(200);
      expect(query?.attributes['db.query.text']).toBe('SELECT id, items FROM orders WHERE id = ?');
      expect(query?.traceId).toBe(request?.traceId);
      expect(query?.parentSpanId).toBe(request?.spanId);
      expect(app.agentLines().filter((line) => /error|fail/i.test(line))).toEqual([]);
    });
  }

  it('traces an ES module .mts script, tsx first and the agent after it', async () => {
    const app = runWithAgent('test/agent/fixtures/typescript/script.mts', {
      nodeFlags: ['--import', 'tsx'],
      loader: '--import',
      env: exportEnv(),
    });
    await app.waitForStdout(/queried/);
    const spans = await collector.waitFor((received) =>
      received.some((span) => span.attributes['db.query.text'] === 'SELECT 1 AS one'),
    );
    const query = spans.find((span) => span.attributes['db.query.text'] === 'SELECT 1 AS one');
    expect(query?.attributes['db.system.name']).toBe('sqlite');
    expect((await app.exited).code).toBe(0);
  });
});
