/**
 * `GET /api/findings` served from what the API kept: read once per store revision, filter and
 * view, read again after any write (through the collector's store or another connection), gzip'd
 * for clients that ask, and answered 304 to a poll whose copy is current; `?view=summary` is the
 * list's subset of each finding.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiApp } from '../../../collector/api/app.js';
import { ifNoneMatch } from '../../../collector/api/cached-body.js';
import { findingsBodies } from '../../../collector/api/findings-body.js';
import { createCollectorMetrics } from '../../../collector/api/metrics.js';
import { SqliteStore } from '../../../collector/store/sqlite-store.js';
import type { FindingFilter, FindingUpdate } from '../../../collector/store/types.js';
import type { Finding } from '../../../model/index.js';

const NOW = Date.parse('2026-11-26T12:00:00Z');

/** The real store, counting how often the list is read from SQLite and which findings it read whole. */
class CountingStore extends SqliteStore {
  reads = 0;
  wholeReads: string[] = [];

  override listFindingRevisions(filter: FindingFilter, isKept: (id: string, revision: number) => boolean) {
    this.reads += 1;
    const listed = super.listFindingRevisions(filter, isKept);
    for (const { finding } of listed) if (finding) this.wholeReads.push(finding.key);
    return listed;
  }
}

function finding(key: string, impact: number, service = 'shop'): FindingUpdate {
  return {
    kind: 'slow_query',
    service,
    key,
    title: `slow ${key}`,
    severity: 'high',
    impact,
    evidence: { fingerprint: `select ${key}` },
    recommendation: { summary: 's', detail: 'd' },
  };
}

let path: string;
let store: CountingStore;

function app() {
  return createApiApp({
    store,
    metrics: createCollectorMetrics(store, () => 0),
    dashboardDir: join(path, 'dashboard'),
    seriesMs: 60 * 60_000,
    clock: () => NOW,
  });
}

async function keys(response: Response): Promise<string[]> {
  const body = (await response.json()) as { findings: Array<{ key: string }> };
  return body.findings.map((f) => f.key);
}

beforeEach(() => {
  path = join(mkdtempSync(join(tmpdir(), 'chokepoint-findings-body-')), 'api.db');
  store = new CountingStore(path);
  store.upsertFindings([finding('fp1', 100), finding('fp2', 900), finding('fp3', 50, 'billing')], NOW);
});

afterEach(() => store.close());

describe('GET /api/findings between store writes', () => {
  it('reads the store once per filter while nothing is written', async () => {
    const api = app();
    expect(await keys(await api.request('/api/findings'))).toEqual(['fp2', 'fp1', 'fp3']);
    expect(await keys(await api.request('/api/findings'))).toEqual(['fp2', 'fp1', 'fp3']);
    expect(await keys(await api.request('/api/findings?service=billing'))).toEqual(['fp3']);
    expect(await keys(await api.request('/api/findings?service=billing'))).toEqual(['fp3']);
    expect(store.reads).toBe(2);
  });

  it('serves what a detection run wrote, and a lifecycle change, on the next request', async () => {
    const api = app();
    await api.request('/api/findings');
    store.upsertFindings([finding('fp4', 5_000)], NOW + 2_000);
    expect(await keys(await api.request('/api/findings'))).toEqual(['fp4', 'fp2', 'fp1', 'fp3']);

    store.updateLifecycle(NOW + 60 * 60_000);
    const body = (await (await api.request('/api/findings')).json()) as {
      findings: Array<{ status: string }>;
    };
    expect(new Set(body.findings.map((f) => f.status))).toEqual(new Set(['resolved']));
  });

  it('keeps its copy when a lifecycle pass or a detection run changes nothing', async () => {
    const api = app();
    await api.request('/api/findings');
    store.updateLifecycle(NOW + 1_000);
    store.upsertFindings([], NOW + 1_000);
    await api.request('/api/findings');
    expect(store.reads).toBe(1);
  });

  it('serves what another connection to the file committed', async () => {
    const api = app();
    await api.request('/api/findings');
    const other = new SqliteStore(path);
    try {
      other.upsertFindings([finding('fp9', 9_000)], NOW + 2_000);
    } finally {
      other.close();
    }
    expect((await keys(await api.request('/api/findings')))[0]).toBe('fp9');
  });

  it('reads again only the findings written since, by this store or another connection', async () => {
    const api = app();
    await api.request('/api/findings');
    expect(store.wholeReads.sort()).toEqual(['fp1', 'fp2', 'fp3']);

    store.wholeReads = [];
    store.upsertFindings([finding('fp1', 2_000)], NOW + 1_000);
    const other = new SqliteStore(path);
    try {
      other.upsertFindings([finding('fp3', 1_000, 'billing')], NOW + 2_000);
    } finally {
      other.close();
    }
    expect(await keys(await api.request('/api/findings'))).toEqual(['fp1', 'fp3', 'fp2']);
    expect(store.wholeReads.sort()).toEqual(['fp1', 'fp3']);
    const served = (await (await api.request('/api/findings')).json()) as unknown;
    expect(served).toEqual(JSON.parse(JSON.stringify({ findings: store.listFindings() })));

    // Lifecycle passes rewrite findings too: each transition is served in both views.
    const statuses = async (view: string) => {
      const body = (await (await api.request(`/api/findings?view=${view}`)).json()) as {
        findings: Array<{ status: string }>;
      };
      return body.findings.map((f) => f.status);
    };
    store.updateLifecycle(NOW + 11 * 60_000);
    expect(await statuses('summary')).toEqual(['ongoing', 'ongoing', 'ongoing']);
    expect(await statuses('full')).toEqual(['ongoing', 'ongoing', 'ongoing']);
    store.updateLifecycle(NOW + 60 * 60_000);
    expect(await statuses('summary')).toEqual(['resolved', 'resolved', 'resolved']);
    expect(await statuses('full')).toEqual(['resolved', 'resolved', 'resolved']);
  });

  it('answers an empty list as JSON too', async () => {
    expect(await (await app().request('/api/findings?service=nobody')).text()).toBe('{"findings":[]}');
  });

  it('answers the same as the store reads, field for field', async () => {
    const served = (await (await app().request('/api/findings?service=shop')).json()) as unknown;
    expect(served).toEqual(JSON.parse(JSON.stringify({ findings: store.listFindings({ service: 'shop' }) })));
  });
});

describe('GET /api/findings for polling clients', () => {
  it('answers 304 with no body to the current tag, and the new list once the store changed', async () => {
    const api = app();
    const first = await api.request('/api/findings');
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^W\/".+"$/);
    expect(first.headers.get('cache-control')).toBe('no-cache');

    const unchanged = await api.request('/api/findings', { headers: { 'if-none-match': etag } });
    expect(unchanged.status).toBe(304);
    expect(await unchanged.text()).toBe('');
    expect(unchanged.headers.get('etag')).toBe(etag);

    store.upsertFindings([finding('fp4', 5_000)], NOW + 2_000);
    const changed = await api.request('/api/findings', { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect((await keys(changed))[0]).toBe('fp4');
  });

  it('never answers 304 to a tag from another collector process on the same file', async () => {
    const etag = (await app().request('/api/findings')).headers.get('etag') ?? '';
    const restarted = await app().request('/api/findings', { headers: { 'if-none-match': etag } });
    expect(restarted.status).toBe(200);
  });

  it('gzips for a client that accepts it, and only for one', async () => {
    const api = app();
    const plain = await api.request('/api/findings');
    const plainText = await plain.text();
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(plain.headers.get('content-type')).toBe('application/json');
    expect(plain.headers.get('vary')).toBe('accept-encoding');

    const zipped = await api.request('/api/findings', {
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await zipped.arrayBuffer())).toString()).toBe(plainText);

    const refused = await api.request('/api/findings', { headers: { 'accept-encoding': 'gzip;q=0, br' } });
    expect(refused.headers.get('content-encoding')).toBeNull();
    expect(await refused.text()).toBe(plainText);
  });
});

describe('GET /api/findings bytes', () => {
  it('writes characters past ASCII as escapes: an ASCII body with the same values', async () => {
    store.upsertFindings([{ ...finding('fp7', 3_000), title: 'N+1: 8× per request in GET /orders…' }], NOW);
    const api = app();
    for (const view of ['full', 'summary']) {
      const bytes = new Uint8Array(await (await api.request(`/api/findings?view=${view}`)).arrayBuffer());
      expect(bytes.every((byte) => byte < 0x80)).toBe(true);
      const body = JSON.parse(new TextDecoder().decode(bytes)) as { findings: Finding[] };
      expect(body.findings[0]?.title).toBe('N+1: 8× per request in GET /orders…');
    }
  });

  it('gzips a list of many segments, changed in one finding, to the same bytes as it serves plain', async () => {
    store.upsertFindings(
      Array.from({ length: 300 }, (_, i) => finding(`many${i}`, 10 + i)),
      NOW,
    );
    const api = app();
    const gzip = { headers: { 'accept-encoding': 'gzip' } };
    const inflated = async () =>
      gunzipSync(
        Buffer.from(await (await api.request('/api/findings?view=summary', gzip)).arrayBuffer()),
      ).toString();
    const plain = async () => (await api.request('/api/findings?view=summary')).text();
    expect(await inflated()).toBe(await plain());

    store.upsertFindings([{ ...finding('many150', 160), title: 'changed' }], NOW + 1_000);
    const changed = await inflated();
    expect(changed).toBe(await plain());
    expect(changed).toContain('"title":"changed"');
  });
});

describe('GET /api/findings?view=summary', () => {
  const summaryEvidence = {
    routes: [{ route: 'GET /orders', count: 40 }],
    fingerprintId: 'fp-orders',
    instances: [{ instanceId: 'web-1', maxDelayMs: 300, blockedMs: 1_200 }, 'web-2'],
    dominant: 'sql',
    exampleTraceId: 'trace-1',
  };

  beforeEach(() => {
    store.upsertFindings(
      [
        {
          ...finding('fp5', 2_000),
          p95Ms: 450,
          evidence: { ...summaryEvidence, fingerprint: 'select * from orders', p99Ms: 900, plan: 'Seq Scan' },
          recommendation: {
            summary: 'Add an index',
            detail: 'Long reasons',
            code: 'CREATE INDEX …',
            language: 'sql',
          },
        },
      ],
      NOW,
    );
  });

  it('serves each finding with what a list shows, at the paths of the whole finding', async () => {
    const api = app();
    const whole = (await (await api.request('/api/findings')).json()) as { findings: Finding[] };
    const { findings } = (await (await api.request('/api/findings?view=summary')).json()) as {
      findings: Finding[];
    };
    expect(findings.map((f) => f.key)).toEqual(whole.findings.map((f) => f.key));
    const summary = findings.find((f) => f.key === 'fp5');
    const full = whole.findings.find((f) => f.key === 'fp5');
    const { evidence: _evidence, recommendation: _recommendation, ...rest } = full as Finding;
    expect(summary).toEqual({
      ...rest,
      // Instances by id alone; the statement, percentiles and plan stay with the detail.
      evidence: { ...summaryEvidence, instances: [{ instanceId: 'web-1' }, 'web-2'] },
      recommendation: { summary: 'Add an index' },
    });
    expect(summary?.p95Ms).toBe(450);
  });

  it('is a body of its own: tagged apart from the whole list, read again after a write', async () => {
    const api = app();
    const full = await api.request('/api/findings');
    const summary = await api.request('/api/findings?view=summary');
    expect(summary.headers.get('etag')).not.toBe(full.headers.get('etag'));
    const stale = await api.request('/api/findings?view=summary', {
      headers: { 'if-none-match': full.headers.get('etag') ?? '' },
    });
    expect(stale.status).toBe(200);

    store.upsertFindings([finding('fp6', 9_000)], NOW + 2_000);
    expect((await keys(await api.request('/api/findings?view=summary')))[0]).toBe('fp6');
  });

  it('answers ?view=full as no view, and refuses an unknown view naming the valid ones', async () => {
    const api = app();
    expect(await (await api.request('/api/findings?view=full')).text()).toBe(
      await (await api.request('/api/findings')).text(),
    );
    const refused = await api.request('/api/findings?view=slim');
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'unknown view "slim": expected one of full, summary' });
  });
});

describe('findingsBodies', () => {
  it('keeps at most maxFilters bodies, dropping the oldest, and each stays right', () => {
    const bodyOf = findingsBodies(store, { maxFilters: 2 });
    const text = (filter: FindingFilter) => new TextDecoder().decode(bodyOf(filter).json);
    const all = text({});
    text({ service: 'shop' });
    text({ service: 'billing' });
    expect(store.reads).toBe(3);
    expect(text({ service: 'billing' })).toContain('fp3');
    expect(store.reads).toBe(3);
    expect(text({})).toBe(all);
    expect(store.reads).toBe(4);
  });
});

describe('ifNoneMatch', () => {
  it('compares weakly, in a list, and takes *', () => {
    expect(ifNoneMatch('W/"a.1"', 'W/"a.1"')).toBe(true);
    expect(ifNoneMatch('"a.1"', 'W/"a.1"')).toBe(true);
    expect(ifNoneMatch('W/"a.0" ,  W/"a.1"', 'W/"a.1"')).toBe(true);
    expect(ifNoneMatch('*', 'W/"a.1"')).toBe(true);
    expect(ifNoneMatch('W/"a.2"', 'W/"a.1"')).toBe(false);
    expect(ifNoneMatch(undefined, 'W/"a.1"')).toBe(false);
  });
});
