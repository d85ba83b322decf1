/**
 * The dashboard's one way to the collector: its `/api/*` JSON. URLs resolve against the
 * page, so the dashboard also works behind a reverse proxy that mounts it under a path.
 */
import type { Finding } from '../../model/finding.js';

/** The collector answered, but not with what the dashboard asked for. */
export class ApiError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/**
 * Every current finding, ranked by impact (the collector sorts them, highest first).
 *
 * @example
 * const findings = await fetchFindings(controller.signal);
 */
export async function fetchFindings(signal?: AbortSignal): Promise<Finding[]> {
  const body = await getJson('api/findings', signal);
  const findings = (body as { findings?: unknown } | null)?.findings;
  if (!Array.isArray(findings)) throw new ApiError(200, 'api/findings answered without a findings list');
  return findings as Finding[];
}

async function getJson(path: string, signal?: AbortSignal): Promise<unknown> {
  const response = await fetch(new URL(path, document.baseURI), {
    headers: { accept: 'application/json' },
    signal,
  });
  if (!response.ok) throw new ApiError(response.status, `${path} answered HTTP ${response.status}`);
  return response.json();
}
