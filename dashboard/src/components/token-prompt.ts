/**
 * `<cp-token-prompt>`: asks for the access token of a collector started with `--token`.
 * It only collects the token and says why it is asked; keeping it and retrying is the
 * shell's job. Fires `cp-token` with the token (trimmed, never empty) as `detail`.
 */
import { css, html, LitElement } from 'lit';
import { sharedStyles } from '../styles.js';

export class TokenPrompt extends LitElement {
  static override properties = {
    rejected: { type: Boolean },
  };

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        max-width: 32rem;
        margin: 3rem auto;
        padding: 1.5rem 1.75rem;
        background: var(--cp-surface);
        border: 1px solid var(--cp-border);
        border-radius: var(--cp-radius);
      }
      p {
        margin: 0.75rem 0;
      }
      form {
        display: flex;
        gap: 0.5rem;
        align-items: end;
        flex-wrap: wrap;
      }
      label {
        display: flex;
        flex: 1;
        flex-direction: column;
        gap: 0.3rem;
        min-width: 14rem;
      }
      input {
        font: inherit;
        font-family: var(--cp-mono);
        color: var(--cp-text);
        background: var(--cp-surface-sunken);
        border: 1px solid var(--cp-border);
        border-radius: var(--cp-radius);
        padding: 0.3rem 0.5rem;
      }
      .rejected {
        color: var(--cp-error-text);
      }
    `,
  ];

  /** The token last sent was refused: say so above the field. */
  declare rejected: boolean;

  constructor() {
    super();
    this.rejected = false;
  }

  override render() {
    return html`<h2>This collector asks for an access token</h2>
      <p class="muted">
        It was started with <code>--token</code> (or <code>CHOKEPOINT_TOKEN</code>). The token is kept
        for this tab only.
      </p>
      ${this.rejected ? html`<p class="rejected" role="alert">That token was not accepted.</p>` : ''}
      <form @submit=${this.submit}>
        <label>
          Access token
          <input name="token" type="password" autocomplete="off" required />
        </label>
        <button type="submit">Open the dashboard</button>
      </form>`;
  }

  protected override firstUpdated(): void {
    this.renderRoot.querySelector('input')?.focus();
  }

  private submit(event: SubmitEvent): void {
    event.preventDefault();
    const input = this.renderRoot.querySelector('input');
    const token = input?.value.trim() ?? '';
    if (token === '') return;
    this.dispatchEvent(new CustomEvent('cp-token', { detail: token, bubbles: true, composed: true }));
  }
}

customElements.define('cp-token-prompt', TokenPrompt);

declare global {
  interface HTMLElementTagNameMap {
    'cp-token-prompt': TokenPrompt;
  }
}
