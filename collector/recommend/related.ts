/**
 * The findings a candidate's `evidence.related` names (detect/related.ts writes them), read
 * back for advice that depends on them: a hot path inside a slow SQLite query, a query
 * stretched by a blocked event loop.
 */

/** A finding linked in `evidence.related`. */
export interface RelatedFinding {
  id: string;
  kind: string;
  title: string;
}

/**
 * @example
 * relatedFindings(candidate.evidence).find((finding) => finding.kind === 'event_loop_blocked');
 */
export function relatedFindings(evidence: Record<string, unknown>): RelatedFinding[] {
  const related = evidence.related;
  if (!Array.isArray(related)) return [];
  return related.filter(
    (entry): entry is RelatedFinding =>
      typeof entry === 'object' &&
      entry !== null &&
      typeof (entry as RelatedFinding).kind === 'string' &&
      typeof (entry as RelatedFinding).title === 'string',
  );
}
