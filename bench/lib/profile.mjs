/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) into where the time went: self time by
 * package (`@opentelemetry/sdk-trace-base`, `node:internal`, the app, …), the heaviest
 * functions, and the inclusive time under chosen frames (OTLP serialisation, span start).
 */
import { readFileSync } from 'node:fs';

/**
 * @example
 * const summary = summarizeProfile('/tmp/prof/CPU.1.cpuprofile', { inclusive: { serialise: /serializeRequest/ } });
 * summary.byPackage[0]; // { name: '@opentelemetry/sdk-trace-base', ms: 812.4, share: 0.21 }
 */
export function summarizeProfile(path, { inclusive = {}, top = 15 } = {}) {
  const profile = JSON.parse(readFileSync(path, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  // Each sample is charged the interval until the next one, as Chrome DevTools does.
  const selfMicros = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const delta = timeDeltas[i + 1] ?? 0;
    selfMicros.set(samples[i], (selfMicros.get(samples[i]) ?? 0) + delta);
  }
  const totalMicros = [...selfMicros.values()].reduce((sum, micros) => sum + micros, 0);
  const idle = new Set(['(idle)', '(program)', '(garbage collector)']);

  const packages = new Map();
  const functions = new Map();
  const under = Object.fromEntries(Object.keys(inclusive).map((label) => [label, 0]));
  for (const [id, micros] of selfMicros) {
    const node = byId.get(id);
    const { functionName, url, lineNumber } = node.callFrame;
    const name = idle.has(functionName) ? functionName : packageOf(url);
    packages.set(name, (packages.get(name) ?? 0) + micros);
    const fn = `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + micros);
    // Inclusive: charge the sample once to every label one of its ancestors matches.
    const matched = new Set();
    for (let at = id; at !== undefined; at = parentOf.get(at)) {
      const frame = byId.get(at).callFrame;
      for (const [label, pattern] of Object.entries(inclusive)) {
        if (!matched.has(label) && pattern.test(`${frame.functionName} ${frame.url}`)) matched.add(label);
      }
    }
    for (const label of matched) under[label] += micros;
  }
  const ranked = (map) =>
    [...map]
      .map(([name, micros]) => ({ name, ms: micros / 1000, share: micros / totalMicros }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top);
  return {
    totalMs: totalMicros / 1000,
    byPackage: ranked(packages),
    byFunction: ranked(functions),
    inclusive: Object.fromEntries(
      Object.entries(under).map(([label, micros]) => [
        label,
        { ms: micros / 1000, share: micros / totalMicros },
      ]),
    ),
  };
}

function packageOf(url) {
  if (!url) return '(native)';
  if (url.startsWith('node:')) return 'node:internal';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1];
  // The agent and collector by folder: `chokepoint agent/otlp`, `chokepoint collector/normalize`.
  const dist = /\/dist\/([^/]+)\/(?:([^/]+)\/)?/.exec(url);
  if (dist) return `chokepoint ${dist[1]}${dist[2] ? `/${dist[2]}` : ''}`;
  return 'app';
}

function shortUrl(url) {
  return url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|bench)\//, '$1/');
}
