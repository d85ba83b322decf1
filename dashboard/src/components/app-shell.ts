/**
 * `<cp-app>`: the shell. Owns the data (polled from the collector), the route (the URL
 * hash) and the header with its navigation, service and time range; the views below only
 * render what they are given. A poll fetches what the current view shows and nothing else.
 */
import { css, html, LitElement, nothing, type PropertyValues, unsafeCSS } from 'lit';
import {
  ApiError,
  accessToken,
  fetchFindingDetail,
  fetchFindings,
  fetchList,
  fetchMeta,
  fetchServices,
  fetchTrace,
  setAccessToken,
} from '../api.js';
import type {
  CacheRow,
  EndpointRow,
  FindingDetail,
  FindingSummary,
  ListName,
  ListResponse,
  QueueRow,
} from '../api-types.js';
import { formatImpact, kindLabel, rangeLabel } from '../format.js';
import { LIST_TITLES } from '../list-columns.js';
import {
  type FindingsRoute,
  formatHash,
  LIST_VIEWS,
  parseHash,
  RANGE_MS,
  RANGES,
  type Route,
  rangeOf,
  viewRoute,
} from '../router.js';
import { sharedStyles } from '../styles.js';
import { headlineTiles } from '../tiles.js';
import type { TableChange } from './data-table.js';
import type { TraceState } from './finding-detail.js';
import './empty-state.js';
import './finding-detail.js';
import './findings-list.js';
import './headline-tiles.js';
import './impact-chart.js';
import './list-view.js';
import './token-prompt.js';

/** Below this width the detail stacks under the list instead of beside it. */
const STACKED_LAYOUT = '(max-width: 60rem)';

/** The lists the overview's tiles are computed from. */
const TILE_LISTS = ['endpoints', 'caches', 'queues'] as const satisfies readonly ListName[];

type Lists = Partial<{ [N in ListName]: ListResponse<N> }>;

export class AppShell extends LitElement {
  static override properties = {
    refreshSeconds: { type: Number, attribute: 'refresh-seconds' },
    findings: { state: true },
    services: { state: true },
    lists: { state: true },
    detail: { state: true },
    trace: { state: true },
    detection: { state: true },
    route: { state: true },
    loaded: { state: true },
    error: { state: true },
    tokenPrompt: { state: true },
    updatedAt: { state: true },
    serverNow: { state: true },
  };

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        min-height: 100vh;
      }
      header {
        display: flex;
        flex-wrap: wrap;
        gap: 0.75rem 1.5rem;
        align-items: center;
        justify-content: space-between;
        padding: 0.6rem 1.5rem;
        background: var(--cp-surface);
        border-bottom: 1px solid var(--cp-border);
      }
      .start {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem 1.5rem;
        align-items: center;
      }
      .brand {
        font-size: 1.15rem;
        font-weight: 700;
        color: inherit;
        text-decoration: none;
      }
      nav,
      .ranges {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem;
      }
      nav a,
      .ranges a {
        padding: 0.25rem 0.6rem;
        border: 1px solid transparent;
        border-radius: var(--cp-radius);
        color: var(--cp-text);
        text-decoration: none;
        font-size: 0.92rem;
      }
      nav a:hover,
      .ranges a:hover {
        border-color: var(--cp-border);
      }
      nav a[aria-current='page'],
      .ranges a[aria-current='true'] {
        background: var(--cp-selected);
        border-color: var(--cp-accent);
        color: var(--cp-accent);
        font-weight: 600;
      }
      .ranges {
        padding: 0.15rem;
        border: 1px solid var(--cp-border);
        border-radius: var(--cp-radius);
      }
      .ranges a {
        padding: 0.1rem 0.5rem;
        font-size: 0.85rem;
      }
      .controls {
        display: flex;
        flex-wrap: wrap;
        gap: 0.75rem;
        align-items: center;
        font-size: 0.9rem;
      }
      select {
        font: inherit;
        color: var(--cp-text);
        background: var(--cp-surface);
        border: 1px solid var(--cp-border);
        border-radius: var(--cp-radius);
        padding: 0.25rem 0.4rem;
        margin-left: 0.35rem;
        max-width: 16rem;
      }
      .error {
        margin: 1rem 1.5rem 0;
        padding: 0.6rem 0.9rem;
        background: var(--cp-error-bg);
        color: var(--cp-error-text);
        border-radius: var(--cp-radius);
      }
      main {
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        gap: 1.25rem;
        padding: 1.25rem 1.5rem;
        max-width: 100rem;
        margin: 0 auto;
      }
      .layout {
        display: grid;
        grid-template-columns: minmax(22rem, 2fr) minmax(0, 3fr);
        gap: 1.25rem;
        align-items: start;
      }
      .list h2 {
        font-size: 1rem;
        margin-bottom: 0.75rem;
      }
      .detail {
        position: sticky;
        top: 1rem;
        max-height: calc(100vh - 2rem);
        overflow: auto;
      }
      .overview {
        padding: 1.25rem 1.4rem;
        background: var(--cp-surface);
        border: 1px solid var(--cp-border);
        border-radius: var(--cp-radius);
      }
      .overview h2 {
        font-size: 1rem;
        margin-bottom: 0.75rem;
      }
      .overview p {
        margin: 0.75rem 0 0;
      }
      .placeholder {
        margin: 0;
        padding: 2rem 1.5rem;
        text-align: center;
        border: 1px dashed var(--cp-border);
        border-radius: var(--cp-radius);
      }
      .hidden-note {
        margin: 0.75rem 0 0;
        font-size: 0.85rem;
      }
      a {
        color: var(--cp-accent);
      }
      @media ${unsafeCSS(STACKED_LAYOUT)} {
        .layout {
          grid-template-columns: 1fr;
        }
        .detail {
          position: static;
          max-height: none;
        }
      }
    `,
  ];

  /** Seconds between polls of the collector. */
  declare refreshSeconds: number;
  /** Every finding, as the list shows it. */
  declare findings: FindingSummary[];
  /** Every service the collector holds data for. */
  declare services: string[];
  /** The list routes' answers for the current service and range. */
  declare lists: Lists;
  /** The open finding, whole (evidence and fix), and its series. */
  declare detail: FindingDetail | undefined;
  /** The open finding's example request. */
  declare trace: TraceState | undefined;
  /** The detection settings in force (`api/meta`), fetched once. */
  declare detection: Record<string, unknown> | undefined;
  declare route: Route;
  declare loaded: boolean;
  declare error: string | undefined;
  /** The collector wants a token: none was entered yet (`ask`), or the one sent was refused. */
  declare tokenPrompt: 'ask' | 'rejected' | undefined;
  /** When data last arrived, by this browser's clock. */
  declare updatedAt: number;
  /** The collector's clock at the last answer: relative times and ranges read it. */
  declare serverNow: number;

  private controller: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The last JSON of each answer: an unchanged poll must not re-render (or redraw a chart). */
  private readonly lastBodies = new Map<string, string>();
  /** Example requests never change once stored: each is fetched once. */
  private readonly traces = new Map<string, TraceState>();
  private readonly onHashChange = () => {
    this.route = parseHash(location.hash);
  };
  private readonly onToken = (event: CustomEvent<string>) => {
    setAccessToken(event.detail);
    void this.refresh();
  };
  private readonly onTableChange = (event: CustomEvent<TableChange>) => {
    if (this.route.view === 'findings') return;
    const next = { ...this.route, ...event.detail };
    if ('filter' in event.detail) {
      if (!event.detail.filter) delete next.filter;
      // Typing refines one view: the URL follows without a history entry per keystroke.
      history.replaceState(history.state, '', formatHash(next));
      this.route = next;
    } else location.hash = formatHash(next);
  };

  constructor() {
    super();
    this.refreshSeconds = 5;
    this.findings = [];
    this.services = [];
    this.lists = {};
    this.detail = undefined;
    this.trace = undefined;
    this.detection = undefined;
    this.route = parseHash(location.hash);
    this.loaded = false;
    this.error = undefined;
    this.tokenPrompt = undefined;
    this.updatedAt = Date.now();
    this.serverNow = Date.now();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    addEventListener('hashchange', this.onHashChange);
    this.onHashChange();
    void this.refresh();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    removeEventListener('hashchange', this.onHashChange);
    clearTimeout(this.timer);
    this.controller?.abort();
  }

  /** Fetches what the current view shows now (abandoning a fetch for an older view), then schedules the next poll. */
  async refresh(): Promise<void> {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    clearTimeout(this.timer);
    try {
      await this.load(this.route, controller.signal);
      this.error = undefined;
      this.tokenPrompt = undefined;
      this.loaded = true;
      this.updatedAt = Date.now();
    } catch (error) {
      if (controller.signal.aborted) return;
      if (error instanceof ApiError && error.status === 401) {
        // Polling cannot succeed without the token: wait for the user to enter it.
        this.error = undefined;
        this.tokenPrompt = accessToken() ? 'rejected' : 'ask';
        return;
      }
      this.error = error instanceof Error ? error.message : String(error);
    } finally {
      if (this.controller === controller) this.controller = undefined;
    }
    this.schedulePoll();
  }

  /** Fetches the findings, services, the current view's lists and the open finding together, then its example request. */
  private async load(route: Route, signal: AbortSignal): Promise<void> {
    const scope = { service: route.service, since: rangeOf(route) };
    const names: ListName[] = route.view === 'findings' ? [...TILE_LISTS] : [route.view];
    const openId = openFinding(route);
    const [answer, services, detection, detail, ...lists] = await Promise.all([
      fetchFindings(signal),
      fetchServices(signal),
      this.detection ?? fetchMeta(signal).then((meta) => meta.detection),
      openId === undefined ? undefined : openDetail(openId, signal),
      ...names.map((name) => fetchList(name, scope, signal)),
    ]);
    signal.throwIfAborted();
    this.keep('findings', answer.findings, (findings) => {
      this.findings = findings;
    });
    this.keep('services', services, (value) => {
      this.services = value;
    });
    this.detection = detection;
    this.serverNow = answer.serverTimeMs;
    const next: Lists = { ...this.lists };
    names.forEach((name, index) => {
      this.keep(`list:${name}`, lists[index], (list) => {
        Object.assign(next, { [name]: list });
      });
    });
    if (names.some((name) => next[name] !== this.lists[name])) this.lists = next;

    // Gone (a retention prune): the list says so, and the detail keeps nothing of it.
    if (!detail) return;
    this.keep(`detail:${detail.finding.id}`, detail, (value) => {
      this.detail = value;
    });
    await this.loadTrace(detail.finding.evidence.exampleTraceId, signal);
  }

  private async loadTrace(traceId: unknown, signal: AbortSignal): Promise<void> {
    if (typeof traceId !== 'string') {
      this.trace = undefined;
      return;
    }
    let trace = this.traces.get(traceId);
    if (trace === undefined) {
      this.trace = 'loading';
      try {
        trace = await fetchTrace(traceId, signal);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
        trace = 'missing';
      }
      this.traces.set(traceId, trace);
    }
    signal.throwIfAborted();
    this.trace = trace;
  }

  /** Calls `assign` only when `value` differs from the last one kept under `key`. */
  private keep<T>(key: string, value: T, assign: (value: T) => void): void {
    const body = JSON.stringify(value);
    if (this.lastBodies.get(key) === body) return;
    this.lastBodies.set(key, body);
    assign(value);
  }

  private schedulePoll(): void {
    clearTimeout(this.timer);
    // A background tab skips its polls; the first one after it becomes visible again catches up.
    this.timer = setTimeout(() => {
      if (document.visibilityState === 'hidden') this.schedulePoll();
      else void this.refresh();
    }, this.refreshSeconds * 1000);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const previous = changed.get('route');
    if (!previous) return;
    const current = this.route;
    const scopeChanged =
      previous.view !== current.view ||
      previous.service !== current.service ||
      rangeOf(previous) !== rangeOf(current);
    const openChanged = openFinding(previous) !== openFinding(current);
    if (scopeChanged) {
      this.lists = {};
      for (const key of [...this.lastBodies.keys()]) if (key.startsWith('list:')) this.lastBodies.delete(key);
    }
    if (openChanged) {
      this.detail = undefined;
      this.trace = undefined;
    }
    if (scopeChanged || openChanged) void this.refresh();
  }

  protected override updated(changed: PropertyValues<this>): void {
    const previous = changed.get('route');
    if (changed.has('route')) document.title = `${this.viewTitle()} · Chokepoint`;
    const opened = openFinding(this.route);
    if (!previous || !opened || openFinding(previous) === opened || !matchMedia(STACKED_LAYOUT).matches)
      return;
    // Stacked layout: the detail opened below the list, out of sight — bring it into view.
    this.renderRoot.querySelector('.detail')?.scrollIntoView({ block: 'start' });
  }

  private viewTitle(): string {
    return this.route.view === 'findings' ? 'Overview' : LIST_TITLES[this.route.view].title;
  }

  override render() {
    return html`<header>
        <div class="start">
          <a class="brand" href=${formatHash(viewRoute(this.route, 'findings'))}>Chokepoint</a>
          ${this.renderNavigation()}
        </div>
        <div class="controls">${this.renderFilters()} ${this.renderRanges()} ${this.renderRefresh()}</div>
      </header>
      ${
        this.error
          ? html`<p class="error" role="alert">
              Cannot reach the collector (${this.error}). Retrying every ${this.refreshSeconds} s.
            </p>`
          : nothing
      }
      <main @cp-table-change=${this.onTableChange}>
        ${
          this.tokenPrompt
            ? html`<cp-token-prompt ?rejected=${this.tokenPrompt === 'rejected'} @cp-token=${this.onToken}></cp-token-prompt>`
            : this.renderMain()
        }
      </main>`;
  }

  private renderNavigation() {
    const views: Array<{ view: Route['view']; label: string }> = [
      { view: 'findings', label: 'Overview' },
      ...LIST_VIEWS.map((view) => ({ view, label: LIST_TITLES[view].title })),
    ];
    return html`<nav aria-label="Views">
      ${views.map(
        ({ view, label }) =>
          html`<a href=${formatHash(viewRoute(this.route, view))} aria-current=${this.route.view === view ? 'page' : nothing}>${label}</a>`,
      )}
    </nav>`;
  }

  private renderFilters() {
    const services = distinct(
      [...this.services, ...this.findings.map((finding) => finding.service)],
      this.route.service,
    );
    const service = html`<label>
      Service
      <select @change=${(event: Event) => this.selectService(selectedValue(event))}>
        <option value="" ?selected=${!this.route.service}>All services</option>
        ${services.map((name) => html`<option .value=${name} ?selected=${name === this.route.service}>${name}</option>`)}
      </select>
    </label>`;
    if (this.route.view !== 'findings') return service;
    const route = this.route;
    const kinds = distinct(
      this.findings.map((finding) => finding.kind),
      route.kind,
    );
    return html`${service}
      <label>
        Kind
        <select @change=${(event: Event) => this.filterFindings({ ...route, kind: selectedValue(event) })}>
          <option value="" ?selected=${!route.kind}>All kinds</option>
          ${kinds.map((kind) => html`<option .value=${kind} ?selected=${kind === route.kind}>${kindLabel(kind)}</option>`)}
        </select>
      </label>`;
  }

  private renderRanges() {
    const current = rangeOf(this.route);
    return html`<div class="ranges" role="group" aria-label="Time range">
      ${RANGES.map(
        (range) =>
          html`<a href=${formatHash({ ...this.route, since: range })} aria-current=${range === current ? 'true' : nothing}>${rangeLabel(range)}</a>`,
      )}
    </div>`;
  }

  private renderRefresh() {
    const time = new Date(this.updatedAt).toLocaleTimeString();
    return html`<button type="button" @click=${() => this.refresh()}>Refresh</button>
      <span class="muted">${this.loaded ? html`Updated <time>${time}</time>` : 'Loading…'}</span>`;
  }

  private renderMain() {
    if (!this.loaded) return nothing;
    if (this.findings.length === 0 && this.services.length === 0) {
      return html`<cp-empty-state refresh-seconds=${this.refreshSeconds}></cp-empty-state>`;
    }
    const route = this.route;
    if (route.view !== 'findings') {
      return html`<cp-list-view
        .name=${route.view}
        .list=${this.lists[route.view]}
        .route=${route}
        .findings=${this.findings}
      ></cp-list-view>`;
    }
    return this.renderOverview(route);
  }

  private renderOverview(route: FindingsRoute) {
    const { service, kind, findingId } = route;
    const range = rangeOf(route);
    const fromMs = this.serverNow - RANGE_MS[range];
    const inScope = this.findings.filter(
      (finding) => (!service || finding.service === service) && (!kind || finding.kind === kind),
    );
    // A finding belongs to the range when it was seen in it.
    const shown = inScope.filter((finding) => Date.parse(finding.lastSeen) >= fromMs);
    const older = inScope.length - shown.length;
    const total = shown.reduce((sum, finding) => sum + finding.impact, 0);
    const { endpoints, caches, queues } = this.lists;
    return html`${
      endpoints && caches && queues
        ? html`<cp-headline-tiles
            .tiles=${headlineTiles({
              endpoints: endpoints.rows as EndpointRow[],
              caches: caches.rows as CacheRow[],
              queues: queues.rows as QueueRow[],
            })}
            heading=${`${service ?? 'All services'}, last ${rangeLabel(range)}`}
          ></cp-headline-tiles>`
        : nothing
    }
      <div class="layout">
        <section class="list" aria-labelledby="list-heading">
          <h2 id="list-heading">
            ${shown.length} ${shown.length === 1 ? 'finding' : 'findings'}, ranked by impact
            <span class="muted">· ${formatImpact(total)} in total</span>
          </h2>
          ${
            shown.length > 0
              ? html`<cp-findings-list .findings=${shown} .route=${route} .now=${this.serverNow}></cp-findings-list>`
              : html`<p class="placeholder">
                  No bottleneck found ${service || kind ? 'with these filters ' : ''}in the last ${rangeLabel(range)}.
                  ${service || kind ? html`<a href=${formatHash({ view: 'findings', since: route.since })}>Show all findings</a>` : nothing}
                </p>`
          }
          ${
            older > 0
              ? html`<p class="hidden-note muted">
                  ${older} ${older === 1 ? 'finding was' : 'findings were'} last seen before this range.
                  <a href=${formatHash({ ...route, since: '7d' })}>Show the last 7 d</a>
                </p>`
              : nothing
          }
        </section>
        <section class="detail" aria-label="Details">${this.renderDetail(findingId, shown, fromMs)}</section>
      </div>`;
  }

  /** The open finding, or — with none open — where the time of the findings shown goes. */
  private renderDetail(findingId: string | undefined, shown: FindingSummary[], fromMs: number) {
    if (!findingId) {
      if (shown.length === 0) return nothing;
      return html`<div class="overview">
        <h2>Where the time goes</h2>
        <cp-impact-chart .findings=${shown}></cp-impact-chart>
        <p class="muted">Open a finding to see what to change and why.</p>
      </div>`;
    }
    const listed = this.findings.find((candidate) => candidate.id === findingId);
    const route = this.route as FindingsRoute;
    if (!listed) {
      return html`<p class="placeholder">
        This finding is no longer reported.
        <a href=${formatHash({ ...route, findingId: undefined })}>Back to the list</a>
      </p>`;
    }
    // The list holds a summary: the evidence and the fix come with the detail.
    const detail = this.detail?.finding.id === findingId ? this.detail : undefined;
    if (!detail) return html`<p class="placeholder muted">Loading ${listed.title}…</p>`;
    const sameService = this.findings.filter((candidate) => candidate.service === listed.service);
    return html`<cp-finding-detail
      .finding=${detail.finding}
      .findings=${sameService}
      .route=${route}
      .series=${detail.series}
      .trace=${this.trace}
      .detection=${this.detection}
      .now=${this.serverNow}
      .fromMs=${fromMs}
    ></cp-finding-detail>`;
  }

  private selectService(service: string | undefined): void {
    if (this.route.view === 'findings') this.filterFindings({ ...this.route, service });
    else this.navigate({ ...this.route, service });
  }

  /** Goes to `route`: a new history entry, so Back returns to the previous view. */
  private navigate(route: Route): void {
    location.hash = formatHash(route);
  }

  /** Applies a findings filter; the open finding stays open only if the new filter still shows it. */
  private filterFindings(next: FindingsRoute): void {
    const open = this.findings.find((finding) => finding.id === next.findingId);
    if (open && ((next.service && open.service !== next.service) || (next.kind && open.kind !== next.kind))) {
      next.findingId = undefined;
    }
    this.navigate(next);
  }
}

function openFinding(route: Route): string | undefined {
  return route.view === 'findings' ? route.findingId : undefined;
}

/** The open finding's detail, or `undefined` once the collector no longer has it. */
async function openDetail(id: string, signal: AbortSignal): Promise<FindingDetail | undefined> {
  try {
    return await fetchFindingDetail(id, signal);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** The distinct values, sorted, keeping `current` even when no data has it (a deep link's filter). */
function distinct(values: string[], current: string | undefined): string[] {
  const set = new Set(values);
  if (current) set.add(current);
  return [...set].sort();
}

function selectedValue(event: Event): string | undefined {
  return (event.target as HTMLSelectElement).value || undefined;
}

customElements.define('cp-app', AppShell);

declare global {
  interface HTMLElementTagNameMap {
    'cp-app': AppShell;
  }
}
