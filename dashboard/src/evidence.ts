/**
 * Typed readers for finding evidence. Evidence is JSON whose shape depends on the
 * finding's kind and grows over time, and its text comes from users' spans: every field
 * is optional here, and a missing or mistyped one reads as `undefined` (shown as "—")
 * instead of breaking the view.
 */
import type { Evidence } from '../../model/finding.js';

/** A route (or job) the finding was seen under, and how often. */
export interface RouteCount {
  route: string;
  count: number;
}

/** Fields every database finding carries. */
export interface QueryEvidence {
  system?: string;
  /** The normalised statement: literals already replaced by `?` in the collector. */
  fingerprint?: string;
  statementType?: string;
  tables: string[];
  routes: RouteCount[];
  exampleTraceId?: string;
}

export interface SlowQueryEvidence extends QueryEvidence {
  count?: number;
  totalMs?: number;
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  /** 0–1: this statement's part of the service's database time. */
  shareOfDbTime?: number;
}

export interface NPlusOneEvidence extends QueryEvidence {
  requests?: number;
  avgRepeats?: number;
  maxRepeats?: number;
  repeatMsPerRequest?: number;
}

/** Evidence of a `slow_query` finding. */
export function readSlowQueryEvidence(evidence: Evidence): SlowQueryEvidence {
  return {
    ...readQueryEvidence(evidence, 'count'),
    count: numberField(evidence, 'count'),
    totalMs: numberField(evidence, 'totalMs'),
    p50Ms: numberField(evidence, 'p50Ms'),
    p95Ms: numberField(evidence, 'p95Ms'),
    p99Ms: numberField(evidence, 'p99Ms'),
    maxMs: numberField(evidence, 'maxMs'),
    shareOfDbTime: numberField(evidence, 'shareOfDbTime'),
  };
}

/** Evidence of an `n_plus_one` finding. */
export function readNPlusOneEvidence(evidence: Evidence): NPlusOneEvidence {
  return {
    ...readQueryEvidence(evidence, 'requests'),
    requests: numberField(evidence, 'requests'),
    avgRepeats: numberField(evidence, 'avgRepeats'),
    maxRepeats: numberField(evidence, 'maxRepeats'),
    repeatMsPerRequest: numberField(evidence, 'repeatMsPerRequest'),
  };
}

/**
 * Evidence of a kind this dashboard has no dedicated view for, as label/text pairs.
 *
 * @example
 * evidenceEntries({ hitRatio: 0.4, keys: ['user:{id}'] }) // [['hitRatio', '0.4'], ['keys', '["user:{id}"]']]
 */
export function evidenceEntries(evidence: Evidence): Array<[string, string]> {
  return Object.entries(evidence).map(([key, value]) => [
    key,
    typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)),
  ]);
}

/** A finding that a slow route's evidence links to: what lies behind its time. */
export interface RelatedFinding {
  id: string;
  kind: string;
  title: string;
  impact: number;
}

/** `evidence.related`: the findings linked to this one (detect/related.ts), highest impact first. */
export function readRelated(evidence: Evidence): RelatedFinding[] {
  return readObjects(evidence.related).flatMap(({ id, kind, title, impact }) =>
    typeof id === 'string' &&
    typeof kind === 'string' &&
    typeof title === 'string' &&
    typeof impact === 'number'
      ? [{ id, kind, title, impact }]
      : [],
  );
}

/** A place in the code a CPU profile names: hot_path_cpu's hot spot, its caller, its call path. */
export interface CodePlace {
  functionName: string;
  /** Relative file path, `node:…` for Node's own modules, `''` for native code. */
  url: string;
  line: number;
  /** `name@version` when the file is in node_modules. */
  package?: string;
}

/**
 * A place in the code from evidence, `undefined` without a function name.
 *
 * @example
 * readPlace({ functionName: 'hashPassword', url: 'src/auth.js', line: 12 }) // { functionName: 'hashPassword', url: 'src/auth.js', line: 12 }
 */
export function readPlace(value: unknown): CodePlace | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { functionName, url, line, package: pkg } = value as Record<string, unknown>;
  if (typeof functionName !== 'string' || functionName === '') return undefined;
  const place: CodePlace = {
    functionName,
    url: typeof url === 'string' ? url : '',
    line: typeof line === 'number' && Number.isFinite(line) ? line : 0,
  };
  if (typeof pkg === 'string' && pkg !== '') place.package = pkg;
  return place;
}

/**
 * A place for people: the function, then where it is.
 *
 * @example
 * placeText({ functionName: 'hashPassword', url: 'src/auth.js', line: 12 }) // 'hashPassword (src/auth.js:12)'
 * placeText({ functionName: 'run', url: '', line: 0 })                      // 'run (native code)'
 */
export function placeText(place: CodePlace): string {
  const where = place.url === '' ? 'native code' : place.line > 0 ? `${place.url}:${place.line}` : place.url;
  return `${place.functionName} (${where})${place.package ? ` · ${place.package}` : ''}`;
}

/**
 * The objects of an evidence list (instances, statements run after a miss, …); anything that
 * is not an object is skipped.
 *
 * @example
 * readObjects([{ instanceId: 'a' }, 3, null]) // [{ instanceId: 'a' }]
 */
export function readObjects(value: unknown): Array<Record<string, unknown>> {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (item): item is Record<string, unknown> =>
      typeof item === 'object' && item !== null && !Array.isArray(item),
  );
}

/** Routes counted by `countKey`, for kinds beyond the two dedicated readers. */
export function readRouteCounts(evidence: Evidence, countKey: 'count' | 'requests'): RouteCount[] {
  return readRoutes(evidence.routes, countKey);
}

/** `routeCountKey` names each route's count: `count` for executions, `requests` for N+1. */
function readQueryEvidence(evidence: Evidence, routeCountKey: string): QueryEvidence {
  const tables = evidence.tables;
  return {
    system: stringField(evidence, 'system'),
    fingerprint: stringField(evidence, 'fingerprint'),
    statementType: stringField(evidence, 'statementType'),
    tables: Array.isArray(tables) ? tables.filter((table): table is string => typeof table === 'string') : [],
    routes: readRoutes(evidence.routes, routeCountKey),
    exampleTraceId: stringField(evidence, 'exampleTraceId'),
  };
}

function readRoutes(value: unknown, countKey: string): RouteCount[] {
  if (!Array.isArray(value)) return [];
  const routes: RouteCount[] = [];
  for (const item of value) {
    if (typeof item !== 'object' || item === null) continue;
    const { route, [countKey]: count } = item as Record<string, unknown>;
    if (typeof route === 'string' && typeof count === 'number') routes.push({ route, count });
  }
  return routes;
}

/** A text field of evidence, `undefined` when missing, empty or not text. */
export function stringField(evidence: Evidence, key: string): string | undefined {
  const value = evidence[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** An object field of evidence (counts by kind, by extension), `undefined` when missing or not an object. */
export function objectField(evidence: Evidence, key: string): Record<string, unknown> | undefined {
  const value = evidence[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** A numeric field of evidence, `undefined` when missing or not a finite number. */
export function numberField(evidence: Evidence, key: string): number | undefined {
  const value = evidence[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
