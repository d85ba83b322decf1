/**
 * `<cp-app>`: the shell. Owns the data (polled from the collector), the route (the URL
 * hash) and the header with its filters; the views below only render what they are given.
 */
import { css, html, LitElement, nothing, type PropertyValues, unsafeCSS } from 'lit';
import type { Finding } from '../../../model/finding.js';
import { ApiError, accessToken, fetchFindings, setAccessToken } from '../api.js';
import { formatImpact, kindLabel } from '../format.js';
import { formatHash, parseHash, type Route } from '../router.js';
import { sharedStyles } from '../styles.js';
import './empty-state.js';
import './finding-detail.js';
import './findings-list.js';
import './impact-chart.js';
import './token-prompt.js';

/** Below this width the detail stacks under the list instead of beside it. */
const STACKED_LAYOUT = '(max-width: 60rem)';

export class AppShell extends LitElement {
  static override properties = {
    refreshSeconds: { type: Number, attribute: 'refresh-seconds' },
    findings: { state: true },
    route: { state: true },
    loaded: { state: true },
    error: { state: true },
    tokenPrompt: { state: true },
    updatedAt: { state: true },
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
        padding: 0.75rem 1.5rem;
        background: var(--cp-surface);
        border-bottom: 1px solid var(--cp-border);
      }
      .brand {
        font-size: 1.15rem;
        font-weight: 700;
        color: inherit;
        text-decoration: none;
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
        padding: 1.25rem 1.5rem;
        max-width: 100rem;
        margin: 0 auto;
      }
      .layout {
        display: grid;
        grid-template-columns: minmax(22rem, 2fr) 3fr;
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
  declare findings: Finding[];
  declare route: Route;
  declare loaded: boolean;
  declare error: string | undefined;
  /** The collector wants a token: none was entered yet (`ask`), or the one sent was refused. */
  declare tokenPrompt: 'ask' | 'rejected' | undefined;
  /** When findings last arrived; also the clock the relative times ("5 min ago") read. */
  declare updatedAt: number;

  private controller: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The last response's JSON: an unchanged poll must not re-render (or redraw the chart). */
  private lastBody = '';
  private readonly onHashChange = () => {
    this.route = parseHash(location.hash);
  };
  private readonly onToken = (event: CustomEvent<string>) => {
    setAccessToken(event.detail);
    void this.refresh();
  };

  constructor() {
    super();
    this.refreshSeconds = 5;
    this.findings = [];
    this.route = parseHash(location.hash);
    this.loaded = false;
    this.error = undefined;
    this.tokenPrompt = undefined;
    this.updatedAt = Date.now();
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

  /** Fetches the findings now, then schedules the next poll. */
  async refresh(): Promise<void> {
    if (this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    try {
      const findings = await fetchFindings(controller.signal);
      const body = JSON.stringify(findings);
      if (body !== this.lastBody) {
        this.lastBody = body;
        this.findings = findings;
      }
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
      this.controller = undefined;
    }
    this.schedulePoll();
  }

  private schedulePoll(): void {
    clearTimeout(this.timer);
    // A background tab skips its polls; the first one after it becomes visible again catches up.
    this.timer = setTimeout(() => {
      if (document.visibilityState === 'hidden') this.schedulePoll();
      else void this.refresh();
    }, this.refreshSeconds * 1000);
  }

  override render() {
    return html`<header>
        <a class="brand" href=${formatHash({ view: 'findings' })}>Chokepoint</a>
        <div class="controls">${this.renderFilters()} ${this.renderRefresh()}</div>
      </header>
      ${
        this.error
          ? html`<p class="error" role="alert">
              Cannot reach the collector (${this.error}). Retrying every ${this.refreshSeconds} s.
            </p>`
          : nothing
      }
      <main>
        ${
          this.tokenPrompt
            ? html`<cp-token-prompt ?rejected=${this.tokenPrompt === 'rejected'} @cp-token=${this.onToken}></cp-token-prompt>`
            : this.renderMain()
        }
      </main>`;
  }

  protected override updated(changed: PropertyValues<this>): void {
    const previous = changed.get('route');
    const opened = this.route.findingId;
    if (!previous || !opened || previous.findingId === opened || !matchMedia(STACKED_LAYOUT).matches) return;
    // Stacked layout: the detail opened below the list, out of sight — bring it into view.
    this.renderRoot.querySelector('.detail')?.scrollIntoView({ block: 'start' });
  }

  private renderFilters() {
    const services = distinct(
      this.findings.map((finding) => finding.service),
      this.route.service,
    );
    const kinds = distinct(
      this.findings.map((finding) => finding.kind),
      this.route.kind,
    );
    return html`<label>
        Service
        <select @change=${(event: Event) => this.filter({ service: selectedValue(event) })}>
          <option value="" ?selected=${!this.route.service}>All services</option>
          ${services.map((service) => html`<option .value=${service} ?selected=${service === this.route.service}>${service}</option>`)}
        </select>
      </label>
      <label>
        Kind
        <select @change=${(event: Event) => this.filter({ kind: selectedValue(event) })}>
          <option value="" ?selected=${!this.route.kind}>All kinds</option>
          ${kinds.map((kind) => html`<option .value=${kind} ?selected=${kind === this.route.kind}>${kindLabel(kind)}</option>`)}
        </select>
      </label>`;
  }

  private renderRefresh() {
    const time = new Date(this.updatedAt).toLocaleTimeString();
    return html`<button type="button" @click=${() => this.refresh()}>Refresh</button>
      <span class="muted">${this.loaded ? html`Updated <time>${time}</time>` : 'Loading…'}</span>`;
  }

  private renderMain() {
    if (!this.loaded) return nothing;
    if (this.findings.length === 0) {
      return html`<cp-empty-state refresh-seconds=${this.refreshSeconds}></cp-empty-state>`;
    }
    const { service, kind, findingId } = this.route;
    const shown = this.findings.filter(
      (finding) => (!service || finding.service === service) && (!kind || finding.kind === kind),
    );
    const total = shown.reduce((sum, finding) => sum + finding.impact, 0);
    return html`<div class="layout">
      <section class="list" aria-labelledby="list-heading">
        <h2 id="list-heading">
          ${shown.length} ${shown.length === 1 ? 'finding' : 'findings'}, ranked by impact
          <span class="muted">· ${formatImpact(total)} in total</span>
        </h2>
        ${
          shown.length > 0
            ? html`<cp-findings-list .findings=${shown} .route=${this.route} .now=${this.updatedAt}></cp-findings-list>`
            : html`<p class="placeholder">
                No findings match these filters.
                <a href=${formatHash({ view: 'findings' })}>Show all findings</a>
              </p>`
        }
      </section>
      <section class="detail" aria-label="Details">${this.renderDetail(findingId, shown)}</section>
    </div>`;
  }

  /** The open finding, or — with none open — where the time of the findings shown goes. */
  private renderDetail(findingId: string | undefined, shown: Finding[]) {
    if (!findingId) {
      if (shown.length === 0) return nothing;
      return html`<div class="overview">
        <h2>Where the time goes</h2>
        <cp-impact-chart .findings=${shown}></cp-impact-chart>
        <p class="muted">Open a finding to see what to change and why.</p>
      </div>`;
    }
    const finding = this.findings.find((candidate) => candidate.id === findingId);
    if (!finding) {
      return html`<p class="placeholder">
        This finding is no longer reported.
        <a href=${formatHash({ ...this.route, findingId: undefined })}>Back to the list</a>
      </p>`;
    }
    const sameService = this.findings.filter((candidate) => candidate.service === finding.service);
    return html`<cp-finding-detail .finding=${finding} .findings=${sameService} .now=${this.updatedAt}></cp-finding-detail>`;
  }

  /** Applies a filter; the open finding stays open only if the new filter still shows it. */
  private filter(change: Pick<Route, 'service'> | Pick<Route, 'kind'>): void {
    const next: Route = { ...this.route, ...change };
    const open = this.findings.find((finding) => finding.id === next.findingId);
    if (open && ((next.service && open.service !== next.service) || (next.kind && open.kind !== next.kind))) {
      next.findingId = undefined;
    }
    location.hash = formatHash(next);
  }
}

/** The distinct values, sorted, keeping `current` even when no finding has it (a deep link's filter). */
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
