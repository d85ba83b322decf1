import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createResource, findAppPackage } from '../../agent/resource.js';

const root = mkdtempSync(join(tmpdir(), 'chokepoint-resource-'));
const app = join(root, 'shop');
const dist = join(app, 'dist', 'esm');
mkdirSync(dist, { recursive: true });
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'shop', version: '1.4.0' }));
writeFileSync(join(app, 'dist', 'package.json'), JSON.stringify({ type: 'module' }));
writeFileSync(join(dist, 'package.json'), '{ not json');

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('findAppPackage', () => {
  it('finds the nearest package.json with a name, skipping nameless and broken ones', () => {
    expect(findAppPackage(dist)).toEqual({ name: 'shop', version: '1.4.0' });
  });

  it('finds nothing above a directory without one', () => {
    expect(findAppPackage(root)).toEqual({});
  });
});

describe('createResource', () => {
  const saved = { name: process.env.OTEL_SERVICE_NAME, attributes: process.env.OTEL_RESOURCE_ATTRIBUTES };
  afterEach(() => {
    for (const [variable, value] of [
      ['OTEL_SERVICE_NAME', saved.name],
      ['OTEL_RESOURCE_ATTRIBUTES', saved.attributes],
    ] as const) {
      if (value === undefined) delete process.env[variable];
      else process.env[variable] = value;
    }
  });

  it("takes service.name and service.version from the app's package.json", () => {
    const { attributes } = createResource({ detectors: ['env'] }, dist);
    expect(attributes['service.name']).toBe('shop');
    expect(attributes['service.version']).toBe('1.4.0');
    expect(attributes['telemetry.sdk.language']).toBe('nodejs');
  });

  it('lets the environment override package.json', () => {
    process.env.OTEL_SERVICE_NAME = 'checkout';
    process.env.OTEL_RESOURCE_ATTRIBUTES = 'service.version=2.0.0,deployment.environment.name=staging';
    const { attributes } = createResource({ detectors: ['env'] }, dist);
    expect(attributes).toMatchObject({
      'service.name': 'checkout',
      'service.version': '2.0.0',
      'deployment.environment.name': 'staging',
    });
  });

  it('lets programmatic options override the environment', () => {
    process.env.OTEL_SERVICE_NAME = 'checkout';
    const { attributes } = createResource(
      { detectors: ['env'], serviceName: 'billing', serviceVersion: '3' },
      dist,
    );
    expect(attributes['service.name']).toBe('billing');
    expect(attributes['service.version']).toBe('3');
  });

  it('falls back to the SDK default name without any package.json', () => {
    const { attributes } = createResource({ detectors: [] }, root);
    expect(attributes['service.name']).toMatch(/^unknown_service:/);
    expect(attributes['service.version']).toBeUndefined();
  });
});
