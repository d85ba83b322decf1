/**
 * Runtime receiver: `POST /v1/runtime` as a Hono sub-app, on the OTLP port beside
 * `/v1/traces`. Agents send what they measure about their process (event loop, GC,
 * memory, CPU) as JSON `{"samples": [RuntimeSample, …]}` (model/runtime.ts).
 *
 * Validation is strict and all or nothing: a request with one bad sample is refused
 * whole with 400 and a one-line reason naming the field (`samples[2].gc.pauseMs: …`),
 * and nothing of it is kept. Accepted samples are rebuilt from their known fields only,
 * so unknown fields (from a newer agent) are dropped rather than carried along. Bodies
 * are read under a byte limit, compressed or not (see body.ts).
 *
 * @example
 * const app = new Hono();
 * app.route('/', runtimeRoutes({ onSamples: (samples) => pipeline.ingestRuntime(samples) }));
 */
import { Hono } from 'hono';
import type { CpuProfileSummary, ProfileFrame, RuntimeSample } from '../../model/index.js';
import { checkMaxBodyBytes, firstLine, nodeRequestOf, Rejection, readDecodedBody } from './body.js';

export interface RuntimeRoutesOptions {
  /** Receives the samples of each accepted request; not called for an empty list. */
  onSamples: (samples: RuntimeSample[]) => void;
  /** Largest body accepted, in bytes, compressed and decompressed. */
  maxBodyBytes?: number;
  /** Most samples in one request. */
  maxSamples?: number;
  /** Told about every refused request; it cannot change the answer. */
  onRejected?: (reason: string, status: number) => void;
}

/** 1 MiB: an agent sends one sample per process every few seconds, each well under 1 KiB. */
export const DEFAULT_RUNTIME_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_SAMPLES = 1_000;

const MAX_TEXT_LENGTH = 256;
const MAX_GC_KINDS = 16;
/** The agent sends at most 20 functions, 6 callers each and 10 packages; a little room for others. */
const MAX_PROFILE_FUNCTIONS = 20;
const MAX_PROFILE_CALLERS = 8;
const MAX_PROFILE_PACKAGES = 20;
const LAG_FIELDS = ['minMs', 'meanMs', 'p50Ms', 'p90Ms', 'p99Ms', 'maxMs'] as const;
const MEMORY_FIELDS = ['rssBytes', 'heapUsedBytes', 'heapTotalBytes', 'externalBytes'] as const;

/**
 * Builds the sub-app serving `POST /v1/runtime`; other methods on the path get 405.
 * Throws a RangeError when `maxBodyBytes` is not a usable byte count.
 *
 * @example
 * const response = await runtimeRoutes({ onSamples }).request('/v1/runtime', {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ samples: [sample] }),
 * });
 * await response.json(); // { accepted: 1 }
 */
export function runtimeRoutes(options: RuntimeRoutesOptions): Hono {
  const { onSamples, maxBodyBytes, maxSamples, onRejected } = {
    maxBodyBytes: DEFAULT_RUNTIME_MAX_BODY_BYTES,
    maxSamples: DEFAULT_MAX_SAMPLES,
    ...options,
  };
  checkMaxBodyBytes(maxBodyBytes);
  const app = new Hono();

  const reject = (status: number, reason: string, headers: Record<string, string> = {}) => {
    try {
      onRejected?.(reason, status);
    } catch {
      // An observer's failure must not change what the client is told.
    }
    return Response.json({ error: reason }, { status, headers });
  };

  app.post('/v1/runtime', async (c) => {
    let samples: RuntimeSample[];
    try {
      const mediaType = c.req.header('content-type')?.split(';', 1)[0]?.trim().toLowerCase();
      if (mediaType !== 'application/json')
        throw new Rejection(415, 'unsupported content type: send application/json');
      const body = await readDecodedBody(c.req.raw, maxBodyBytes, nodeRequestOf(c.env));
      samples = parseRuntimeReport(new TextDecoder().decode(body), maxSamples);
    } catch (error) {
      if (error instanceof Rejection) return reject(error.status, error.message);
      return reject(500, `request could not be processed: ${firstLine(error)}`);
    }
    try {
      if (samples.length > 0) onSamples(samples);
    } catch (error) {
      return reject(500, `samples could not be accepted: ${firstLine(error)}`);
    }
    return c.json({ accepted: samples.length });
  });

  app.all('/v1/runtime', (c) =>
    reject(405, `method ${c.req.method} not allowed: runtime reports use POST`, { allow: 'POST' }),
  );

  return app;
}

/**
 * Parses and validates a `{"samples": […]}` report; throws a 400 {@link Rejection} naming the first bad field.
 *
 * @example
 * parseRuntimeReport('{"samples":[]}'); // []
 * parseRuntimeReport('{"samples":[{"service":""}]}'); // Rejection: samples[0].service: expected a non-empty string…
 */
export function parseRuntimeReport(text: string, maxSamples = DEFAULT_MAX_SAMPLES): RuntimeSample[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Rejection(400, `body is not valid JSON: ${firstLine(error)}`);
  }
  if (!isRecord(json) || !Array.isArray(json.samples)) {
    throw new Rejection(400, 'body must be a JSON object with a "samples" array');
  }
  if (json.samples.length > maxSamples) {
    throw new Rejection(413, `too many samples: ${json.samples.length}, the limit is ${maxSamples}`);
  }
  return json.samples.map((sample, index) => readSample(sample, `samples[${index}]`));
}

function readSample(value: unknown, path: string): RuntimeSample {
  const sample = record(value, path);
  const lag = record(sample.eventLoopLag, `${path}.eventLoopLag`);
  const gc = record(sample.gc, `${path}.gc`);
  const memory = record(sample.memory, `${path}.memory`);
  const cpu = record(sample.cpu, `${path}.cpu`);
  const result: RuntimeSample = {
    service: text(sample.service, `${path}.service`),
    instanceId: text(sample.instanceId, `${path}.instanceId`),
    timeMs: positive(sample.timeMs, `${path}.timeMs`),
    intervalMs: positive(sample.intervalMs, `${path}.intervalMs`),
    eventLoopLag: Object.fromEntries(
      LAG_FIELDS.map((field) => [field, nonNegative(lag[field], `${path}.eventLoopLag.${field}`)]),
    ) as RuntimeSample['eventLoopLag'],
    gc: {
      count: nonNegative(gc.count, `${path}.gc.count`),
      pauseMs: nonNegative(gc.pauseMs, `${path}.gc.pauseMs`),
      maxPauseMs: nonNegative(gc.maxPauseMs, `${path}.gc.maxPauseMs`),
      byKind: readGcKinds(gc.byKind, `${path}.gc.byKind`),
    },
    memory: Object.fromEntries(
      MEMORY_FIELDS.map((field) => [field, nonNegative(memory[field], `${path}.memory.${field}`)]),
    ) as RuntimeSample['memory'],
    cpu: {
      userMs: nonNegative(cpu.userMs, `${path}.cpu.userMs`),
      systemMs: nonNegative(cpu.systemMs, `${path}.cpu.systemMs`),
    },
  };
  if (sample.serviceVersion !== undefined)
    result.serviceVersion = text(sample.serviceVersion, `${path}.serviceVersion`);
  if (sample.activeHandles !== undefined)
    result.activeHandles = nonNegative(sample.activeHandles, `${path}.activeHandles`);
  if (sample.cpuProfile !== undefined)
    result.cpuProfile = readCpuProfile(sample.cpuProfile, `${path}.cpuProfile`);
  return result;
}

/** A hot-path profile summary: bounded lists of frames (names, paths, lines) and times, nothing else kept. */
function readCpuProfile(value: unknown, path: string): CpuProfileSummary {
  const profile = record(value, path);
  const number = (field: string) => nonNegative(profile[field], `${path}.${field}`);
  return {
    startMs: positive(profile.startMs, `${path}.startMs`),
    durationMs: number('durationMs'),
    samplingIntervalUs: number('samplingIntervalUs'),
    stalls: number('stalls'),
    stallMs: number('stallMs'),
    sampledMs: number('sampledMs'),
    startPauseMs: number('startPauseMs'),
    functions: list(profile.functions, `${path}.functions`, MAX_PROFILE_FUNCTIONS, (item, at) => {
      const fn = record(item, at);
      return {
        ...readFrame(fn, at),
        selfMs: nonNegative(fn.selfMs, `${at}.selfMs`),
        totalMs: nonNegative(fn.totalMs, `${at}.totalMs`),
        callers: list(fn.callers, `${at}.callers`, MAX_PROFILE_CALLERS, (caller, callerAt) =>
          readFrame(record(caller, callerAt), callerAt),
        ),
      };
    }),
    packages: list(profile.packages, `${path}.packages`, MAX_PROFILE_PACKAGES, (item, at) => {
      const pkg = record(item, at);
      return { name: text(pkg.name, `${at}.name`), selfMs: nonNegative(pkg.selfMs, `${at}.selfMs`) };
    }),
  };
}

function readFrame(frame: Record<string, unknown>, path: string): ProfileFrame {
  const line = nonNegative(frame.line, `${path}.line`);
  if (!Number.isInteger(line)) throw invalid(`${path}.line`, 'an integer ≥ 0', describe(line));
  const url = frame.url;
  if (typeof url !== 'string' || url.length > MAX_TEXT_LENGTH)
    throw invalid(`${path}.url`, `a string of at most ${MAX_TEXT_LENGTH} characters`, describe(url));
  const result: ProfileFrame = {
    functionName: text(frame.functionName, `${path}.functionName`),
    // A data: URL carries a module's source, which is never kept.
    url: url.startsWith('data:') ? 'data:' : url,
    line,
  };
  if (frame.package !== undefined) result.package = text(frame.package, `${path}.package`);
  return result;
}

function list<T>(value: unknown, path: string, max: number, read: (item: unknown, at: string) => T): T[] {
  if (!Array.isArray(value)) throw invalid(path, 'an array', describe(value));
  if (value.length > max) throw invalid(path, `at most ${max} items`, `${value.length}`);
  return value.map((item, index) => read(item, `${path}[${index}]`));
}

function readGcKinds(value: unknown, path: string): RuntimeSample['gc']['byKind'] {
  const kinds = record(value, path);
  const entries = Object.entries(kinds);
  if (entries.length > MAX_GC_KINDS)
    throw invalid(path, `at most ${MAX_GC_KINDS} kinds`, `${entries.length}`);
  const byKind: RuntimeSample['gc']['byKind'] = {};
  for (const [kind, stats] of entries) {
    const at = `${path}.${kind}`;
    if (kind.length > MAX_TEXT_LENGTH || kind === '__proto__')
      throw invalid(path, 'kind names of a GC', JSON.stringify(kind));
    const fields = record(stats, at);
    byKind[kind] = {
      count: nonNegative(fields.count, `${at}.count`),
      pauseMs: nonNegative(fields.pauseMs, `${at}.pauseMs`),
    };
  }
  return byKind;
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (!isRecord(value)) throw invalid(path, 'an object', describe(value));
  return value;
}

function text(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_TEXT_LENGTH) {
    throw invalid(path, `a non-empty string of at most ${MAX_TEXT_LENGTH} characters`, describe(value));
  }
  return value;
}

function nonNegative(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(path, 'a number ≥ 0', describe(value));
  }
  return value;
}

function positive(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(path, 'a number > 0', describe(value));
  }
  return value;
}

function invalid(path: string, expected: string, got: string): Rejection {
  return new Rejection(400, `${path}: expected ${expected}, got ${got}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short, one-line rendering of a bad value for the error message. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 40 ? `${json.slice(0, 40)}…` : json;
}
