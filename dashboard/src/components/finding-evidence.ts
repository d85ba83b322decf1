/**
 * `<cp-finding-evidence>`: the measurements behind a finding, rendered per kind. A kind
 * without a dedicated renderer still shows its evidence, as a plain list of fields.
 * Every value is bound as text: statements, routes and keys come from users' spans.
 */
import { css, html, LitElement, nothing, type TemplateResult } from 'lit';
import type { Evidence, Finding } from '../../../model/finding.js';
import {
  evidenceEntries,
  type QueryEvidence,
  readNPlusOneEvidence,
  readObjects,
  readRouteCounts,
  readSlowQueryEvidence,
  stringField,
} from '../evidence.js';
import {
  formatCount,
  formatDuration,
  formatImpact,
  formatMegabytes,
  formatRate,
  formatRepeats,
  formatShare,
} from '../format.js';
import { type FindingsRoute, formatHash } from '../router.js';
import { sharedStyles } from '../styles.js';
import {
  codeColumn,
  exampleTrace,
  measurements,
  numberColumn,
  numberMeasurements,
  numberOrUndefined,
  numbers,
  optional,
  relatedFindings,
  routesTable,
  subject,
  type TableColumn,
  table,
} from './evidence-parts.js';
import {
  connectionPoolView,
  dependencyView,
  hotPathView,
  offloadView,
  staticAssetsView,
} from './playbook-evidence.js';

export class FindingEvidence extends LitElement {
  static override properties = {
    finding: { attribute: false },
    route: { attribute: false },
  };

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: grid;
        gap: 1rem;
      }
      h4 {
        margin: 0 0 0.35rem;
        font-size: 0.85rem;
        color: var(--cp-muted);
        text-transform: uppercase;
        letter-spacing: 0.04em;
      }
      h4 .muted {
        font-weight: normal;
        text-transform: none;
        letter-spacing: normal;
      }
      dl {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr));
        gap: 0.5rem;
        margin: 0;
      }
      dl > div {
        padding: 0.5rem 0.7rem;
        background: var(--cp-surface-sunken);
        border: 1px solid var(--cp-border);
        border-radius: var(--cp-radius);
      }
      dt {
        font-size: 0.8rem;
        color: var(--cp-muted);
      }
      dd {
        margin: 0;
        font-weight: 600;
        overflow-wrap: anywhere;
      }
      table {
        width: 100%;
        border-collapse: collapse;
      }
      th,
      td {
        text-align: left;
        padding: 0.3rem 0.5rem;
        border-bottom: 1px solid var(--cp-border);
        overflow-wrap: anywhere;
      }
      th:last-child,
      td:last-child {
        text-align: right;
        white-space: nowrap;
      }
      .trace {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        flex-wrap: wrap;
      }
      ul,
      ol {
        margin: 0;
        padding-left: 1.1rem;
      }
      ol {
        padding-left: 1.8rem;
      }
      a {
        color: var(--cp-accent);
      }
      .charts {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr));
        gap: 1rem;
      }
      .number {
        white-space: nowrap;
      }
      th.headers,
      td.headers {
        text-align: left;
        white-space: normal;
      }
      td.headers code {
        display: block;
      }
      .note {
        margin: 0.4rem 0 0;
        font-size: 0.85rem;
      }
    `,
  ];

  declare finding: Finding | undefined;
  /** Links to related findings keep the page's service and range. */
  declare route: FindingsRoute;

  constructor() {
    super();
    this.finding = undefined;
    this.route = { view: 'findings' };
  }

  override render() {
    if (!this.finding) return nothing;
    const view = EVIDENCE_VIEWS[this.finding.kind] ?? genericView;
    return view(this.finding.evidence, (id) => formatHash({ ...this.route, findingId: id }));
  }
}

/** One view per finding kind; a new kind gets its view by adding an entry here. */
const EVIDENCE_VIEWS: Record<
  string,
  (evidence: Evidence, linkTo: (findingId: string) => string) => TemplateResult
> = {
  slow_query: slowQueryView,
  n_plus_one: nPlusOneView,
  n_plus_one_http: nPlusOneHttpView,
  cache_hit_ratio: cacheView,
  queue_lag: queueView,
  slow_endpoint: slowEndpointView,
  event_loop_blocked: eventLoopView,
  gc_pressure: gcView,
  connection_pool: connectionPoolView,
  dependency_resilience: dependencyView,
  offload_candidate: offloadView,
  static_assets: staticAssetsView,
  hot_path_cpu: hotPathView,
};

function slowQueryView(raw: Evidence, linkTo: (findingId: string) => string): TemplateResult {
  const evidence = readSlowQueryEvidence(raw);
  return html`${statement('Statement', evidence)}
    ${measurements([
      ['Executions', optional(evidence.count, formatCount)],
      ['Total time', optional(evidence.totalMs, formatDuration)],
      ['p50', optional(evidence.p50Ms, formatDuration)],
      ['p95', optional(evidence.p95Ms, formatDuration)],
      ['p99', optional(evidence.p99Ms, formatDuration)],
      ['Slowest', optional(evidence.maxMs, formatDuration)],
      ['Share of DB time', optional(evidence.shareOfDbTime, formatShare)],
    ])}
    ${routesTable(evidence.routes, 'Executions')} ${exampleTrace(evidence.exampleTraceId)}
    ${relatedFindings(raw, linkTo, 'The stall counted in its time')}`;
}

function nPlusOneView(raw: Evidence): TemplateResult {
  const evidence = readNPlusOneEvidence(raw);
  return html`${statement('Repeated statement', evidence)}
    ${measurements([
      ['Requests affected', optional(evidence.requests, formatCount)],
      ['Runs per request (avg)', optional(evidence.avgRepeats, formatRepeats)],
      ['Runs per request (max)', optional(evidence.maxRepeats, formatRepeats)],
      ['Time in repeats per request', optional(evidence.repeatMsPerRequest, formatDuration)],
    ])}
    ${routesTable(evidence.routes, 'Requests')} ${exampleTrace(evidence.exampleTraceId)}`;
}

function nPlusOneHttpView(evidence: Evidence): TemplateResult {
  const call = [
    stringField(evidence, 'method'),
    `${stringField(evidence, 'host') ?? ''}${stringField(evidence, 'urlTemplate') ?? ''}`,
  ]
    .filter(Boolean)
    .join(' ');
  return html`${subject('Repeated call', call, '')}
    ${numbers(evidence, [
      ['Requests affected', 'requests', formatCount],
      ['Calls per request (avg)', 'avgRepeats', formatRepeats],
      ['Calls per request (max)', 'maxRepeats', formatRepeats],
      ['Time in repeats per request', 'repeatMsPerRequest', formatDuration],
    ])}
    ${routesTable(readRouteCounts(evidence, 'requests'), 'Requests')}
    ${exampleTrace(stringField(evidence, 'exampleTraceId'))}`;
}

function cacheView(evidence: Evidence): TemplateResult {
  const ttls = readObjects(evidence.ttlsSeconds)
    .map(
      ({ ttlSeconds, count }) =>
        `${formatDuration(Number(ttlSeconds) * 1000)} × ${formatCount(Number(count))}`,
    )
    .join(', ');
  const pattern = stringField(evidence, 'pattern');
  return html`${subject('Key pattern', stringField(evidence, 'keyPattern'), stringField(evidence, 'system'))}
    ${measurements([
      ...numberMeasurements(evidence, [
        ['Hit ratio', 'hitRatio', formatShare],
        ['Lookups', 'lookups', formatCount],
        ['Lookups per minute', 'lookupsPerMin', formatRate],
        ['Misses', 'misses', formatCount],
        ['Writes', 'writes', formatCount],
        ['Misses refilled', 'refilledMisses', formatCount],
      ]),
      ['Expiry set', ttls || '—'],
      [
        'Pattern',
        pattern === 'cache_aside' ? 'cache-aside' : pattern === 'never_filled' ? 'never filled' : '—',
      ],
    ])}
    ${table('Run after a miss', readObjects(evidence.missQueries), [
      codeColumn('Statement', 'fingerprint'),
      numberColumn('Runs', 'count', formatCount),
      numberColumn('Time', 'totalMs', formatDuration),
    ])}
    ${routesTable(readRouteCounts(evidence, 'count'), 'Lookups')} ${exampleTrace(stringField(evidence, 'exampleTraceId'))}`;
}

function queueView(evidence: Evidence): TemplateResult {
  return html`${subject('Queue', stringField(evidence, 'destination'), stringField(evidence, 'system'))}
    ${measurements([
      ...numberMeasurements(evidence, [
        ['Wait, p50', 'lagP50Ms', formatDuration],
        ['Wait, p95', 'lagP95Ms', formatDuration],
        ['Wait, longest', 'lagMaxMs', formatDuration],
        ['Consumed', 'consumed', formatCount],
        ['Arriving', 'arrivalPerMin', formatRate],
        ['Completed', 'completionPerMin', formatRate],
        ['Processing, mean', 'processingMeanMs', formatDuration],
        ['Processing, p95', 'processingP95Ms', formatDuration],
        ['Consumers busy', 'busyConsumers', (value) => value.toFixed(1)],
        ['Consumers needed', 'consumersNeeded', formatCount],
      ]),
      ['Wait rising', evidence.growing === true ? 'yes' : evidence.growing === false ? 'no' : '—'],
    ])}
    ${exampleTrace(stringField(evidence, 'exampleTraceId'))}`;
}

const PART_NAMES: Array<[part: string, name: string]> = [
  ['sql', 'SQL'],
  ['cache', 'Cache'],
  ['http', 'HTTP out'],
  ['queue', 'Queue publish'],
  ['ownCode', 'Own code'],
];

function slowEndpointView(evidence: Evidence, linkTo: (findingId: string) => string): TemplateResult {
  const breakdown = (evidence.breakdownMs ?? {}) as Record<string, unknown>;
  const shares = (evidence.breakdownShare ?? {}) as Record<string, unknown>;
  return html`${subject('Route', stringField(evidence, 'route'), '')}
    ${numbers(evidence, [
      ['Requests', 'count', formatCount],
      ['Requests per minute', 'requestsPerMin', formatRate],
      ['Errors', 'errors', formatCount],
      ['Mean', 'meanMs', formatDuration],
      ['p50', 'p50Ms', formatDuration],
      ['p95', 'p95Ms', formatDuration],
      ['p99', 'p99Ms', formatDuration],
      ['Slowest', 'maxMs', formatDuration],
    ])}
    ${table(
      'Where a request’s time goes',
      PART_NAMES,
      [
        {
          heading: 'Work',
          cell: ([part, name]) =>
            html`${name}${evidence.dominant === part ? html` <span class="badge">most</span>` : nothing}`,
        },
        { heading: 'Share', cell: ([part]) => optional(numberOrUndefined(shares[part]), formatShare) },
        { heading: 'Time', cell: ([part]) => optional(numberOrUndefined(breakdown[part]), formatDuration) },
      ],
      { about: 'mean per request' },
    )}
    ${relatedFindings(evidence, linkTo, 'Findings behind it')}
    ${exampleTrace(stringField(evidence, 'exampleTraceId'))}`;
}

function eventLoopView(evidence: Evidence, linkTo: (findingId: string) => string): TemplateResult {
  return html`${numbers(evidence, [
    ['Median delay', 'medianDelayMs', formatDuration],
    ['Longest delay', 'maxDelayMs', formatDuration],
    ['Instances blocked', 'blockedInstances', formatCount],
  ])}
  ${instancesTable(evidence, [
    numberColumn('Median delay', 'medianDelayMs', formatDuration),
    numberColumn('Longest delay', 'maxDelayMs', formatDuration),
    numberColumn('Blocked', 'blockedMsPerMin', formatImpact),
  ])}
  ${relatedFindings(evidence, linkTo, 'The code holding it')}`;
}

function gcView(evidence: Evidence): TemplateResult {
  return html`${numbers(evidence, [
    ['Worst GC per second', 'worstMsPerSecond', (value) => `${formatDuration(value)}/s`],
    ['Longest pause', 'maxPauseMs', formatDuration],
    ['Heap, max', 'heapUsedMaxMb', formatMegabytes],
    ['Instances under pressure', 'pressedInstances', formatCount],
  ])}
  ${instancesTable(evidence, [
    numberColumn('GC per second (worst)', 'worstMsPerSecond', (value) => `${formatDuration(value)}/s`),
    numberColumn('Paused', 'gcPauseMsPerMin', formatImpact),
    numberColumn('Heap, max', 'heapUsedMaxMb', formatMegabytes),
  ])}`;
}

function genericView(evidence: Evidence): TemplateResult {
  return measurements(evidenceEntries(evidence));
}

function statement(heading: string, evidence: QueryEvidence): TemplateResult {
  const about = [evidence.system, evidence.statementType?.toUpperCase(), evidence.tables.join(', ')]
    .filter((part) => part)
    .join(' · ');
  return subject(heading, evidence.fingerprint, about);
}

function instancesTable(
  evidence: Evidence,
  columns: Array<TableColumn<Record<string, unknown>>>,
): TemplateResult | typeof nothing {
  return table('Instances', readObjects(evidence.instances), [
    codeColumn('Instance', 'instanceId'),
    ...columns,
  ]);
}

customElements.define('cp-finding-evidence', FindingEvidence);

declare global {
  interface HTMLElementTagNameMap {
    'cp-finding-evidence': FindingEvidence;
  }
}
