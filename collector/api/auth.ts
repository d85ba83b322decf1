/**
 * Bearer-token access control for the collector's two servers, as Hono middleware.
 *
 * With a token configured, a request passes only with `Authorization: Bearer <token>`;
 * anything else is answered 401 with a one-line reason and a `WWW-Authenticate` challenge
 * (RFC 6750). Both tokens are hashed to SHA-256 before a constant-time comparison, so the
 * time an answer takes tells nothing about the token, not even its length.
 *
 * @example
 * const app = new Hono();
 * app.use('/api/*', bearerAuth({ token: 's3cret', except: ['/api/health'] }));
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

export interface BearerAuthOptions {
  /** The token every request must present. */
  token: string;
  /** Exact paths left open (a health check for load balancers). Default none. */
  except?: readonly string[];
  /** Told about every refused request (a counter, a log line); it cannot change the answer. */
  onRejected?: (reason: string) => void;
}

const defaults = { except: [] as readonly string[], onRejected: (_reason: string) => {} };

/**
 * Refuses requests without the bearer token. Throws a RangeError for an empty token: a guard
 * that lets everyone in must be a decision (no middleware), not an accident.
 *
 * @example
 * app.use('/v1/*', bearerAuth({ token, onRejected: () => rejected.inc({ reason: '401' }) }));
 */
export function bearerAuth(options: BearerAuthOptions): MiddlewareHandler {
  const { token, except, onRejected } = { ...defaults, ...options };
  if (token === '') throw new RangeError('bearerAuth needs a non-empty token');
  const expected = sha256(token);
  const open = new Set(except);
  return async (c, next) => {
    if (open.has(c.req.path)) return next();
    const reason = refusalReason(c.req.header('authorization'), expected);
    if (reason === undefined) return next();
    try {
      onRejected(reason);
    } catch {
      // An observer's failure must not change what the client is told.
    }
    return c.json({ error: reason }, 401, { 'www-authenticate': 'Bearer realm="chokepoint"' });
  };
}

/**
 * The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or
 * `undefined` when the header is absent or uses another scheme.
 *
 * @example
 * bearerToken('Bearer abc'); // 'abc'
 */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1];
}

/** Why a request is refused, or `undefined` when its token is the expected one. */
function refusalReason(header: string | undefined, expected: Buffer): string | undefined {
  if (header === undefined) return 'missing Authorization header: send Authorization: Bearer <token>';
  const presented = bearerToken(header);
  if (presented === undefined) return 'Authorization header is not of the form "Bearer <token>"';
  return timingSafeEqual(sha256(presented), expected) ? undefined : 'invalid bearer token';
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
