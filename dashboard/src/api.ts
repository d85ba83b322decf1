/**
 * The dashboard's one way to the collector: its `/api/*` JSON. URLs resolve against the
 * page, so the dashboard also works behind a reverse proxy that mounts it under a path.
 * A collector started with `--token` answers 401 until the token the user entered (kept
 * in sessionStorage: this tab only, gone when it closes) is sent as a bearer token.
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

const TOKEN_KEY = 'chokepoint.token';

/** The access token entered in this tab, if any. */
export function accessToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

/** Keeps the access token for this tab and sends it with every following request. */
export function setAccessToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

async function getJson(path: string, signal?: AbortSignal): Promise<unknown> {
  const token = accessToken();
  const response = await fetch(new URL(path, document.baseURI), {
    headers: token
      ? { accept: 'application/json', authorization: `Bearer ${token}` }
      : { accept: 'application/json' },
    signal,
  });
  if (!response.ok) throw new ApiError(response.status, `${path} answered HTTP ${response.status}`);
  return response.json();
}
