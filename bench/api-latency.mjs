/**
 * Dashboard/API latency: `GET /api/findings` and `GET /api/findings/:id` of a collector child
 * process whose SQLite file holds `findings` findings and `days` days of buckets.
 *
 * The file is filled through the real pipeline, in this process: traces with a slow query
 * (70%) or an N+1 loop (30%), each on its own statement, across ten services, become real
 * findings with their recommendations. The buckets that run wrote for the current minute are
 * then copied back in time as a collector running for `days` days would have kept them:
 * every minute of the last two hours, and one per hour before (the collector rolls minutes
 * older than two hours into hourly buckets). They stay minute rows here, and the collector
 * is told not to roll them up: it would spend its first minutes doing so in 50 ms steps,
 * inside the measurement, while both tables answer the same reads.
 * Requests go one at a time over a keep-alive connection, asking for gzip as fetch does, each
 * timed from the request to its whole body received as text; a body is parsed only where the
 * bench reads it (the first list, each detail's points), outside the timed span, and this
 * process's garbage is collected before each request, as a polling page's is between polls
 * (see collectGarbage). The detail endpoint cycles through every finding. The list is measured as the dashboard asks for
 * it (`?view=summary`) twice: polled while the store stays as it is (the collector may answer
 * from what it kept), and with one finding refreshed before each request (it must read and
 * serialize the list again); the whole list (`chokepoint report --url`) after a change too.
 * The list routes the dashboard polls every 5 s (`?since=1h&limit=1000`) are measured polled,
 * and `/api/queries` also merged anew: each request with a limit of its own, which the collector
 * has kept no answer for, while `/api/health` is asked every 20 ms beside them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Pipeline } from '../dist/collector/pipeline.js';
import { SqliteStore } from '../dist/collector/store/sqlite-store.js';
import { startNode } from './lib/children.mjs';
import { percentile } from './lib/stats.mjs';
import { formatNumber } from './lib/table.mjs';

const ROOT = join(import.meta.dirname, '..');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const SERVICES = 10;
const SERVER = 2;
const CLIENT = 3;

export const apiTargets = { p95Ms: 20 };

/** What each measured series is, by its key in the result; `target`: held to `apiTargets`. */
const ENDPOINTS = {
  list: { what: 'GET /api/findings?view=summary (dashboard)', target: true },
  changed: { what: 'GET /api/findings?view=summary after a store change', target: true },
  fullChanged: { what: 'GET /api/findings (whole) after a store change', target: false },
  detail: { what: 'GET /api/findings/:id', target: true },
  queries: { what: 'GET /api/queries?since=1h', target: true },
  queriesMerged: { what: 'GET /api/queries?since=1h merged anew', target: false },
  healthDuringMerges: { what: 'GET /api/health while those merge', target: false },
  endpoints: { what: 'GET /api/endpoints?since=1h', target: true },
  caches: { what: 'GET /api/caches?since=1h', target: true },
  queues: { what: 'GET /api/queues?since=1h', target: true },
  runtime: { what: 'GET /api/runtime?since=1h', target: true },
};
/** The list routes as the dashboard polls them. */
const LISTS = ['queries', 'endpoints', 'caches', 'queues', 'runtime'];
const LIST_QUERY = 'since=1h&limit=1000';
/** Requests that merge `/api/queries` anew: each costs hundreds of ms. */
const MERGES = 20;

/**
 * @example
 * const result = await benchApiLatency({ findings: 1_000, days: 7, requests: 400 });
 */
export async function benchApiLatency({ findings: wanted = 1_000, days = 7, requests = 400 } = {}) {
  const workDir = mkdtempSync(join(tmpdir(), 'chokepoint-bench-api-'));
  const db = join(workDir, 'api.db');
  try {
    const fill = fillStore(db, { findings: wanted, days });
    const collector = await startNode(
      [
        'dist/cli/main.js',
        'collector',
        '--port',
        '0',
        '--otlp-port',
        '0',
        '--db',
        db,
        '--rollup-after-hours',
        String(days * 24 + 1),
      ],
      { cwd: ROOT, ready: /dashboard listening on (\S+)/ },
    );
    try {
      const base = collector.match[1];
      const summaryUrl = `${base}/api/findings?view=summary`;
      const first = await timed(`${base}/api/findings`);
      const firstSummary = await timed(summaryUrl);
      const ids = first.body.findings.map((finding) => finding.id);
      // Warm-up: JIT, SQLite page cache.
      for (let i = 0; i < 20; i++) {
        await timed(summaryUrl);
        await timed(`${base}/api/findings/${ids[i % ids.length]}`);
        for (const name of LISTS) await timed(`${base}/api/${name}?${LIST_QUERY}`);
      }
      const cpu = collectorCpu(collector.pid);
      const list = await measure(cpu, requests, () => timed(summaryUrl));
      let seriesPoints = 0;
      const detail = await measure(cpu, requests, async (i) => {
        const answer = await timed(`${base}/api/findings/${ids[i % ids.length]}`);
        seriesPoints += countPoints(answer.body);
        return answer;
      });
      const lists = {};
      for (const name of LISTS) {
        lists[name] = await measure(cpu, requests, () => timed(`${base}/api/${name}?${LIST_QUERY}`));
      }
      const health = pollWhile(`${base}/api/health`);
      const queriesMerged = await measure(cpu, MERGES, (i) =>
        timed(`${base}/api/queries?since=1h&limit=${999 - i}`),
      );
      const healthDuringMerges = await health.stop();
      const changed = await listAfterChanges(db, cpu, requests, () => timed(summaryUrl), first);
      const fullChanged = await listAfterChanges(
        db,
        cpu,
        requests,
        () => timed(`${base}/api/findings`),
        first,
      );
      return summarize({
        ...fill,
        served: ids.length,
        listBytes: first.bytes,
        listWireBytes: first.wireBytes,
        summaryBytes: firstSummary.bytes,
        summaryWireBytes: firstSummary.wireBytes,
        list,
        changed,
        fullChanged,
        detail,
        ...lists,
        queriesMerged,
        healthDuringMerges,
        seriesPointsPerDetail: seriesPoints / requests,
        requests,
        merges: MERGES,
      });
    } finally {
      await collector.stop();
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

function summarize(result) {
  const row = (label, stats) => [
    label,
    formatNumber(stats.p50, 2),
    formatNumber(stats.p95, 2),
    formatNumber(stats.p99, 2),
    formatNumber(stats.max, 2),
    formatNumber(stats.cpuMsPerRequest, 2),
  ];
  return {
    name: 'api-latency',
    title: `Dashboard/API: ${result.served} findings, ${formatNumber(result.bucketRows)} bucket rows over ${result.days} days; ${result.requests} sequential requests per endpoint (${result.merges} merged anew)`,
    result,
    notes: [
      `/api/findings answers ${formatNumber(result.listBytes / 1024)} KiB of JSON, ${formatNumber(result.listWireBytes / 1024)} KiB on the wire; ?view=summary ${formatNumber(result.summaryBytes / 1024)} KiB, ${formatNumber(result.summaryWireBytes / 1024)} KiB on the wire; a detail carries ${formatNumber(result.seriesPointsPerDetail, 1)} series points on average`,
      'after a store change: one finding refreshed through another connection before each request, as a detection run does',
      `list routes as the dashboard polls them (?${LIST_QUERY}); merged anew: /api/queries with a limit no earlier request had, so no kept answer applies (${formatNumber(result.keysPerMinute)} bucket keys a minute)`,
      `store filled through the pipeline in ${result.fillSeconds.toFixed(1)} s (not timed)`,
    ],
    targets: Object.entries(ENDPOINTS)
      .filter(([, endpoint]) => endpoint.target)
      .map(([key, { what }]) => ({
        what: `${what} p95`,
        target: `≤ ${apiTargets.p95Ms} ms`,
        measured: `${formatNumber(result[key].p95, 2)} ms`,
        met: result[key].p95 <= apiTargets.p95Ms,
      })),
    headers: ['endpoint', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'collector CPU ms/req'],
    cells: Object.entries(ENDPOINTS).map(([key, { what }]) => row(what, result[key])),
  };
}

/**
 * The list as a dashboard polling a busy collector sees it: before each request, untimed, one
 * finding is refreshed through another connection to the file, as a detection run would, so
 * nothing the collector kept from the previous answer may be served again.
 */
async function listAfterChanges(db, cpu, requests, request, first) {
  const store = new SqliteStore(db);
  const { findings } = first.body;
  try {
    return await measure(cpu, requests, request, (i) =>
      whileBusy(() => store.upsertFindings([findings[i % findings.length]], Date.now())),
    );
  } finally {
    store.close();
  }
}

/**
 * Runs a write, again (a millisecond later) while the collector's own commit is in the way: a
 * transaction that read before another connection committed fails at once (SQLITE_BUSY_SNAPSHOT),
 * whatever the busy timeout.
 */
function whileBusy(write) {
  for (;;) {
    try {
      return write();
    } catch (error) {
      if (!String(error.code).startsWith('SQLITE_BUSY')) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

/**
 * Asks `url` every 20 ms, one request at a time, beside the requests measured meanwhile, until
 * stopped: how long a cheap request waits while the collector works on others (a merge that
 * holds its event loop holds these too, as it holds OTLP requests). Their CPU, ~0.2 ms each,
 * counts in the measured requests'.
 */
function pollWhile(url) {
  const ms = [];
  let stopping = false;
  const done = (async () => {
    while (!stopping) {
      ms.push((await timed(url)).ms);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      stopping = true;
      await done;
      return { ...latency(ms), cpuMsPerRequest: Number.NaN };
    },
  };
}

/**
 * `requests` sequential requests: their latencies, and the collector CPU they cost (from
 * /proc, so the machine's other load does not count; `before` runs outside both).
 */
async function measure(cpu, requests, request, before = () => {}) {
  const ms = [];
  let cpuMs = 0;
  for (let i = 0; i < requests; i++) {
    before(i);
    collectGarbage();
    const start = cpu();
    ms.push((await request(i)).ms);
    cpuMs += cpu() - start;
  }
  return { ...latency(ms), cpuMsPerRequest: cpuMs / requests };
}

/**
 * Collects this process's young garbage, outside the timed span: the dashboard polls every 5 s
 * and its page collects the last answer's garbage while idle, while requests sent back to back
 * left each answer's 0.5–0.8 MB of text and zlib buffers to a GC inside a later request's timed
 * span (V8 started a major one every few requests, its steps up to 14 ms). A minor GC frees them
 * (young large objects die in a scavenge) in a fraction of a full one's ~9 ms. Probe runs, 400
 * requests: polled summary p95 16.6 → 11.6 ms, polled /api/queries 28.2 → 7.8 ms.
 */
const collectGarbage = (() => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  return () => gc({ type: 'minor' });
})();

/** The collector's user + system CPU so far, in ms (NaN where /proc is not there). */
function collectorCpu(pid) {
  const msPerTick = 10; // /proc counts in USER_HZ, 100 a second on Linux
  return () => {
    try {
      // Fields after the command name, which is in parentheses and may hold spaces.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) * msPerTick;
    } catch {
      return Number.NaN;
    }
  };
}

/** Real findings through the real pipeline, then `days` of history for every bucket it wrote. */
function fillStore(path, { findings, days }) {
  const started = performance.now();
  const nowMs = Date.now();
  const store = new SqliteStore(path);
  try {
    const pipeline = new Pipeline(store, { onError: (message) => console.error(message) }, () => nowMs);
    const slowQueries = Math.round(findings * 0.7);
    for (let i = 0; i < findings; i++) {
      const service = `service-${i % SERVICES}`;
      const route = `/api/area${i % 20}/:id`;
      const traces =
        i < slowQueries
          ? slowQueryTraces(service, route, i, nowMs)
          : nPlusOneTraces(service, route, i, nowMs);
      pipeline.ingest(traces);
    }
    pipeline.flush();
    const current = store.readBuckets({ fromMs: nowMs - HOUR });
    let bucketRows = current.length;
    // Large transactions: each commit may checkpoint the WAL, and a checkpoint syncs the disk.
    let batch = [];
    for (const offsetMs of historyOffsets(days)) {
      for (const record of current) batch.push({ ...record, bucketStartMs: record.bucketStartMs - offsetMs });
      if (batch.length >= 50_000) {
        store.writeBuckets(batch);
        bucketRows += batch.length;
        batch = [];
      }
    }
    store.writeBuckets(batch);
    bucketRows += batch.length;
    return {
      findings,
      days,
      bucketRows,
      keysPerMinute: current.length,
      fillSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    store.close();
  }
}

/** Every minute of the last two hours, then one minute per hour back to `days` days. */
function historyOffsets(days) {
  const offsets = [];
  for (let minute = 1; minute < 120; minute++) offsets.push(minute * MINUTE);
  for (let hour = 2; hour < days * 24; hour++) offsets.push(hour * HOUR);
  return offsets;
}

/** Three requests each running one 150 ms statement (p95 well over the 100 ms threshold). */
function slowQueryTraces(service, route, index, nowMs) {
  const spans = [];
  for (let t = 0; t < 3; t++) {
    const trace = traceIds(index, t);
    const start = nowMs - 30_000 - t * 1_000;
    spans.push(serverSpan(service, route, trace, start, 160));
    spans.push(
      querySpan(service, trace, start + 2, 150, `SELECT * FROM report_${index} WHERE account_id = ${t + 1}`),
    );
  }
  return spans;
}

/** Three requests each running the same lookup eight times. */
function nPlusOneTraces(service, route, index, nowMs) {
  const spans = [];
  for (let t = 0; t < 3; t++) {
    const trace = traceIds(index, t);
    const start = nowMs - 30_000 - t * 1_000;
    spans.push(serverSpan(service, route, trace, start, 40));
    for (let q = 0; q < 8; q++) {
      spans.push(
        querySpan(service, trace, start + 2 + q * 4, 3, `SELECT * FROM item_${index} WHERE order_id = ${q}`),
      );
    }
  }
  return spans;
}

let spanCounter = 0;

function traceIds(index, t) {
  return {
    traceId: `${index.toString(16).padStart(24, '0')}${t.toString(16).padStart(8, '0')}`,
    root: nextSpanId(),
  };
}

function nextSpanId() {
  spanCounter += 1;
  return spanCounter.toString(16).padStart(16, '0');
}

function serverSpan(service, route, trace, startMs, durationMs) {
  return spanRecord(service, {
    traceId: trace.traceId,
    spanId: trace.root,
    parentSpanId: '',
    name: `GET ${route}`,
    kind: SERVER,
    startTimeMs: startMs,
    endTimeMs: startMs + durationMs,
    attributes: { 'http.request.method': 'GET', 'http.route': route, 'http.response.status_code': 200 },
  });
}

function querySpan(service, trace, startMs, durationMs, statement) {
  return spanRecord(service, {
    traceId: trace.traceId,
    spanId: nextSpanId(),
    parentSpanId: trace.root,
    name: 'SELECT shop',
    kind: CLIENT,
    startTimeMs: startMs,
    endTimeMs: startMs + durationMs,
    attributes: { 'db.system.name': 'postgresql', 'db.namespace': 'shop', 'db.query.text': statement },
  });
}

/** A decoded span, as the receive stage hands it to the pipeline. */
function spanRecord(service, fields) {
  return {
    ...fields,
    statusCode: 0,
    statusMessage: '',
    events: [],
    links: [],
    resource: { serviceName: service, attributes: { 'service.name': service } },
    scopeName: 'bench',
    scopeVersion: '1',
  };
}

async function timed(url) {
  const start = performance.now();
  const response = await fetch(url);
  const text = await response.text();
  const ms = performance.now() - start;
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${text.slice(0, 200)}`);
  // fetch asks for gzip and inflates what comes: the header tells what crossed the wire.
  const wireBytes = Number(response.headers.get('content-length') ?? Number.NaN);
  return {
    ms,
    bytes: Buffer.byteLength(text),
    wireBytes,
    // Parsed only for the callers that read it: parsing every 0.5–0.8 MB list answer left
    // thousands of objects per request for this process's GC to collect inside later timed spans.
    get body() {
      return JSON.parse(text);
    },
  };
}

function latency(values) {
  return {
    p50: percentile(values, 0.5),
    p95: percentile(values, 0.95),
    p99: percentile(values, 0.99),
    max: Math.max(...values),
  };
}

/** Points in a detail's series, whatever shape the finding's kind gives it. */
function countPoints(body) {
  const series = body.series;
  if (Array.isArray(series)) return series.length;
  if (series && typeof series === 'object') {
    return Object.values(series).reduce((sum, part) => sum + (Array.isArray(part) ? part.length : 0), 0);
  }
  return 0;
}
