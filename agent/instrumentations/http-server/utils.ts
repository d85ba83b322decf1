import type { Attributes } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_REQUEST_METHOD_ORIGINAL } from '../semconv.js';

export interface MethodDescription {
  spanName: string;
  /** Read-only: shared by every request with the method (spans copy what they are given). */
  attributes: Attributes;
}

/** The methods the HTTP semantic conventions name, described once; any other is `_OTHER`. */
const KNOWN_METHODS = new Map(
  ['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE', 'QUERY'].map(
    (method): [string, MethodDescription] => [
      method,
      Object.freeze({
        spanName: method,
        attributes: Object.freeze({ [ATTR_HTTP_REQUEST_METHOD]: method }),
      }),
    ],
  ),
);

/**
 * Span name and start attributes for a request's method: the method itself when the
 * conventions know it, else `_OTHER` (span name `HTTP`) with the method as sent beside it,
 * so that made-up methods cannot multiply the collector's endpoints.
 *
 * @example
 * describeMethod('GET'); // { spanName: 'GET', attributes: { 'http.request.method': 'GET' } }
 * describeMethod('PURGE').spanName; // 'HTTP'
 */
export function describeMethod(method: string | undefined): MethodDescription {
  const known = method === undefined ? undefined : KNOWN_METHODS.get(method);
  if (known !== undefined) return known;
  return {
    spanName: 'HTTP',
    attributes: { [ATTR_HTTP_REQUEST_METHOD]: '_OTHER', [ATTR_HTTP_REQUEST_METHOD_ORIGINAL]: method ?? '' },
  };
}

const ABSOLUTE_FORM = /^[A-Za-z][\w+.-]*:\/\/[^/?#]*/;

/**
 * The path of a request target, without its query string (which may carry tokens and
 * never leaves the process); the origin of an absolute-form target (`GET http://host/x`,
 * as proxies receive it) is dropped too.
 *
 * @example
 * requestPath('/orders/42?token=secret'); // '/orders/42'
 * requestPath('http://shop.example/cart'); // '/cart'
 */
export function requestPath(target: string | undefined): string {
  if (target === undefined || target === '') return '/';
  const query = target.indexOf('?');
  const path = query === -1 ? target : target.slice(0, query);
  if (path.startsWith('/')) return path;
  const origin = ABSOLUTE_FORM.exec(path);
  return origin === null ? path : path.slice(origin[0].length) || '/';
}
