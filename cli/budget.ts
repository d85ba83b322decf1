/**
 * The performance budget `chokepoint check` enforces, and its verdict on a list of findings.
 *
 * A finding breaks the budget through a rule of its kind: N+1 repeats (`maxNPlusOne`, for every
 * `n_plus_one*` kind), slow-query p95 (`slowQueryMs`), cache hit ratio (`minCacheHitRatio`), queue
 * lag (`maxQueueLagMs`), the share of request time spent waiting for a pool connection
 * (`maxPoolWaitShare`), the share of requests opening a database connection of their own
 * (`maxNewConnectionShare`) and a dependency's error rate (`maxDependencyErrorRate`). Findings of
 * other kinds (slow endpoints, the runtime, work to offload, static files) are reported, never
 * judged: they are advice whose worth depends on the app, or symptoms of the kinds above. A finding the
 * `ignore` list names is left out. With a baseline, a finding over budget counts only when it is
 * *new* (its id is not in the baseline) or *worse* than its baseline self:
 *
 * - more repeats per request (`maxRepeats`): a count, so any increase;
 * - the rule's time (p95, lag) or share (wait share, new-connection share, error rate) at least
 *   `worseFactor` × the baseline's;
 * - a cache miss ratio (1 − hit ratio) at least `worseFactor` × the baseline's;
 * - an impact at least `worseFactor` × the baseline's *and* a higher severity — both, so that
 *   run-to-run noise on a small finding, or a nudge across a severity boundary, is not "worse".
 *
 * {@link evaluateBudget} is pure (findings and budget in, verdict out); {@link readBudgetFile} reads the file.
 *
 * @example
 * const verdict = evaluateBudget(findings, { ...defaultBudget, maxNPlusOne: 2 });
 * if (verdict.violations.length > 0) process.exitCode = 1;
 */
import { existsSync, readFileSync } from 'node:fs';
import { type Finding, SEVERITIES } from '../model/index.js';
import { type NumberBounds, parseNumber, UsageError } from './args.js';

export interface Budget {
  /** Most repeats of one statement (or call) per request; more is an N+1 over budget. */
  maxNPlusOne?: number;
  /** A slow query whose p95 reaches this breaks the budget. */
  slowQueryMs?: number;
  /** A cache whose hit ratio (0–1) is below this breaks the budget. */
  minCacheHitRatio?: number;
  /** A queue whose consumer lag (p95) exceeds this breaks the budget. */
  maxQueueLagMs?: number;
  /** Requests that spend more than this share (0–1) of their time waiting for a pool connection break the budget. */
  maxPoolWaitShare?: number;
  /** More than this share (0–1) of requests opening a database connection of their own breaks the budget. */
  maxNewConnectionShare?: number;
  /** A dependency (HTTP host, database, cache, broker) failing more than this share (0–1) of calls breaks the budget. */
  maxDependencyErrorRate?: number;
  /** Findings to leave out: a finding id, a fingerprint id, a fingerprint text or a route. */
  ignore: string[];
  /** Against a baseline, how much larger a time or impact must get to count as worse. */
  worseFactor: number;
}

export type RuleName =
  | 'maxNPlusOne'
  | 'slowQueryMs'
  | 'minCacheHitRatio'
  | 'maxQueueLagMs'
  | 'maxPoolWaitShare'
  | 'maxNewConnectionShare'
  | 'maxDependencyErrorRate';

/** The collector's own defaults: an N+1 from 5 repeats, a slow query from a 100 ms p95. */
export const defaultBudget: Budget = {
  maxNPlusOne: 4,
  slowQueryMs: 100,
  ignore: [],
  worseFactor: 1.5,
};

interface Rule {
  name: RuleName;
  appliesTo: (finding: Finding) => boolean;
  /** What the rule measures, for messages. */
  measure: string;
  read: (finding: Finding) => number | undefined;
  /** Whether `actual` breaks `limit`. */
  breaks: (actual: number, limit: number) => boolean;
  /** Whether `actual` is worse than the baseline's `previous`. */
  worse: (actual: number, previous: number, factor: number) => boolean;
  describe: (actual: number, limit: number) => string;
}

const RULES: readonly Rule[] = [
  {
    name: 'maxNPlusOne',
    appliesTo: (finding) => finding.kind.startsWith('n_plus_one'),
    measure: 'maxRepeats',
    read: (finding) => numberIn(finding.evidence.maxRepeats),
    breaks: (actual, limit) => actual > limit,
    worse: (actual, previous) => actual > previous,
    describe: (actual, limit) => `${actual} repeats per request (budget: at most ${limit})`,
  },
  {
    name: 'slowQueryMs',
    appliesTo: (finding) => finding.kind === 'slow_query',
    measure: 'p95Ms',
    read: (finding) => numberIn(finding.p95Ms) ?? numberIn(finding.evidence.p95Ms),
    breaks: (actual, limit) => actual >= limit,
    worse: (actual, previous, factor) => atLeast(actual, factor * previous),
    describe: (actual, limit) => `p95 ${actual} ms (budget: under ${limit} ms)`,
  },
  {
    name: 'minCacheHitRatio',
    appliesTo: (finding) => finding.kind === 'cache_hit_ratio',
    measure: 'hitRatio',
    read: (finding) => numberIn(finding.evidence.hitRatio),
    breaks: (actual, limit) => actual < limit,
    worse: (actual, previous, factor) => actual < previous && atLeast(1 - actual, factor * (1 - previous)),
    describe: (actual, limit) => `hit ratio ${percent(actual)} (budget: at least ${percent(limit)})`,
  },
  {
    name: 'maxQueueLagMs',
    appliesTo: (finding) => finding.kind === 'queue_lag',
    measure: 'lagP95Ms',
    read: (finding) => numberIn(finding.p95Ms) ?? numberIn(finding.evidence.lagP95Ms),
    breaks: (actual, limit) => actual > limit,
    worse: (actual, previous, factor) => atLeast(actual, factor * previous),
    describe: (actual, limit) => `lag p95 ${actual} ms (budget: at most ${limit} ms)`,
  },
  shareRule(
    'maxPoolWaitShare',
    (finding) => finding.kind === 'connection_pool' && finding.evidence.rule !== 'new_connections',
    'waitShare',
    'of request time waiting for a connection',
  ),
  shareRule(
    'maxNewConnectionShare',
    (finding) => finding.kind === 'connection_pool' && finding.evidence.rule === 'new_connections',
    'openShare',
    'of requests open a new connection',
  ),
  shareRule(
    'maxDependencyErrorRate',
    (finding) => finding.kind === 'dependency_resilience',
    'errorRate',
    'of calls fail',
  ),
];

/** A rule on a share (0–1) the evidence holds: over the limit breaks it, `worseFactor` × the baseline's is worse. */
function shareRule(
  name: RuleName,
  appliesTo: (finding: Finding) => boolean,
  measure: string,
  what: string,
): Rule {
  return {
    name,
    appliesTo,
    measure,
    read: (finding) => numberIn(finding.evidence[measure]),
    breaks: (actual, limit) => actual > limit,
    worse: (actual, previous, factor) => atLeast(actual, factor * previous),
    describe: (actual, limit) => `${percent(actual)} ${what} (budget: at most ${percent(limit)})`,
  };
}

export interface Violation {
  findingId: string;
  kind: string;
  title: string;
  rule: RuleName;
  limit: number;
  /** The measured value (`maxRepeats`, `p95Ms`, `hitRatio`, `lagP95Ms`, `waitShare`, `openShare`, `errorRate`). */
  actual: number;
  /** Against the baseline: not in it, or worse than it. `null` without a baseline. */
  change: 'new' | 'worse' | null;
  message: string;
}

export interface BudgetVerdict {
  /** Over budget and not excused by the baseline: these fail the check. */
  violations: Violation[];
  /** Over budget, but in the baseline and not worse. */
  tolerated: Violation[];
  /** Ids of the findings the `ignore` list left out. */
  ignored: string[];
}

/**
 * Judges `findings` against `budget`, and against `baseline` (the findings of a saved report)
 * when one is given.
 *
 * @example
 * evaluateBudget(current, defaultBudget, saved.findings).violations.map((v) => v.message);
 */
export function evaluateBudget(
  findings: readonly Finding[],
  budget: Budget,
  baseline?: readonly Finding[],
): BudgetVerdict {
  const verdict: BudgetVerdict = { violations: [], tolerated: [], ignored: [] };
  const previousById = new Map(baseline?.map((finding) => [finding.id, finding]));
  for (const finding of findings) {
    if (isIgnored(finding, budget.ignore)) {
      verdict.ignored.push(finding.id);
      continue;
    }
    const rule = RULES.find((candidate) => candidate.appliesTo(finding));
    const limit = rule ? budget[rule.name] : undefined;
    if (!rule || limit === undefined) continue;
    const actual = rule.read(finding);
    if (actual === undefined || !rule.breaks(actual, limit)) continue;
    const measured = rule.describe(actual, limit);
    const violation: Violation = {
      findingId: finding.id,
      kind: finding.kind,
      title: finding.title,
      rule: rule.name,
      limit,
      actual,
      change: null,
      message: measured,
    };
    if (!baseline) {
      verdict.violations.push(violation);
      continue;
    }
    const previous = previousById.get(finding.id);
    if (!previous) {
      verdict.violations.push({ ...violation, change: 'new', message: `new: ${measured}` });
      continue;
    }
    const worse = worseThanBaseline(finding, previous, rule, budget.worseFactor);
    if (worse) verdict.violations.push({ ...violation, change: 'worse', message: `worse: ${worse}` });
    else verdict.tolerated.push({ ...violation, message: `in the baseline, not worse: ${measured}` });
  }
  return verdict;
}

/** Why `current` is worse than `previous` (see the module comment), or undefined. */
function worseThanBaseline(
  current: Finding,
  previous: Finding,
  rule: Rule,
  factor: number,
): string | undefined {
  const actual = rule.read(current);
  const before = rule.read(previous);
  if (actual !== undefined && before !== undefined && rule.worse(actual, before, factor)) {
    return `${rule.measure} ${actual}, was ${before} in the baseline`;
  }
  const severityRose = SEVERITIES.indexOf(current.severity) < SEVERITIES.indexOf(previous.severity);
  if (severityRose && atLeast(current.impact, factor * previous.impact)) {
    return `impact ${current.impact} ms/min (${current.severity}), was ${previous.impact} ms/min (${previous.severity}) in the baseline`;
  }
  return undefined;
}

/**
 * Whether the `ignore` list names the finding: its id, its key, its fingerprint id or text,
 * or every route it was seen on (a finding that also runs on a route not listed still counts).
 */
export function isIgnored(finding: Finding, ignore: readonly string[]): boolean {
  if (ignore.length === 0) return false;
  const names = [finding.id, finding.key, finding.evidence.fingerprintId, finding.evidence.fingerprint];
  if (names.some((name) => typeof name === 'string' && ignore.includes(name))) return true;
  const routes = routesOf(finding);
  return routes.length > 0 && routes.every((route) => ignore.includes(route));
}

/** The routes (`GET /orders/:id`) a finding's evidence lists. */
function routesOf(finding: Finding): string[] {
  const routes = finding.evidence.routes;
  if (!Array.isArray(routes)) return [];
  return routes.flatMap((entry: unknown) => {
    const route = (entry as { route?: unknown } | null)?.route;
    return typeof route === 'string' ? [route] : [];
  });
}

/** `value ≥ threshold`, forgiving floating-point error (1 − 0.6 is not quite 1.5 × 0.4 in binary). */
function atLeast(value: number, threshold: number): boolean {
  return value >= threshold - 1e-9 * Math.abs(threshold);
}

function numberIn(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10}%`;
}

export type BudgetNumber = Exclude<keyof Budget, 'ignore'>;

/** The numeric settings: their flag, their bounds, their help line (the config file uses the same names and bounds). */
export const BUDGET_SETTINGS: Readonly<
  Record<BudgetNumber, { flag: string; bounds: NumberBounds; help: string }>
> = {
  maxNPlusOne: {
    flag: 'max-n-plus-one',
    bounds: { integer: true, min: 1 },
    help: `most repeats of one statement per request (default ${defaultBudget.maxNPlusOne})`,
  },
  slowQueryMs: {
    flag: 'slow-query-ms',
    bounds: { above: 0 },
    help: `a query whose p95 reaches this fails (default ${defaultBudget.slowQueryMs})`,
  },
  minCacheHitRatio: {
    flag: 'min-cache-hit-ratio',
    bounds: { min: 0, max: 1 },
    help: 'a cache hit ratio below this fails (default: not checked)',
  },
  maxQueueLagMs: {
    flag: 'max-queue-lag-ms',
    bounds: { min: 0 },
    help: 'a queue lag p95 above this fails (default: not checked)',
  },
  maxPoolWaitShare: {
    flag: 'max-pool-wait-share',
    bounds: { min: 0, max: 1 },
    help: 'requests waiting for a pool connection more than this share of their time fail (default: not checked)',
  },
  maxNewConnectionShare: {
    flag: 'max-new-connection-share',
    bounds: { min: 0, max: 1 },
    help: 'more than this share of requests opening a database connection fails (default: not checked)',
  },
  maxDependencyErrorRate: {
    flag: 'max-dependency-error-rate',
    bounds: { min: 0, max: 1 },
    help: 'a dependency failing more than this share of calls fails (default: not checked)',
  },
  worseFactor: {
    flag: 'worse-factor',
    bounds: { above: 1 },
    help: `with --baseline: how much larger a time must get to be worse (default ${defaultBudget.worseFactor})`,
  },
};

/** The file `chokepoint check` reads its budget from when it exists in the working directory. */
export const CONFIG_FILE = 'chokepoint.config.json';

/**
 * Reads a budget from a config file (`{"maxNPlusOne": 3, "ignore": ["GET /health"]}`) over the
 * defaults. Unknown keys and bad values are usage errors naming the file and the key.
 *
 * @example
 * readBudgetFile('chokepoint.config.json', { required: false }); // defaultBudget when absent
 */
export function readBudgetFile(path: string, options: { required: boolean }): Budget {
  if (!existsSync(path)) {
    if (options.required) throw new UsageError(`--config ${path}: no such file`);
    return { ...defaultBudget, ignore: [] };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`${path} must hold a JSON object such as {"maxNPlusOne": 4}`);
  }
  const budget: Budget = { ...defaultBudget, ignore: [] };
  for (const [key, value] of Object.entries(parsed)) {
    if (key === '$schema') continue;
    if (key === 'ignore') {
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item !== '')) {
        throw new UsageError(`${path}: "ignore" must be a list of non-empty strings`);
      }
      budget.ignore = value;
      continue;
    }
    const setting = BUDGET_SETTINGS[key as BudgetNumber];
    if (!setting) {
      const known = ['ignore', ...Object.keys(BUDGET_SETTINGS)].join(', ');
      throw new UsageError(`${path}: unknown setting "${key}" (known: ${known})`);
    }
    // null turns a rule off (a default one included).
    if (value === null) delete budget[key as BudgetNumber];
    else if (typeof value !== 'number') {
      throw new UsageError(`${path}: "${key}" must be a number or null, not ${JSON.stringify(value)}`);
    } else budget[key as BudgetNumber] = parseNumber(String(value), `${path}: "${key}"`, setting.bounds);
  }
  return budget;
}
