/**
 * Who is talking: the resource every span is exported with. `service.name` and
 * `service.version` come, in order of preference, from the programmatic options, the
 * environment (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`), and the app's own
 * package.json. Only the local detectors run: the cloud ones probe metadata endpoints and
 * print warnings on every start outside their cloud.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  osDetector,
  processDetector,
  type Resource,
  type ResourceDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
} from '@opentelemetry/resources';
import type { ResourceDetectorName } from './config.js';

const DETECTORS: Readonly<Record<ResourceDetectorName, ResourceDetector>> = {
  host: hostDetector,
  os: osDetector,
  process: processDetector,
  serviceinstance: serviceInstanceIdDetector,
  env: envDetector,
};

export interface AppPackage {
  name?: string;
  version?: string;
}

export interface ResourceOptions {
  serviceName?: string;
  serviceVersion?: string;
  /** Applied in order: later detectors override earlier ones. */
  detectors: readonly ResourceDetectorName[];
}

/**
 * Builds the resource: package.json values, overridden by the detectors, overridden by
 * the programmatic service name and version.
 *
 * @example
 * createResource({ detectors: ['host', 'env'] }).attributes['service.name'];
 */
export function createResource(options: ResourceOptions, appDirectory = mainDirectory()): Resource {
  const app = findAppPackage(appDirectory);
  const detectors = options.detectors.map((name) => DETECTORS[name]);
  return defaultResource()
    .merge(resourceFromAttributes({ 'service.name': app.name, 'service.version': app.version }))
    .merge(detectResources({ detectors }))
    .merge(
      resourceFromAttributes({
        'service.name': options.serviceName,
        'service.version': options.serviceVersion,
      }),
    );
}

/**
 * Where the app lives: the main script's directory, unless the script is a tool inside
 * node_modules (`node node_modules/.bin/next start`), whose package.json is not the app's.
 */
function mainDirectory(): string {
  const main = process.argv[1];
  if (!main) return process.cwd();
  const directory = dirname(resolve(main));
  return `${directory}${sep}`.includes(`${sep}node_modules${sep}`) ? process.cwd() : directory;
}

/**
 * The nearest package.json with a `name`, from `directory` upwards. Nameless ones (a
 * `{"type": "module"}` marker in a subfolder) are skipped.
 *
 * @example
 * findAppPackage('/srv/shop/dist'); // { name: 'shop', version: '1.4.0' } from /srv/shop/package.json
 */
export function findAppPackage(directory: string): AppPackage {
  for (let current = resolve(directory); ; current = dirname(current)) {
    const found = readPackage(join(current, 'package.json'));
    if (found?.name) return found;
    if (dirname(current) === current) return {};
  }
}

function readPackage(path: string): AppPackage | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { name, version } = parsed as Record<string, unknown>;
  return {
    name: typeof name === 'string' && name !== '' ? name : undefined,
    version: typeof version === 'string' && version !== '' ? version : undefined,
  };
}
