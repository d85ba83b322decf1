/**
 * `<cp-empty-state>`: what a new user sees before any finding exists — the exact commands
 * that attach the agent, each ready to copy.
 */
import { css, html, LitElement } from 'lit';
import { sharedStyles } from '../styles.js';
import './copy-button.js';

const STEPS = [
  {
    title: 'Run the collector (it serves this page, so it may already be running)',
    command: 'npx chokepoint collector',
  },
  {
    title: 'Start your service with the agent (CommonJS)',
    command: 'OTEL_SERVICE_NAME=my-api node --require chokepoint/agent server.js',
  },
  { title: 'Or, for an ES module entry point', command: 'node --import chokepoint/agent server.mjs' },
];

export class EmptyState extends LitElement {
  static override properties = {
    refreshSeconds: { type: Number, attribute: 'refresh-seconds' },
  };

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        max-width: 46rem;
        margin: 2rem auto;
        padding: 1.5rem 1.75rem;
        background: var(--cp-surface);
        border: 1px solid var(--cp-border);
        border-radius: var(--cp-radius);
      }
      ol {
        padding-left: 1.25rem;
      }
      li {
        margin: 1rem 0;
      }
      .command {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        margin-top: 0.35rem;
      }
      .command pre {
        flex: 1;
      }
    `,
  ];

  declare refreshSeconds: number;

  constructor() {
    super();
    this.refreshSeconds = 5;
  }

  override render() {
    return html`<h2>No findings yet</h2>
      <p>Chokepoint finds what slows your Node.js service down once it sees its traces. Attach the agent:</p>
      <ol>
        ${STEPS.map(
          (step) => html`<li>
            ${step.title}
            <div class="command">
              <pre><code>${step.command}</code></pre>
              <cp-copy-button .text=${step.command} label="Copy"></cp-copy-button>
            </div>
          </li>`,
        )}
        <li>Send your service some traffic. Findings appear here on their own: this page checks every ${this.refreshSeconds} s.</li>
      </ol>`;
  }
}

customElements.define('cp-empty-state', EmptyState);

declare global {
  interface HTMLElementTagNameMap {
    'cp-empty-state': EmptyState;
  }
}
