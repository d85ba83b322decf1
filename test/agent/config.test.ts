import { describe, expect, it } from 'vitest';
import { isDisabledByEnvironment, resolveConfig } from '../../agent/config.js';

describe('resolveConfig', () => {
  it('has defaults for an empty environment, and no warnings', () => {
    expect(resolveConfig({}, {})).toEqual({
      config: {
        disabled: false,
        debug: false,
        scrub: 'none',
        endpoint: 'http://127.0.0.1:4318/v1/traces',
        maxQueueSize: 8192,
        flushTimeoutMs: 2000,
        runtimeIntervalMs: 10_000,
        runtimeEndpoint: 'http://127.0.0.1:4318/v1/runtime',
        runtimeHeaders: {},
        metricsHost: '127.0.0.1',
        profile: true,
        explain: true,
        explainThresholdMs: 100,
        explainIntervalMs: 300_000,
        batch: {
          maxQueueSize: 8192,
          maxExportBatchSize: 2048,
          scheduledDelayMillis: 5000,
          exportTimeoutMillis: 30_000,
        },
        resourceDetectors: ['host', 'os', 'process', 'env'],
        sampler: { name: 'parentbased_always_on', ratio: 1 },
        spanLimits: {
          attributeCountLimit: 128,
          attributeValueLengthLimit: Number.POSITIVE_INFINITY,
          eventCountLimit: 128,
          linkCountLimit: 128,
          attributePerEventCountLimit: 128,
          attributePerLinkCountLimit: 128,
        },
      },
      warnings: [],
    });
  });

  it('reads the CHOKEPOINT_* settings', () => {
    const { config, warnings } = resolveConfig(
      {},
      { CHOKEPOINT_DISABLED: 'true', CHOKEPOINT_DEBUG: '1', CHOKEPOINT_SCRUB: 'redis' },
    );
    expect(config).toMatchObject({ disabled: true, debug: true, scrub: 'redis' });
    expect(warnings).toEqual([]);
  });

  it('turns a bad value into one warning and the default', () => {
    const { config, warnings } = resolveConfig(
      {},
      { CHOKEPOINT_SCRUB: 'bogus', CHOKEPOINT_DEBUG: 'maybe', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '0' },
    );
    expect(config.scrub).toBe('none');
    expect(config.debug).toBe(false);
    expect(config.batch.maxExportBatchSize).toBe(2048);
    expect(warnings).toEqual([
      'ignoring CHOKEPOINT_DEBUG=maybe: expected true or false',
      'ignoring CHOKEPOINT_SCRUB=bogus: expected none, sql, redis or all',
      'ignoring OTEL_BSP_MAX_EXPORT_BATCH_SIZE=0: expected a positive integer',
    ]);
  });

  it('warns about standard variables the SDK would only complain about on its muted channel', () => {
    const { warnings } = resolveConfig(
      {},
      {
        OTEL_TRACES_SAMPLER: 'sometimes',
        OTEL_TRACES_SAMPLER_ARG: 'abc',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_TIMEOUT: '-1',
        OTEL_NODE_RESOURCE_DETECTORS: 'env,gcp',
      },
    );
    expect(warnings).toEqual([
      'ignoring OTEL_EXPORTER_OTLP_PROTOCOL=grpc: expected http/protobuf, the only protocol the agent speaks',
      'ignoring OTEL_EXPORTER_OTLP_TIMEOUT=-1: expected a positive number of milliseconds',
      expect.stringMatching(/^ignoring OTEL_TRACES_SAMPLER=sometimes: expected always_on, always_off, /),
      'ignoring OTEL_TRACES_SAMPLER_ARG=abc: expected a number from 0 to 1',
      'ignoring OTEL_NODE_RESOURCE_DETECTORS=env,gcp: expected a comma-separated list of host, os, process, serviceinstance, env, all or none',
    ]);
  });

  it('keeps an export batch within the queue bound', () => {
    expect(resolveConfig({}, { OTEL_BSP_MAX_QUEUE_SIZE: '1000' }).config.batch).toMatchObject({
      maxQueueSize: 1000,
      maxExportBatchSize: 1000,
    });
    const { config, warnings } = resolveConfig(
      { maxQueueSize: 100 },
      { OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '500' },
    );
    expect(config.batch.maxExportBatchSize).toBe(100);
    expect(warnings).toEqual([
      'ignoring OTEL_BSP_MAX_EXPORT_BATCH_SIZE=500: expected at most the queue bound, 100 spans',
    ]);
  });

  it('accepts valid sampler settings silently', () => {
    const { config, warnings } = resolveConfig(
      {},
      { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' },
    );
    expect(warnings).toEqual([]);
    expect(config.sampler).toEqual({ name: 'parentbased_traceidratio', ratio: 0.25 });
  });

  it('reads span limits, the span-specific variable first, and warns about bad ones', () => {
    const { config, warnings } = resolveConfig(
      {},
      {
        OTEL_ATTRIBUTE_COUNT_LIMIT: '64',
        OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '1024',
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '99',
        OTEL_SPAN_EVENT_COUNT_LIMIT: '0',
        OTEL_SPAN_LINK_COUNT_LIMIT: 'lots',
      },
    );
    expect(config.spanLimits).toMatchObject({
      attributeCountLimit: 64,
      attributeValueLengthLimit: 1024,
      eventCountLimit: 0,
      linkCountLimit: 128,
    });
    expect(warnings).toEqual(['ignoring OTEL_SPAN_LINK_COUNT_LIMIT=lots: expected a non-negative integer']);
  });

  describe('endpoint', () => {
    it('appends /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT', () => {
      expect(
        resolveConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).config.endpoint,
      ).toBe('http://collector:4318/v1/traces');
      expect(
        resolveConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/otlp/' }).config.endpoint,
      ).toBe('http://collector:4318/otlp/v1/traces');
    });

    it('takes OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, before the base endpoint', () => {
      const env = {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.example/traces',
      };
      expect(resolveConfig({}, env).config.endpoint).toBe('https://collector.example/traces');
    });

    it('ignores a value that is not an http(s) URL', () => {
      const { config, warnings } = resolveConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' });
      expect(config.endpoint).toBe('http://127.0.0.1:4318/v1/traces');
      expect(warnings).toEqual([
        'ignoring OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318: expected an http(s) URL',
      ]);
    });
  });

  describe('explain', () => {
    it('reads the switch, the threshold and the interval', () => {
      const env = {
        CHOKEPOINT_EXPLAIN: 'off',
        CHOKEPOINT_EXPLAIN_THRESHOLD_MS: '250',
        CHOKEPOINT_EXPLAIN_INTERVAL_MS: '0',
      };
      expect(resolveConfig({}, env)).toEqual({
        config: expect.objectContaining({ explain: false, explainThresholdMs: 250, explainIntervalMs: 0 }),
        warnings: [],
      });
    });

    it('turns bad values into warnings and the defaults', () => {
      const { config, warnings } = resolveConfig(
        {},
        {
          CHOKEPOINT_EXPLAIN: 'maybe',
          CHOKEPOINT_EXPLAIN_THRESHOLD_MS: '-1',
          CHOKEPOINT_EXPLAIN_INTERVAL_MS: 'soon',
        },
      );
      expect(config).toMatchObject({ explain: true, explainThresholdMs: 100, explainIntervalMs: 300_000 });
      expect(warnings).toEqual([
        'ignoring CHOKEPOINT_EXPLAIN=maybe: expected true or false',
        'ignoring CHOKEPOINT_EXPLAIN_THRESHOLD_MS=-1: expected a non-negative integer of milliseconds',
        'ignoring CHOKEPOINT_EXPLAIN_INTERVAL_MS=soon: expected a non-negative integer of milliseconds',
      ]);
    });
  });

  describe('runtime', () => {
    it('reads the interval, 0 turning sampling off, and the metrics server settings', () => {
      const env = {
        CHOKEPOINT_RUNTIME_INTERVAL_MS: '0',
        CHOKEPOINT_METRICS_PORT: '9464',
        CHOKEPOINT_METRICS_HOST: '0.0.0.0',
      };
      expect(resolveConfig({}, env)).toEqual({
        config: expect.objectContaining({ runtimeIntervalMs: 0, metricsPort: 9464, metricsHost: '0.0.0.0' }),
        warnings: [],
      });
    });

    it('turns bad values into warnings and the defaults: sampling every 10 s, no metrics server', () => {
      const { config, warnings } = resolveConfig(
        {},
        { CHOKEPOINT_RUNTIME_INTERVAL_MS: '-5', CHOKEPOINT_METRICS_PORT: '70000' },
      );
      expect(config.runtimeIntervalMs).toBe(10_000);
      expect(config.metricsPort).toBeUndefined();
      expect(warnings).toEqual([
        'ignoring CHOKEPOINT_RUNTIME_INTERVAL_MS=-5: expected 0 (off) or a positive integer',
        'ignoring CHOKEPOINT_METRICS_PORT=70000: expected a port number from 0 to 65535',
      ]);
    });

    it.each([
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }, 'http://collector:4318/v1/runtime'],
      [
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://elsewhere:4318/v1/traces',
        },
        'http://collector:4318/v1/runtime',
      ],
      [
        { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/otlp/v1/traces' },
        'http://c:4318/otlp/v1/runtime',
      ],
      [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://c.example/traces' }, 'https://c.example/v1/runtime'],
    ])('sends samples beside the traces: %j → %s', (env, expected) => {
      expect(resolveConfig({}, env).config.runtimeEndpoint).toBe(expected);
    });

    it('follows a traces endpoint given in code', () => {
      const { config } = resolveConfig(
        { endpoint: 'http://in-code:4318/v1/traces' },
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318' },
      );
      expect(config.runtimeEndpoint).toBe('http://in-code:4318/v1/runtime');
    });
  });

  it('lets programmatic options win over the environment, ignoring undefined ones', () => {
    const { config } = resolveConfig(
      { scrub: 'all', maxQueueSize: 10, endpoint: undefined },
      { CHOKEPOINT_SCRUB: 'sql', OTEL_BSP_MAX_QUEUE_SIZE: '99', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:1' },
    );
    expect(config.scrub).toBe('all');
    expect(config.maxQueueSize).toBe(10);
    expect(config.batch.maxQueueSize).toBe(10);
    expect(config.endpoint).toBe('http://c:1/v1/traces');
  });

  it('reads the OTEL_BSP_* settings', () => {
    const { config } = resolveConfig(
      {},
      {
        OTEL_BSP_MAX_QUEUE_SIZE: '100',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '50',
        OTEL_BSP_SCHEDULE_DELAY: '200',
        OTEL_BSP_EXPORT_TIMEOUT: '1000',
      },
    );
    expect(config.batch).toEqual({
      maxQueueSize: 100,
      maxExportBatchSize: 50,
      scheduledDelayMillis: 200,
      exportTimeoutMillis: 1000,
    });
  });

  it('orders resource detectors so that env applies last', () => {
    expect(resolveConfig({}, { OTEL_NODE_RESOURCE_DETECTORS: 'env, host' }).config.resourceDetectors).toEqual(
      ['host', 'env'],
    );
    expect(resolveConfig({}, { OTEL_NODE_RESOURCE_DETECTORS: 'none' }).config.resourceDetectors).toEqual([]);
  });

  it.each([
    ['OTEL_SDK_DISABLED', 'true'],
    ['OTEL_TRACES_EXPORTER', 'none'],
  ])('is disabled by %s=%s', (name, value) => {
    expect(resolveConfig({}, { [name]: value }).config.disabled).toBe(true);
  });
});

describe('resolveConfig: runtime headers', () => {
  it('sends OTEL_EXPORTER_OTLP_HEADERS with runtime samples too, decoded as the OTLP exporters do', () => {
    const { config } = resolveConfig(
      {},
      { OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20s3cret,x-team=shop' },
    );
    expect(config.runtimeHeaders).toEqual({ Authorization: 'Bearer s3cret', 'x-team': 'shop' });
    expect(resolveConfig({}, {}).config.runtimeHeaders).toEqual({});
  });
});

describe('isDisabledByEnvironment', () => {
  it('agrees with resolveConfig, without warnings of its own', () => {
    for (const env of [
      {},
      { CHOKEPOINT_DISABLED: 'yes' },
      { CHOKEPOINT_DISABLED: 'bogus' },
      { OTEL_SDK_DISABLED: 'true' },
      { OTEL_TRACES_EXPORTER: 'none' },
    ]) {
      expect(isDisabledByEnvironment(env), JSON.stringify(env)).toBe(resolveConfig({}, env).config.disabled);
    }
  });
});
