/**
 * Evidence views of the backend-performance playbook kinds: requests waiting for a pool
 * connection, a failing or hanging dependency, work a queue could take off the request,
 * static files served by Node, the code holding a stalled event loop. Each shows its measurements, the numbers its fix is built
 * from, bar charts of both, the routes and the example trace; fields a view does not know
 * are listed after it, so a detector that grows one never breaks the view. What the fix sets
 * (a pool size, a timeout, the headers a file should carry) is the detector's, shown as its
 * evidence gives it: the view decides no advice of its own.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { Evidence } from '../../../model/finding.js';
import {
  type CodePlace,
  numberField,
  objectField,
  placeText,
  readObjects,
  readPlace,
  readRelated,
  readRouteCounts,
  stringField,
} from '../evidence.js';
import {
  type BarChart,
  connectionPoolCharts,
  dependencyCharts,
  hotPathCharts,
  offloadCharts,
  staticAssetsCharts,
} from '../evidence-charts.js';
import {
  formatCount,
  formatDuration,
  formatImpact,
  formatRate,
  formatRepeats,
  formatShare,
} from '../format.js';
import './bar-chart.js';
import {
  codeColumn,
  exampleTrace,
  type Format,
  measurements,
  numberColumn,
  numberMeasurements,
  numbers,
  optional,
  otherFields,
  relatedFindings,
  routesTable,
  subject,
  table,
} from './evidence-parts.js';

type NumberField = [label: string, key: string, format: Format];

/** Fields every playbook view shows in its own way. */
const COMMON_FIELDS = ['routes', 'exampleTraceId'];

const fewDecimals = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
/** Connections at once: averages below one still read (`0.04`), whole counts stay whole. */
const connections: Format = (value) => (value >= 10 ? formatCount(value) : fewDecimals.format(value));
const perSecond: Format = (value) => formatRate(value * 60);

/** What both rules of connection_pool measure of the requests and the connections they hold. */
const LOAD_NUMBERS: NumberField[] = [
  ['Statements per request', 'dbMsPerRequest', formatDuration],
  ['Request, mean', 'requestMeanMs', formatDuration],
  ['Arriving', 'arrivalPerSecond', perSecond],
  ['Connections held (avg)', 'connectionsBusy', connections],
];

const POOL_NUMBERS: NumberField[] = [
  ['Requests', 'requests', formatCount],
  ['Wait per request', 'waitMsPerRequest', formatDuration],
  ['Share of their time waiting', 'waitShare', formatShare],
  ...LOAD_NUMBERS,
  ['Connections wanted (avg)', 'connectionsWanted', connections],
  ['Wanted at the worst moment', 'peakConnectionsWanted', connections],
];

const OPENING_NUMBERS: NumberField[] = [
  ['Requests', 'requests', formatCount],
  ['Requests opening one', 'requestsOpening', formatCount],
  ['Share opening one', 'openShare', formatShare],
  ['Connections opened', 'connectionsOpened', formatCount],
  ['Opening, per request', 'openMsPerRequest', formatDuration],
  ...LOAD_NUMBERS,
];

/** Either rule of connection_pool: requests waiting for a pool connection, or opening their own. */
export function connectionPoolView(evidence: Evidence): TemplateResult {
  const opening = evidence.rule === 'new_connections';
  const fields = opening ? OPENING_NUMBERS : POOL_NUMBERS;
  const how = opening
    ? evidence.pooled === true
      ? 'a pool that opens a connection on most checkouts'
      : 'a new connection opened by each request'
    : 'requests waiting for a pool connection';
  // `null` is the detector saying the client needs no pool; a missing field says nothing.
  const poolSize =
    evidence.advisedPoolSize === null
      ? 'none: one client per process'
      : optional(numberField(evidence, 'advisedPoolSize'), formatCount);
  return html`${subject('Database', stringField(evidence, 'system'), how)}
    ${measurements([...numberMeasurements(evidence, fields), ['Pool size advised', poolSize]])}
    ${charts(connectionPoolCharts(evidence))}
    ${routesTable(readRouteCounts(evidence, 'requests'), 'Requests')}
    ${exampleTrace(stringField(evidence, 'exampleTraceId'))}
    ${otherFields(evidence, ['rule', 'system', 'pooled', 'advisedPoolSize', ...keysOf(fields), ...COMMON_FIELDS])}`;
}

const DEPENDENCY_NUMBERS: NumberField[] = [
  ['Calls', 'calls', formatCount],
  ['Failed', 'failed', formatCount],
  ['Error rate', 'errorRate', formatShare],
  ['Timed out', 'timeouts', formatCount],
  ['Retries', 'retries', formatCount],
  ['Hung', 'hung', formatCount],
  ['Held per request', 'heldMsPerRequest', formatDuration],
];

const DEPENDENCY_TYPES: Record<string, string> = {
  http: 'outbound HTTP',
  database: 'database',
  cache: 'cache',
  queue: 'message broker',
};

export function dependencyView(evidence: Evidence): TemplateResult {
  // `null` is the detector saying no call succeeded; a missing field says nothing.
  const p99 =
    evidence.successP99Ms === null
      ? 'none succeeded'
      : optional(numberField(evidence, 'successP99Ms'), formatDuration);
  const kinds = objectField(evidence, 'errorKinds');
  const type = DEPENDENCY_TYPES[String(evidence.dependency ?? 'http')];
  const system = stringField(evidence, 'system');
  const about = [type, system !== 'http' ? system : undefined].filter(Boolean).join(' · ');
  return html`${subject('Dependency', stringField(evidence, 'host'), about)}
    ${measurements([
      ...numberMeasurements(evidence, DEPENDENCY_NUMBERS),
      ...(kinds
        ? numberMeasurements(kinds, [
            ['Could not reach it', 'connection', formatCount],
            ['Answered with an error', 'rejected', formatCount],
          ])
        : []),
      ['Healthy calls, p99', p99],
      ['Timeout advised', optional(numberField(evidence, 'advisedTimeoutMs'), formatDuration)],
    ])}
    ${charts(dependencyCharts(evidence))}
    ${table('Failing calls', readObjects(evidence.failing), [
      codeColumn('Call', 'call'),
      numberColumn('Failures', 'failures', formatCount),
    ])}
    ${routesTable(readRouteCounts(evidence, 'requests'), 'Requests')}
    ${exampleTrace(stringField(evidence, 'exampleTraceId'))}
    ${otherFields(evidence, [
      'dependency',
      'host',
      'system',
      'errorKinds',
      'failing',
      'successP99Ms',
      'latencyBuckets',
      'advisedTimeoutMs',
      ...keysOf(DEPENDENCY_NUMBERS),
      ...COMMON_FIELDS,
    ])}`;
}

const OFFLOAD_NUMBERS: NumberField[] = [
  ['Requests', 'requests', formatCount],
  ['Calls per request', 'callsPerRequest', formatRepeats],
  ['Time on it per request', 'msPerRequest', formatDuration],
  ['Share of request time', 'share', formatShare],
  ['Request now', 'requestMeanMs', formatDuration],
  ['Request with a queue', 'requestMeanMsAfter', formatDuration],
];
/** What names the work: an outbound call (`type: 'http'`) or an insert (`type: 'write'`). */
const OFFLOAD_WORK_FIELDS = [
  'work',
  'type',
  'method',
  'host',
  'urlTemplate',
  'system',
  'table',
  'fingerprint',
];

export function offloadView(evidence: Evidence): TemplateResult {
  const write = evidence.type === 'write';
  const about = write
    ? ['insert', stringField(evidence, 'system')].filter(Boolean).join(' · ')
    : 'outbound call';
  const statement = write ? stringField(evidence, 'fingerprint') : undefined;
  return html`${subject('Work the response waits for', stringField(evidence, 'work'), about)}
    ${statement ? subject('Statement', statement, stringField(evidence, 'table')) : nothing}
    ${numbers(evidence, OFFLOAD_NUMBERS)}
    ${charts(offloadCharts(evidence))}
    ${routesTable(readRouteCounts(evidence, 'requests'), 'Requests')}
    ${exampleTrace(stringField(evidence, 'exampleTraceId'))}
    ${otherFields(evidence, [...OFFLOAD_WORK_FIELDS, ...keysOf(OFFLOAD_NUMBERS), ...COMMON_FIELDS])}`;
}

const STATIC_NUMBERS: NumberField[] = [
  ['Static requests', 'staticRequests', formatCount],
  ['All requests', 'requests', formatCount],
  ['Share of requests', 'requestShare', formatShare],
  ['Share of time', 'timeShare', formatShare],
  ['Time serving them', 'staticMs', formatDuration],
  ['Mean per file', 'meanMs', formatDuration],
  ['Per minute', 'perMinute', formatRate],
];

export function staticAssetsView(evidence: Evidence): TemplateResult {
  return html`${numbers(evidence, STATIC_NUMBERS)}
    ${charts(staticAssetsCharts(evidence))}
    ${table(
      'Files served by Node',
      readObjects(evidence.assets),
      [
        codeColumn('File', 'route'),
        numberColumn('Requests', 'requests', formatCount, 'number'),
        numberColumn('Mean', 'meanMs', formatDuration, 'number'),
        {
          heading: 'Headers to check',
          class: 'headers',
          cell: (asset) =>
            (Array.isArray(asset.headers) ? asset.headers : []).map(
              (header) => html`<code>${String(header)}</code>`,
            ),
        },
      ],
      {
        about: 'the most requested',
        note: html`<p class="muted note">
          Response headers are not captured: these are what each file should carry. Check with
          <code>curl -sI -H 'Accept-Encoding: br, gzip' &lt;url&gt;</code>.
        </p>`,
      },
    )}
    ${exampleTrace(stringField(evidence, 'exampleTraceId'))}
    ${otherFields(evidence, ['extensions', 'assets', ...keysOf(STATIC_NUMBERS), ...COMMON_FIELDS])}`;
}

const HOT_PATH_NUMBERS: NumberField[] = [
  ['Share of stalled CPU', 'share', formatShare],
  ['Its CPU sampled', 'selfMs', formatDuration],
  ['CPU sampled in stalls', 'sampledMs', formatDuration],
  ['Stalls', 'stalls', formatCount],
  ['Stalled time', 'stallMs', formatDuration],
  ['Loop blocked', 'blockedMsPerMin', formatImpact],
  ['Profiles', 'profiles', formatCount],
  ['GC share', 'gcShare', formatShare],
  ['Longest profiler start', 'maxStartPauseMs', formatDuration],
];
/** Where a hot spot is and how it was reached, shown as code rather than as numbers. */
const HOT_PATH_PLACES = ['functionName', 'url', 'line', 'package', 'versions', 'origin', 'leaf', 'callers'];

/** A function (or a node_modules package) holding the CPU while the event loop stalled. */
export function hotPathView(evidence: Evidence, linkTo: (findingId: string) => string): TemplateResult {
  const site = readPlace(evidence);
  const origin = readPlace(evidence.origin);
  const versions = Array.isArray(evidence.versions) ? evidence.versions.map(String).join(', ') : undefined;
  const leaf = readPlace(evidence.leaf);
  const callers = Array.isArray(evidence.callers) ? evidence.callers.flatMap((c) => readPlace(c) ?? []) : [];
  const path = leaf ? [leaf, ...callers] : [];
  const instances = Array.isArray(evidence.instances) ? evidence.instances.length : undefined;
  return html`${
    site
      ? subject('Hot spot', placeText(site), 'the call to change')
      : subject('Package', stringField(evidence, 'package'), versions)
  }
    ${origin ? subject('Called from', placeText(origin), 'the app’s own code above it') : nothing}
    ${measurements([
      ...numberMeasurements(evidence, HOT_PATH_NUMBERS),
      ['App instances', optional(instances, formatCount)],
    ])}
    ${charts(hotPathCharts(evidence))}
    ${
      path.length > 1
        ? html`<section>
            <h4>Call path <span class="muted">where the samples landed, then its callers</span></h4>
            <ol class="path">
              ${path.map((place: CodePlace) => html`<li><code>${placeText(place)}</code></li>`)}
            </ol>
          </section>`
        : nothing
    }
    ${table(
      'Hot spots',
      readObjects(evidence.hotSpots),
      [
        { heading: 'Function', cell: spotCell },
        numberColumn('CPU', 'selfMs', formatDuration, 'number'),
        numberColumn('Share', 'share', formatShare),
      ],
      { about: 'CPU sampled while the loop stalled' },
    )}
    ${relatedFindings(
      evidence,
      linkTo,
      readRelated(evidence).some((finding) => finding.kind === 'slow_query')
        ? 'The stall it causes, and the slow query it runs'
        : 'The stall it causes',
    )}
    ${otherFields(evidence, [
      ...HOT_PATH_PLACES,
      ...keysOf(HOT_PATH_NUMBERS),
      'instances',
      'hotInstances',
      'hotSpots',
      'packages',
      'related',
    ])}`;
}

/** A hot spot's function, and the app's own code it was called from. */
function spotCell(spot: Record<string, unknown>): TemplateResult {
  const place = readPlace(spot);
  const from = readPlace(spot.origin);
  return html`<code>${place ? placeText(place) : '—'}</code>${
    from ? html` <span class="muted">← ${placeText(from)}</span>` : nothing
  }`;
}

function charts(list: BarChart[]): TemplateResult | typeof nothing {
  if (list.length === 0) return nothing;
  return html`<div class="charts">
    ${list.map(
      (chart) => html`<section>
        <h4>${chart.title}</h4>
        <cp-bar-chart .chart=${chart}></cp-bar-chart>
      </section>`,
    )}
  </div>`;
}

function keysOf(fields: NumberField[]): string[] {
  return fields.map(([, key]) => key);
}
