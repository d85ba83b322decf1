import { afterEach, beforeEach, expect, it } from 'vitest';
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

it('start() takes options over the environment, once; shutdown() exports what is queued and stops', async () => {
  const app = runWithAgent('test/agent/fixtures/programmatic-app.js', {
    loader: null,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      // Only shutdown() can export: the batch timer never fires during the test.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      OTEL_SERVICE_NAME: 'from-environment',
      CHOKEPOINT_SCRUB: 'none',
    },
  });

  expect(await app.exited).toEqual({ code: 0, signal: null });
  expect(app.stdout()).toBe('shut down\n');
  expect(app.stderr()).toBe('');
  expect(collector.spans.map((span) => [span.name, span.attributes['db.query.text']])).toEqual([
    ['SELECT :memory:', 'SELECT ?'],
  ]);
  expect(collector.spans[0]?.resource.serviceName).toBe('programmatic');
});
