/**
 * One list route's answer (`/api/queries`, `/api/endpoints`, …): every stored bucket of its
 * family over the range, merged per key into rows, with each row's sparkline, as JSON. A pure
 * function of the store, so the API runs it where it likes: on its own thread (list-thread.ts),
 * or inline when it has none.
 */
import type { Store } from '../store/types.js';
import {
  cacheRows,
  decodeRecords,
  endpointRows,
  queryRows,
  queueRows,
  runtimeRows,
  type StatsRecord,
} from './aggregates.js';
import { listFreshMs } from './list-cache.js';
import { LIST_SPARKLINES, listSparklines, SPARKLINE_SLOT_MS, type SparklineSpec } from './sparklines.js';

/** Each route's rows, and its sparklines, whose `family` is also the family its buckets are read from. */
const LIST_ROUTES: Record<
  string,
  {
    rows: (records: StatsRecord<never>[], nowMs: number) => unknown[];
    sparklines: SparklineSpec<unknown>;
  }
> = {
  queries: { rows: queryRows, sparklines: LIST_SPARKLINES.queries },
  endpoints: { rows: endpointRows, sparklines: LIST_SPARKLINES.endpoints },
  caches: { rows: cacheRows, sparklines: LIST_SPARKLINES.caches },
  queues: { rows: queueRows, sparklines: LIST_SPARKLINES.queues },
  runtime: { rows: runtimeRows, sparklines: LIST_SPARKLINES.runtime },
};

/** The list routes, by the name they are served under (`/api/<name>`). */
export const LIST_NAMES = Object.keys(LIST_ROUTES);

/** What a list request asks for: plain data, so it can cross to another thread. */
export interface ListRequest {
  /** One of `LIST_NAMES`. */
  name: string;
  /** The range's name (`15m`, `1h`, `24h`, `7d`), which sets the sparkline slots. */
  since: string;
  fromMs: number;
  nowMs: number;
  limit: number;
  service?: string;
  /** How long the answer is kept, in ms; by default `listFreshMs` of the buckets read. */
  freshMs?: number;
}

/** A list answer as JSON, and how long it may be served again. */
export interface ListAnswer {
  json: string;
  freshMs: number;
}

/**
 * @example
 * const { json } = listAnswer(store, { name: 'queries', since: '1h', fromMs: now - 3_600_000, nowMs: now, limit: 100 });
 */
export function listAnswer(store: Store, request: ListRequest): ListAnswer {
  const { name, since, fromMs, nowMs, limit, service } = request;
  const route = LIST_ROUTES[name];
  if (!route) throw new Error(`unknown list "${name}": expected one of ${LIST_NAMES.join(', ')}`);
  const { family } = route.sparklines;
  const records = decodeRecords(family, store.readBuckets({ family: family.name, service, fromMs }));
  const rows = route.rows(records as StatsRecord<never>[], nowMs).slice(0, limit);
  const sparklines = listSparklines(route.sparklines, records, {
    fromMs,
    nowMs,
    slotMs: SPARKLINE_SLOT_MS[since] as number,
  });
  return {
    json: JSON.stringify({
      since,
      sparkline: sparklines.slots,
      [name]: rows.map((row) => ({ ...(row as object), series: sparklines.of(row) })),
    }),
    freshMs: request.freshMs ?? listFreshMs(since, records.length),
  };
}
