import { describe, expect, it } from 'vitest';
import {
  headersToCheck,
  isStaticRoute,
  staticAssetsDetector,
} from '../../../collector/detect/static-assets.js';
import { recommend } from '../../../collector/recommend/index.js';
import { runDetector } from '../../support/detect-harness.js';
import { assetHeavyService, imageUploads } from './fixtures/assets.js';

describe('static_assets detector', () => {
  it('tells static files from API routes', () => {
    for (const route of [
      '/assets/app.{hash}.js',
      '/main.css',
      '/img/logo.SVG',
      '/fonts/a.woff2',
      '/app.js.map',
    ]) {
      expect(isStaticRoute(route), route).toBe(true);
    }
    expect(isStaticRoute('/public')).toBe(true);
    for (const route of ['/api/orders/:id', '/users/{id}', '/publications', '/assets-report', '/json']) {
      expect(isStaticRoute(route), route).toBe(false);
    }
  });

  it('fires when the service serves a meaningful share of static requests, with their share of time', () => {
    const findings = runDetector(staticAssetsDetector, assetHeavyService());
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'static_assets',
      service: 'shop',
      key: 'static',
      title: "Static files served by Node: 40% of shop's requests",
      evidence: {
        staticRequests: 40,
        requests: 100,
        requestShare: 0.4,
        staticMs: 160,
        // 160 ms of 3 160 ms.
        timeShare: 0.05,
        meanMs: 4,
        extensions: { js: 10, css: 10, png: 10, ico: 10 },
      },
    });
    expect(findings[0]?.evidence.assets).toContainEqual({
      route: '/favicon.ico',
      requests: 10,
      meanMs: 4,
      headers: ['Cache-Control: no-cache, with an ETag', 'Content-Encoding: br or gzip'],
    });
    // Each file carries the headers it should have: the dashboard shows them as they are.
    const assets = findings[0]?.evidence.assets as Array<{ route: string; headers: string[] }>;
    expect(assets.find((asset) => asset.route === '/assets/app.{hash}.js')?.headers).toEqual([
      'Cache-Control: public, max-age=31536000, immutable',
      'Content-Encoding: br or gzip',
    ]);
    expect(assets.find((asset) => asset.route === '/static/logo.png')?.headers).toEqual([
      'Cache-Control: no-cache, with an ETag',
    ]);
  });

  it('asks fingerprinted files for long-lived caching and text for compression', () => {
    expect(headersToCheck('/assets/app.{hash}.js')).toEqual([
      'Cache-Control: public, max-age=31536000, immutable',
      'Content-Encoding: br or gzip',
    ]);
    expect(headersToCheck('/static/main.3f9a1c2b7e.css')).toEqual([
      'Cache-Control: public, max-age=31536000, immutable',
      'Content-Encoding: br or gzip',
    ]);
  });

  it('asks other files to revalidate, and leaves compressed formats uncompressed', () => {
    expect(headersToCheck('/assets/logo.png')).toEqual(['Cache-Control: no-cache, with an ETag']);
    expect(headersToCheck('/assets/icons.svg?v=2')).toEqual([
      'Cache-Control: no-cache, with an ETag',
      'Content-Encoding: br or gzip',
    ]);
    expect(headersToCheck('/fonts/inter.woff2')).toEqual(['Cache-Control: no-cache, with an ETag']);
  });

  it('stays silent on an API-only service, a few static requests, and writes to image-like routes', () => {
    expect(runDetector(staticAssetsDetector, assetHeavyService(60, 0))).toEqual([]);
    expect(runDetector(staticAssetsDetector, assetHeavyService(60, 12))).toEqual([]);
    expect(runDetector(staticAssetsDetector, assetHeavyService(1_000, 40))).toEqual([]);
    expect(runDetector(staticAssetsDetector, imageUploads())).toEqual([]);
  });

  it('recommends a CDN or proxy, cache headers and compression, with what to check', () => {
    const [finding] = runDetector(staticAssetsDetector, assetHeavyService());
    const fix = recommend(finding as NonNullable<typeof finding>);
    expect(fix.summary).toBe(
      'Serve static files from a CDN or reverse proxy, with long cache headers and compression',
    );
    expect(fix.detail).toContain('40 of 100 requests (40%)');
    expect(fix.detail).toContain('Cache-Control: public, max-age=31536000, immutable');
    expect(fix.detail).toMatch(
      /curl -sI -H 'Accept-Encoding: br, gzip' <your host>\/\S+\.(js|css|png|ico)` should show/,
    );
    expect(fix.code).toContain("maxAge: '1y'");
  });
});
