/**
 * The fix for static_assets: let something built for it serve the files. A CDN or a
 * reverse proxy caches them in front of Node; long-lived cache headers on fingerprinted
 * files stop browsers asking again; compression shrinks text assets. The agent does not
 * capture response headers, so the advice says what to check rather than what is missing.
 */
import type { FindingCandidate, Recommendation } from '../../model/index.js';

export function recommendStaticAssets(candidate: FindingCandidate): Recommendation {
  const { evidence } = candidate;
  const share = Math.round(Number(evidence.requestShare ?? 0) * 100);
  const assets = (evidence.assets as Array<{ route: string }> | undefined) ?? [];
  const example = assets[0]?.route ?? '/assets/app.js';
  return {
    summary: 'Serve static files from a CDN or reverse proxy, with long cache headers and compression',
    detail:
      `${evidence.staticRequests} of ${evidence.requests} requests (${share}%) fetched static files from the Node process, ` +
      `${evidence.meanMs} ms each, ${evidence.perMinute} a minute. Put a CDN or a reverse proxy (nginx, Caddy) in ` +
      'front to serve and cache them, so Node handles only API requests. Response headers are not captured, so ' +
      `check them: \`curl -sI -H 'Accept-Encoding: br, gzip' <your host>${example}\` should show ` +
      '`Cache-Control: public, max-age=31536000, immutable` for fingerprinted files (a hash in the name), a short ' +
      '`max-age` or `no-cache` with an `ETag` for the others, and `Content-Encoding: br` or `gzip` for JavaScript, ' +
      'CSS and SVG. Until a proxy is in front, the server can set them itself (below, Express).',
    code: [
      "const express = require('express');",
      "const compression = require('compression');",
      '',
      'app.use(compression()); // gzip for text assets (a CDN or proxy does this better)',
      "app.use('/assets', express.static('public/assets', {",
      "  maxAge: '1y', // fingerprinted names: a new build gets new URLs",
      '  immutable: true,',
      '}));',
    ].join('\n'),
    language: 'javascript',
  };
}
