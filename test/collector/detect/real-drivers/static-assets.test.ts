/**
 * static_assets on real traffic: examples/playbook/static-app.js under the built agent
 * serves its JavaScript, CSS and SVG from disk next to a JSON API; the spans reach a real
 * collector. An API-only run of the same app is the healthy counterpart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../../../model/index.js';
import { killApps } from '../../../support/agent-process.js';
import { type CollectorRun, startCollectorRun } from './collector-run.js';

const ASSETS = ['/assets/app.js', '/assets/app.css', '/assets/logo.svg'];

async function staticFindings(service: string, pageLoads: number, apiCalls: number) {
  const run = await startCollectorRun('examples/playbook/static-app.js', { service });
  const get = async (path: string) => {
    const response = await fetch(run.appUrl + path);
    await response.arrayBuffer();
    return response.status;
  };
  for (let i = 0; i < pageLoads; i++) {
    expect(await Promise.all(ASSETS.map(get))).toEqual([200, 200, 200]);
  }
  for (let i = 0; i < apiCalls; i++) expect(await get('/api/items')).toBe(200);
  await run.finish();
  return { run, findings: (await run.findings()).filter((finding) => finding.kind === 'static_assets') };
}

describe('static_assets from a real node:http app', () => {
  const runs: CollectorRun[] = [];
  let withAssets: Finding[];
  let apiOnly: Finding[];

  beforeAll(async () => {
    const served = await staticFindings('storefront', 10, 30);
    const api = await staticFindings('api', 0, 30);
    runs.push(served.run, api.run);
    withAssets = served.findings;
    apiOnly = api.findings;
  });

  afterAll(async () => {
    killApps();
    await Promise.all(runs.map((run) => run.close()));
  });

  it('finds the files Node serves, with their share of requests', () => {
    expect(withAssets).toHaveLength(1);
    const [finding] = withAssets;
    expect(finding?.evidence).toMatchObject({
      staticRequests: 30,
      requests: 60,
      requestShare: 0.5,
      extensions: { js: 10, css: 10, svg: 10 },
    });
    const assets = (finding?.evidence.assets ?? []) as Array<{ route: string }>;
    const routes = assets.map((asset) => asset.route).sort();
    expect(routes).toEqual([...ASSETS].sort());
    expect(finding?.recommendation.summary).toContain('CDN or reverse proxy');
  });

  it('stays silent for the same app serving only its API', () => {
    expect(apiOnly).toEqual([]);
  });
});
