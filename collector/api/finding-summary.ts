/**
 * A finding as a list shows it (`GET /api/findings?view=summary`): what ranks and names it, and
 * the few evidence fields that tie it to the rows of the list views and to its example request.
 * The dashboard polls the list every few seconds while detection rewrites every active finding;
 * a summary is less than half of the whole finding (statements, breakdowns, the fix's detail and
 * code), which `GET /api/findings/:id` serves when one is opened.
 */
import type { Evidence, Finding } from '../../model/index.js';

/** Evidence fields a summary keeps: how list rows find their findings (routes, fingerprint, instances) and the example request. */
export const SUMMARY_EVIDENCE = [
  'routes',
  'fingerprintId',
  'instances',
  'dominant',
  'exampleTraceId',
] as const;

/** A summary is a subset of the finding at the same paths: a reader of either reads it the same way. */
export type FindingSummary = Omit<Finding, 'evidence' | 'recommendation'> & {
  evidence: Evidence;
  recommendation: { summary: string };
};

/**
 * @example
 * summarizeFinding(finding).recommendation; // { summary: 'Add an index on orders (customer_id)' }
 */
export function summarizeFinding(finding: Finding): FindingSummary {
  const evidence: Evidence = {};
  for (const field of SUMMARY_EVIDENCE) {
    const value = finding.evidence[field];
    if (value !== undefined) evidence[field] = value;
  }
  // Runtime findings list each instance's measurements: a list matches them by id alone.
  if (Array.isArray(evidence.instances)) evidence.instances = evidence.instances.map(instanceIdOnly);
  // Field by field rather than a rest spread: this runs for every finding on every change of the list.
  const summary: FindingSummary = {
    id: finding.id,
    kind: finding.kind,
    service: finding.service,
    key: finding.key,
    title: finding.title,
    severity: finding.severity,
    impact: finding.impact,
    status: finding.status,
    firstSeen: finding.firstSeen,
    lastSeen: finding.lastSeen,
    evidence,
    recommendation: { summary: finding.recommendation.summary },
  };
  if (finding.p95Ms !== undefined) summary.p95Ms = finding.p95Ms;
  if (finding.serviceVersion !== undefined) summary.serviceVersion = finding.serviceVersion;
  if (finding.baseline !== undefined) summary.baseline = finding.baseline;
  return summary;
}

function instanceIdOnly(instance: unknown): unknown {
  return typeof instance === 'object' && instance !== null && 'instanceId' in instance
    ? { instanceId: (instance as { instanceId: unknown }).instanceId }
    : instance;
}
