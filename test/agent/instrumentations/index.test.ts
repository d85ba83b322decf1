import type { Instrumentation } from '@opentelemetry/instrumentation';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createInstrumentations,
  DEFAULT_INSTRUMENTATIONS,
  enabledInstrumentations,
} from '../../../agent/instrumentations/index.js';

describe('enabledInstrumentations', () => {
  it('enables the default set, with fs, dns and net off', () => {
    const { names, warnings } = enabledInstrumentations({});
    expect(names).toEqual(DEFAULT_INSTRUMENTATIONS);
    expect(names).toEqual(
      expect.arrayContaining([
        ...['http', 'undici', 'express', 'koa', 'pg', 'mysql2', 'ioredis', 'redis', 'amqplib', 'kafkajs'],
        ...['better-sqlite3', 'bullmq', 'fastify', 'hono'],
      ]),
    );
    for (const noisy of ['fs', 'dns', 'net']) expect(names).not.toContain(noisy);
    expect(warnings).toEqual([]);
  });

  it('replaces the set with OTEL_NODE_ENABLED_INSTRUMENTATIONS and removes OTEL_NODE_DISABLED_INSTRUMENTATIONS', () => {
    const env = {
      OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http, pg, fs, better-sqlite3',
      OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'better-sqlite3',
    };
    expect(enabledInstrumentations(env).names).toEqual(['http', 'pg', 'fs']);
    expect(enabledInstrumentations({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'http' }).names).not.toContain(
      'http',
    );
  });

  it('warns about names no instrumentation answers to', () => {
    expect(
      enabledInstrumentations({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'http,sequelize' }).warnings,
    ).toEqual([
      'ignoring sequelize in OTEL_NODE_DISABLED_INSTRUMENTATIONS: expected names such as http, pg, ioredis',
    ]);
  });
});

describe('createInstrumentations', () => {
  let created: Instrumentation[] = [];
  afterEach(() => {
    for (const instrumentation of created) instrumentation.disable();
    created = [];
  });

  it('builds exactly the named ones, the agent’s own included', () => {
    created = createInstrumentations(['http', 'ioredis', 'better-sqlite3']);
    expect(created.map((instrumentation) => instrumentation.instrumentationName)).toEqual([
      '@opentelemetry/instrumentation-http',
      '@opentelemetry/instrumentation-ioredis',
      'chokepoint/instrumentation-better-sqlite3',
      'chokepoint/instrumentation-http-server',
    ]);
  });

  it('builds the agent’s own for the frameworks and queues upstream leaves out', () => {
    created = createInstrumentations(['bullmq', 'fastify', 'hono']);
    expect(created.map((instrumentation) => instrumentation.instrumentationName)).toEqual([
      'chokepoint/instrumentation-bullmq',
      'chokepoint/instrumentation-fastify',
      'chokepoint/instrumentation-hono',
    ]);
  });

  it('traces ioredis commands without a parent span', () => {
    created = createInstrumentations(['ioredis']);
    expect(created[0]?.getConfig()).toMatchObject({ requireParentSpan: false });
  });

  it('outranks upstream’s own reading of the environment', () => {
    process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS = 'dns';
    try {
      created = createInstrumentations(['pg']);
    } finally {
      delete process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS;
    }
    expect(created.map((instrumentation) => instrumentation.instrumentationName)).toEqual([
      '@opentelemetry/instrumentation-pg',
    ]);
  });
});
