/**
 * offload_candidate — request time spent on work the response does not need: outbound
 * calls to mail, notification, SMS, push or webhook endpoints (host or path says so), and
 * inserts into audit, log, activity, analytics or notification tables. A queue worker can
 * do them after the response; the request then stops paying for them. Fires per
 * (service, work) when enough requests spend enough of their time on it.
 *
 * Each trace yields two occurrences per piece of work in the pattern family: `<work>`
 * (its wall time inside the request) and `<work> @requests` (the time of those requests),
 * so the share comes from the whole window without a family of its own. Work still running
 * when the response was sent (fire and forget) is already off the request and not counted.
 */
import type {
  DbQueryOperation,
  FindingCandidate,
  HttpClientOperation,
  Operation,
} from '../../model/index.js';
import type { PatternStats } from '../aggregate/stats.js';
import { topLabels } from '../aggregate/stats.js';
import { entryLabel } from '../assemble/trace.js';
import { formatMs, percent, round2 } from './format.js';
import { severityForImpact } from './severity.js';
import type { Detector, Occurrence } from './types.js';
import { wallTime } from './wall-time.js';

/** Hosts and paths of work a response does not wait for. */
export const SIDE_EFFECT_ENDPOINT = /mail|smtp|notif|webhook|hooks|sms|push|email/i;
/** Tables written for the record, not for the response. */
export const SIDE_EFFECT_TABLE = /audit|(^|_)logs?($|_)|activit|analytic|tracking|notification|email/i;

const REQUESTS_SUFFIX = ' @requests';
/** Clocks of a client span and its server span differ by a fraction of a millisecond. */
const END_TOLERANCE_MS = 1;

export const offloadCandidateDetector: Detector = {
  kind: 'offload_candidate',
  explain: (config) => ({
    rule:
      'outbound calls to mail/notification/webhook-like endpoints, or inserts into audit/log/analytics-like tables, ' +
      `inside a request: ≥ ${config.offloadMinMsPerRequest} ms per request and ≥ ${percent(config.offloadMinShare)} of its time, ` +
      `over ≥ ${config.offloadMinRequests} requests`,
    impact:
      'time requests spent on that work before responding, per minute (what a queue worker takes off them)',
  }),

  inspectTrace(trace) {
    // Made at the first piece of work: most traces hold none, and pay for no map.
    let byWork:
      | Map<string, { entry: Operation; operations: Operation[]; evidence: Record<string, unknown> }>
      | undefined;
    for (const operation of trace.operations) {
      const work = sideEffectOf(operation);
      if (!work) continue;
      const entry = trace.entryOf(operation);
      if (entry?.type !== 'http_server') continue;
      // The request waited only for work that ended before it did: the rest was fire and forget.
      if (
        operation.startTimeMs + operation.durationMs >
        entry.startTimeMs + entry.durationMs + END_TOLERANCE_MS
      ) {
        continue;
      }
      const id = `${entry.spanId} ${work.key}`;
      byWork ??= new Map();
      const group = byWork.get(id);
      if (group) group.operations.push(operation);
      else byWork.set(id, { entry, operations: [operation], evidence: work.evidence });
    }
    const occurrences: Occurrence[] = [];
    if (!byWork) return occurrences;
    for (const { entry, operations, evidence } of byWork.values()) {
      const key = String(evidence.work);
      const base = { kind: 'offload_candidate' as const, service: entry.service, traceId: trace.traceId };
      occurrences.push(
        {
          ...base,
          key,
          entry: entryLabel(entry),
          repeats: operations.length,
          durationMs: wallTime(operations),
          evidence,
        },
        { ...base, key: key + REQUESTS_SUFFIX, repeats: 1, durationMs: entry.durationMs, evidence },
      );
    }
    return occurrences;
  },

  detect(window, config) {
    const requestsByWork = new Map<string, PatternStats>();
    for (const pattern of window.patterns) {
      if (pattern.kind === 'offload_candidate' && pattern.key.endsWith(REQUESTS_SUFFIX)) {
        requestsByWork.set(`${pattern.service}\n${pattern.key.slice(0, -REQUESTS_SUFFIX.length)}`, pattern);
      }
    }
    const candidates: FindingCandidate[] = [];
    for (const work of window.patterns) {
      if (work.kind !== 'offload_candidate' || work.key.endsWith(REQUESTS_SUFFIX)) continue;
      const requests = requestsByWork.get(`${work.service}\n${work.key}`);
      if (!requests || work.occurrences < config.offloadMinRequests) continue;
      const msPerRequest = work.totalMs / work.occurrences;
      const requestMeanMs = requests.totalMs / requests.occurrences;
      const share = work.totalMs / requests.totalMs;
      if (msPerRequest < config.offloadMinMsPerRequest || share < config.offloadMinShare) continue;
      const routes = topLabels(work.entries).map(({ label, count }) => ({ route: label, requests: count }));
      const where = routes[0] ? ` in ${routes[0].route}` : '';
      const impact = work.totalMs / window.minutes;
      candidates.push({
        kind: 'offload_candidate',
        service: work.service,
        key: work.key,
        title: `Offload ${work.key}${where}: ${formatMs(msPerRequest)} of each request (${Math.round(share * 100)}%)`,
        severity: severityForImpact(impact),
        impact: round2(impact),
        evidence: {
          ...work.evidence,
          requests: work.occurrences,
          callsPerRequest: round2(work.totalRepeats / work.occurrences),
          msPerRequest: round2(msPerRequest),
          share: round2(share),
          requestMeanMs: round2(requestMeanMs),
          requestMeanMsAfter: round2(requestMeanMs - msPerRequest),
          routes,
          exampleTraceId: work.exampleTraceId,
        },
      });
    }
    return candidates;
  },
};

/** What makes an operation work the response need not wait for, and its identity; undefined if it is not. */
function sideEffectOf(operation: Operation): { key: string; evidence: Record<string, unknown> } | undefined {
  if (operation.type === 'http_client') return sideEffectCall(operation);
  if (operation.type === 'db_query') return sideEffectWrite(operation);
  return undefined;
}

function sideEffectCall(call: HttpClientOperation) {
  if (!SIDE_EFFECT_ENDPOINT.test(call.host) && !SIDE_EFFECT_ENDPOINT.test(call.urlTemplate)) return undefined;
  const work = `${call.method} ${call.host}${call.urlTemplate}`;
  return {
    key: work,
    evidence: { work, type: 'http', method: call.method, host: call.host, urlTemplate: call.urlTemplate },
  };
}

function sideEffectWrite(query: DbQueryOperation) {
  if (query.statementType !== 'insert') return undefined;
  const table = query.tables.find((name) => SIDE_EFFECT_TABLE.test(name));
  if (!table) return undefined;
  const work = `insert ${table}`;
  return {
    key: work,
    evidence: { work, type: 'write', system: query.system, table, fingerprint: query.fingerprint },
  };
}
