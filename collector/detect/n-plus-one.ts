/**
 * n_plus_one — the same statement fingerprint run `nPlusOneMin`+ times under one
 * parent span (a request, a job, a resolver). Overlapping executions from
 * `Promise.all` count too; connection and pool spans between them are not queries
 * and are ignored. Impact is the wall time the repeats occupy, per minute.
 */
import type { DbQueryOperation } from '../../model/index.js';
import { type RepeatRule, repeatCandidates, repeatsUnderParent } from './repeats.js';
import type { Detector } from './types.js';

const statements: RepeatRule<DbQueryOperation> = {
  kind: 'n_plus_one',
  // Transactions and schema changes repeat by nature (BEGIN per unit of work), not by loop.
  select: (operation): operation is DbQueryOperation =>
    operation.type === 'db_query' &&
    operation.statementType !== 'transaction' &&
    operation.statementType !== 'ddl',
  identity: (query) => query.fingerprintId,
  evidence: (query) => ({
    system: query.system,
    fingerprint: query.fingerprint,
    fingerprintId: query.fingerprintId,
    statementType: query.statementType,
    tables: query.tables,
  }),
};

export const nPlusOneDetector: Detector = {
  kind: 'n_plus_one',
  explain: (config) => ({
    rule: `the same statement fingerprint ${config.nPlusOneMin}+ times under one parent span (a request, a job)`,
    impact: 'wall time the repeats occupy in their requests (parallel repeats count once), per minute',
  }),

  inspectTrace: (trace, config) => repeatsUnderParent(trace, statements, config.nPlusOneMin),

  detect: (window) =>
    repeatCandidates(window, 'n_plus_one', ({ pattern, avgRepeats, where }) => {
      const tables = Array.isArray(pattern.evidence.tables) ? (pattern.evidence.tables as string[]) : [];
      const statement = String(pattern.evidence.statementType ?? 'query').toUpperCase();
      return `N+1: ${statement}${tables.length ? ` on ${tables.join(', ')}` : ''} runs ${Math.round(avgRepeats)}× per request${where}`;
    }),
};

/** Kept where it was first defined for existing importers; new code imports it from wall-time.ts. */
export { wallTime } from './wall-time.js';
