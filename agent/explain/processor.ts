/**
 * Plans for slow statements (issue 4): when a database span that a driver wrapper
 * announced ends slower than the threshold, and its statement may be planned, the plan is
 * asked for on the next turn of the event loop — after the app's callback or promise has
 * its result — on the same connection or pool (see the drivers), with tracing suppressed
 * so the `EXPLAIN` itself leaves no span. The plan then rides on the next span of the same
 * statement as `chokepoint.db.plan` / `chokepoint.db.plan_system`: the collector keeps the
 * latest plan per fingerprint, so one span per interval carries it.
 *
 * Failures never reach the app: they are counted, and reported in one `chokepoint:` line
 * a minute at most.
 */
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ChokepointAttributes } from '../../model/attributes.js';
import { ATTR_DB_QUERY_TEXT, ATTR_DB_SYSTEM_NAME } from '../instrumentations/semconv.js';
import { scrubSql } from '../scrub.js';
import { describeError, warn } from '../warn.js';
import { listenForCalls, takeCall } from './calls.js';
import { PlanBook } from './plans.js';
import { shapeStatement } from './statement.js';
import type { CapturedPlan, ExplainableCall, ExplainSettings, PlanSystem } from './types.js';

export const DEFAULT_EXPLAIN_SETTINGS: ExplainSettings = {
  thresholdMs: 100,
  intervalMs: 5 * 60_000,
  perMinute: 10,
  timeoutMs: 1000,
  maxFingerprints: 500,
  maxPlanLength: 100_000,
  scrub: false,
};

const SPAN_STATUS_ERROR = 2;
const WARNING_INTERVAL_MS = 60_000;
/** Statement texts whose key is known; cleared when full (texts repeat: statements are parameterised). */
const MAX_KEYS = 1000;

/** What `db.system.name` says, as a planner; other systems have no plans to ask for. */
function planSystemOf(system: unknown): PlanSystem | undefined {
  return system === 'postgresql' || system === 'sqlite' || system === 'mysql' || system === 'mariadb'
    ? system
    : undefined;
}

/** Upstream's mysql2 spans say `mysql` for MariaDB too: one family, one key. */
type PlanFamily = 'postgresql' | 'sqlite' | 'mysql';

function familyOf(system: PlanSystem): PlanFamily {
  return system === 'mariadb' ? 'mysql' : system;
}

export interface ExplainCounts {
  asked: number;
  captured: number;
  /** Chosen not to run (busy pool, closing connection, oversized plan). */
  skipped: number;
  failed: number;
  attached: number;
}

/**
 * @example
 * new AgentTracerProvider({ spanProcessors: [new ExplainSpanProcessor({ thresholdMs: 200 }), exportProcessor] });
 */
export class ExplainSpanProcessor implements SpanProcessor {
  readonly settings: ExplainSettings;
  readonly counts: ExplainCounts = { asked: 0, captured: 0, skipped: 0, failed: 0, attached: 0 };
  private readonly calls = new WeakMap<object, ExplainableCall>();
  private readonly book: PlanBook;
  /** Statement text → key, per family: the text of every span is looked up while plans wait. */
  private readonly keys: Record<PlanFamily, Map<string, string>> = {
    postgresql: new Map(),
    sqlite: new Map(),
    mysql: new Map(),
  };
  private failuresSinceWarning = 0;
  private lastWarningAt = Number.NEGATIVE_INFINITY;

  constructor(settings: Partial<ExplainSettings> = {}) {
    this.settings = { ...DEFAULT_EXPLAIN_SETTINGS, ...settings };
    this.book = new PlanBook(this.settings);
    listenForCalls(true);
  }

  onStart(span: Span): void {
    const call = takeCall();
    if (call !== undefined) this.calls.set(span, call);
  }

  onEnding(span: Span): void {
    // Or announced as the span ends (better-sqlite3: synchronous, nothing kept per span).
    const call = this.calls.get(span) ?? takeCall();
    if (call === undefined && this.book.pendingCount === 0) return;
    const system = planSystemOf(span.attributes[ATTR_DB_SYSTEM_NAME]);
    if (system === undefined) return;
    if (this.book.pendingCount > 0) this.attachPlan(span, system);
    if (call === undefined || durationMs(span) < this.settings.thresholdMs) return;
    if (span.status.code === SPAN_STATUS_ERROR) return;
    this.consider(call, system);
  }

  onEnd(): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    listenForCalls(false);
    return Promise.resolve();
  }

  private attachPlan(span: Span, system: PlanSystem): void {
    const text = span.attributes[ATTR_DB_QUERY_TEXT];
    if (typeof text !== 'string') return;
    const plan = this.book.take(this.keyOf(text, system));
    if (plan === undefined) return;
    span.setAttribute(ChokepointAttributes.DB_PLAN, plan.text);
    span.setAttribute(ChokepointAttributes.DB_PLAN_SYSTEM, plan.system);
    this.counts.attached++;
  }

  private consider(call: ExplainableCall, spanSystem: PlanSystem): void {
    const text = call.driver.text(call.connection, call.args);
    if (text === undefined) return;
    const now = Date.now();
    const shape = shapeStatement(text, call.driver.system(call.connection));
    const key = this.rememberKey(text, spanSystem, shape.key);
    if (this.book.isRecent(key, now)) return;
    if (!shape.explainable) {
      this.book.refuse(key, now);
      return;
    }
    if (!this.book.ask(key, now)) return;
    this.counts.asked++;
    // The app's callback or promise gets its result first; the plan is asked for after.
    setImmediate(() => this.explain(call, key));
  }

  private explain(call: ExplainableCall, key: string): void {
    let explained: Promise<CapturedPlan | undefined>;
    try {
      explained = context.with(suppressTracing(ROOT_CONTEXT), () =>
        call.driver.explain(call.connection, call.args, this.settings),
      );
    } catch (error) {
      this.fail(error);
      return;
    }
    explained.then((plan) => this.keep(key, plan)).catch((error: unknown) => this.fail(error));
  }

  private keep(key: string, plan: CapturedPlan | undefined): void {
    if (plan === undefined || plan.text.length > this.settings.maxPlanLength) {
      this.counts.skipped++;
      return;
    }
    this.book.store(key, this.settings.scrub ? { ...plan, text: scrubPlan(plan.text, plan.system) } : plan);
    this.counts.captured++;
  }

  private keyOf(text: string, system: PlanSystem): string {
    return (
      this.keys[familyOf(system)].get(text) ??
      this.rememberKey(text, system, shapeStatement(text, system).key)
    );
  }

  /** The book's key: the statement's shape within its family of planners. */
  private rememberKey(text: string, system: PlanSystem, shape: string): string {
    const family = familyOf(system);
    const keys = this.keys[family];
    if (keys.size >= MAX_KEYS) keys.clear();
    const key = `${family}:${shape}`;
    keys.set(text, key);
    return key;
  }

  private fail(error: unknown): void {
    this.counts.failed++;
    this.failuresSinceWarning++;
    const now = Date.now();
    if (now - this.lastWarningAt < WARNING_INTERVAL_MS) return;
    warn(
      `${this.failuresSinceWarning} query plan(s) could not be captured (EXPLAIN for index advice; the app is unaffected): ${describeError(error)}`,
    );
    this.failuresSinceWarning = 0;
    this.lastWarningAt = now;
  }
}

function durationMs(span: ReadableSpan): number {
  const [seconds, nanos] = span.duration;
  return seconds * 1000 + nanos / 1e6;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A plan with the literals of its conditions replaced by `?` (`Filter: (email = ?::text)`),
 * names kept: what the collector reads survives, the values do not.
 *
 * @example
 * scrubPlan('[{"Plan":{"Filter":"(email = \'a@b.c\'::text)"}}]', 'postgresql');
 * // '[{"Plan":{"Filter":"(email = ?::text)"}}]'
 */
export function scrubPlan(text: string, system: PlanSystem): string {
  const scrub = (value: Json): Json => {
    if (typeof value === 'string') return scrubSql(value, system);
    if (Array.isArray(value)) return value.map(scrub);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, scrub(item)]));
  };
  return JSON.stringify(scrub(JSON.parse(text) as Json));
}
