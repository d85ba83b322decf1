/**
 * URL templates: `/users/42/orders?page=2` → `/users/{id}/orders`. Used for inbound
 * requests whose framework gave no `http.route`, and for every outbound URL, so that
 * one endpoint is one operation and no id, token, email or query string is stored.
 */
import { LruCache } from './lru-cache.js';
import { variablePlaceholder } from './variable-part.js';

const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443', ws: '80', wss: '443' };
/** Paths templated lately: routes and hot endpoints repeat, and templating one classifies every segment. */
const templates = new LruCache<string, string>(10_000);
/** Longer paths are templated every time rather than held (a cache of 10k of them could hold megabytes). */
const MAX_CACHED_PATH_LENGTH = 1_024;
/** File extensions kept when the name before them is folded: `{id}.json`. */
const MAX_EXTENSION_LENGTH = 5;

/**
 * Folds the variable segments of a path: integers → `{id}`, UUIDs → `{uuid}`, long
 * hex digests and base64/base62 tokens → `{hash}`, emails → `{email}`, dates → `{date}`.
 * Drops the query string, the fragment and `;params`; segments are classified after
 * percent-decoding (`alice%40example.com` is an email) but static ones keep their
 * original spelling. An absolute URL is reduced to its path first.
 *
 * @example
 * templatePath('/users/42/orders/7f3c9a0e-1b2d-4c5e-8f90-a1b2c3d4e5f6?expand=items');
 * // '/users/{id}/orders/{uuid}'
 */
export function templatePath(path: string): string {
  return path.length > MAX_CACHED_PATH_LENGTH ? templateOf(path) : templates.getOrCompute(path, templateOf);
}

function templateOf(path: string): string {
  let start = 0;
  const scheme = path.indexOf('://');
  if (scheme !== -1 && scheme < path.search(/[/?#]/)) {
    const slash = path.indexOf('/', scheme + 3);
    if (slash === -1) return '/';
    start = slash;
  }
  let end = path.length;
  for (let i = start; i < end; i++) {
    const code = path.charCodeAt(i);
    if (code === 63 || code === 35) end = i;
  }
  if (end === start) return '/';
  const segments = path.slice(start, end).split('/');
  for (let i = 0; i < segments.length; i++) segments[i] = templateSegment(segments[i] ?? '');
  return segments.join('/');
}

function templateSegment(raw: string): string {
  const semicolon = raw.indexOf(';');
  const segment = semicolon === -1 ? raw : raw.slice(0, semicolon);
  if (segment === '') return segment;
  const decoded = segment.includes('%') ? safeDecode(segment) : segment;
  const placeholder = variablePlaceholder(decoded);
  if (placeholder) return placeholder;
  // `42.json`, `3f9c…a1.png`: fold the name, keep the extension.
  const dot = decoded.lastIndexOf('.');
  if (dot > 0 && decoded.length - dot - 1 <= MAX_EXTENSION_LENGTH) {
    const extension = decoded.slice(dot + 1);
    const basePlaceholder = isExtension(extension) ? variablePlaceholder(decoded.slice(0, dot)) : undefined;
    if (basePlaceholder) return `${basePlaceholder}.${extension}`;
  }
  return segment;
}

function isExtension(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i) | 32;
    const isLetter = code >= 97 && code <= 122;
    if (!isLetter && !(i > 0 && code >= 48 && code <= 57)) return false;
  }
  return true;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The host of an absolute URL, lowercased, without credentials, with its port
 * unless it is the scheme's default; `''` when the URL has no host.
 *
 * @example
 * hostOf('https://user:secret@API.example.com:443/v1/users?id=1'); // 'api.example.com'
 * hostOf('http://localhost:8080/health'); // 'localhost:8080'
 */
export function hostOf(url: string): string {
  const schemeEnd = url.indexOf('//');
  // `scheme://host` or `//host`; a `//` inside a path is not an authority.
  if (schemeEnd === -1 || (schemeEnd > 0 && url.charCodeAt(schemeEnd - 1) !== 58)) return '';
  const scheme = url.slice(0, Math.max(0, schemeEnd - 1)).toLowerCase();
  const authorityStart = schemeEnd + 2;
  let authorityEnd = url.length;
  for (let i = authorityStart; i < authorityEnd; i++) {
    const code = url.charCodeAt(i);
    if (code === 47 || code === 63 || code === 35) authorityEnd = i;
  }
  const authority = url.slice(authorityStart, authorityEnd);
  const host = authority.slice(authority.lastIndexOf('@') + 1).toLowerCase();
  const portAt = host.lastIndexOf(':');
  // `[::1]:8080`: a colon inside the IPv6 brackets is not a port separator.
  if (portAt === -1 || portAt < host.lastIndexOf(']')) return host;
  const port = host.slice(portAt + 1);
  return port === '' || DEFAULT_PORTS[scheme] === port ? host.slice(0, portAt) : host;
}

/**
 * `host:port`, leaving out the default ports 80 and 443; for `server.address` and `server.port`.
 *
 * @example
 * hostWithPort('api.example.com', 443); // 'api.example.com'
 */
export function hostWithPort(address: string, port: number | undefined): string {
  const host = address.toLowerCase();
  return port === undefined || port === 80 || port === 443 ? host : `${host}:${port}`;
}
