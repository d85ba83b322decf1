/**
 * Serves the built dashboard from memory: the bundle is small, read once at start,
 * and never touches the filesystem per request (no path traversal to worry about).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import type { Hono } from 'hono';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

interface Asset {
  body: Uint8Array;
  type: string;
}

function readAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const urlPath = `/${relative(dir, path).split(sep).join('/')}`;
        assets.set(urlPath, {
          body: readFileSync(path),
          type: CONTENT_TYPES[extname(name)] ?? 'application/octet-stream',
        });
      }
    }
  };
  walk(dir);
  return assets;
}

/** Mounts `GET /` and the dashboard's files; a missing build answers with how to make it. */
export function serveDashboard(app: Hono, dashboardDir: string): void {
  let assets: Map<string, Asset>;
  try {
    assets = readAssets(dashboardDir);
  } catch {
    assets = new Map();
  }
  app.get('*', (c) => {
    const path = c.req.path === '/' ? '/index.html' : c.req.path;
    const asset = assets.get(path);
    if (!asset) {
      if (c.req.path === '/') {
        return c.text(`The dashboard is not built (${dashboardDir} is missing). Run: npm run build`, 503);
      }
      return c.json({ error: `not found: ${c.req.path}` }, 404);
    }
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, {
      'content-type': asset.type,
      'cache-control': path === '/index.html' ? 'no-cache' : 'public, max-age=300',
      'x-content-type-options': 'nosniff',
    });
  });
}
