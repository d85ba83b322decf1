/**
 * List answers merged on the list thread (the built `list-worker.js`: run `node
 * scripts/build.mjs` first) are the answers merged here, byte for byte, for every list route;
 * a merge that fails is that request's error; a thread that cannot start leaves merging here,
 * reported.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Aggregator } from '../../../collector/aggregate/window.js';
import { createApiApp } from '../../../collector/api/app.js';
import { LIST_NAMES, type ListRequest, listAnswer } from '../../../collector/api/list-answer.js';
import { ListThread } from '../../../collector/api/list-thread.js';
import { createCollectorMetrics } from '../../../collector/api/metrics.js';
import { TraceAssembler } from '../../../collector/assemble/trace-assembler.js';
import { SqliteStore } from '../../../collector/store/sqlite-store.js';
import { FIXTURE_NOW } from '../../support/detect-harness.js';
import { coldCacheAside } from '../detect/fixtures/caches.js';
import { unindexedLookup } from '../detect/fixtures/queries.js';

let path: string;
let store: SqliteStore;
let thread: ListThread | undefined;

beforeEach(() => {
  path = join(mkdtempSync(join(tmpdir(), 'chokepoint-list-thread-')), 'lists.db');
  store = new SqliteStore(path);
  const aggregator = new Aggregator();
  const assembler = new TraceAssembler();
  assembler.add([...unindexedLookup(), ...coldCacheAside()], FIXTURE_NOW);
  for (const trace of assembler.drainAll()) aggregator.record(trace, [], FIXTURE_NOW);
  store.writeBuckets(aggregator.takeDirty());
});

afterEach(async () => {
  await thread?.close();
  thread = undefined;
  store.close();
});

const request = (name: string, fields: Partial<ListRequest> = {}): ListRequest => ({
  name,
  since: '1h',
  fromMs: FIXTURE_NOW - 60 * 60_000,
  nowMs: FIXTURE_NOW + 60_000,
  limit: 100,
  ...fields,
});

describe('ListThread', () => {
  it('answers every list route as merging here does, through its own connection', async () => {
    const errors: string[] = [];
    thread = new ListThread(path, {
      fallback: () => {
        throw new Error('merged on the main thread');
      },
      onError: (message) => errors.push(message),
    });
    for (const name of LIST_NAMES) {
      expect(await thread.answer(request(name))).toEqual(listAnswer(store, request(name)));
    }
    const shop = request('queries', { service: 'shop', limit: 1, freshMs: 5_000 });
    expect(await thread.answer(shop)).toEqual(listAnswer(store, shop));
    expect(JSON.parse(listAnswer(store, request('queries')).json).queries).not.toEqual([]);
    expect(errors).toEqual([]);
  });

  it('rejects a request whose merge fails, and answers the next', async () => {
    thread = new ListThread(path, { fallback: (asked) => listAnswer(store, asked) });
    await expect(thread.answer(request('nothing'))).rejects.toThrow(/unknown list "nothing"/);
    expect((await thread.answer(request('caches'))).json).toContain('"caches":[{');
  });

  it('merges here, and says so, when its thread cannot start', async () => {
    const errors: string[] = [];
    thread = new ListThread(path, {
      fallback: (asked) => listAnswer(store, asked),
      onError: (message) => errors.push(message),
      script: join(path, '..', 'no-such-worker.js'),
    });
    expect(await thread.answer(request('queries'))).toEqual(listAnswer(store, request('queries')));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await thread.answer(request('queries'))).toEqual(listAnswer(store, request('queries')));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/list thread .*: merging lists on the main thread/);
  });

  it('serves the API the same bodies as merging inline', async () => {
    thread = new ListThread(path, { fallback: (asked) => listAnswer(store, asked) });
    const api = (lists?: ListThread) =>
      createApiApp({
        store,
        metrics: createCollectorMetrics(store, () => 0),
        dashboardDir: join(tmpdir(), 'no-dashboard'),
        seriesMs: 60 * 60_000,
        clock: () => FIXTURE_NOW + 60_000,
        ...(lists ? { lists } : {}),
      });
    const threaded = api(thread);
    const inline = api();
    for (const name of LIST_NAMES) {
      const path = `/api/${name}?since=15m&limit=10`;
      expect(await (await threaded.request(path)).text()).toBe(await (await inline.request(path)).text());
    }
  });
});
