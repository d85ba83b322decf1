/**
 * Query plans for index advice (issue 4): the span processor that decides when to ask and
 * attaches what it got (processor.ts), how each driver asks (pg.ts, mysql2.ts, sqlite.ts),
 * and the pg and mysql2 wrappers that tell the processor which connection a span's
 * statement ran on (instrumentation.ts; better-sqlite3 is the agent's own instrumentation
 * and announces its statements itself). Construct the instrumentation after upstream's:
 * instrumentations hook modules in the order they are built.
 */
export { ExplainInstrumentation } from './instrumentation.js';
export { DEFAULT_EXPLAIN_SETTINGS, ExplainSpanProcessor, scrubPlan } from './processor.js';
export type { ExplainSettings, PlanSystem } from './types.js';
