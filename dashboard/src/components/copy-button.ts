/**
 * `<cp-copy-button>`: copies a text (a fix, a command, a trace id) to the clipboard and
 * says so, visibly and to screen readers.
 */
import { css, html, LitElement } from 'lit';
import { sharedStyles } from '../styles.js';

/** How long "Copied" stays before the button reads its label again. */
const CONFIRMATION_MS = 2000;

export class CopyButton extends LitElement {
  static override properties = {
    text: { attribute: false },
    label: {},
    outcome: { state: true },
  };

  static override styles = [
    sharedStyles,
    css`
      button {
        font-size: 0.85rem;
        padding: 0.15rem 0.6rem;
      }
    `,
  ];

  declare text: string;
  declare label: string;
  declare outcome: 'copied' | 'failed' | undefined;
  private resetTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    super();
    this.text = '';
    this.label = 'Copy';
    this.outcome = undefined;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.resetTimer);
  }

  override render() {
    const caption =
      this.outcome === 'copied' ? 'Copied' : this.outcome === 'failed' ? 'Copy failed' : this.label;
    return html`<button type="button" @click=${this.copy}>${caption}</button>
      <span class="visually-hidden" role="status">${this.outcome === 'copied' ? 'Copied to clipboard' : ''}</span>`;
  }

  private async copy(): Promise<void> {
    try {
      // The Clipboard API exists only in secure contexts (https, localhost); elsewhere this throws.
      await navigator.clipboard.writeText(this.text);
      this.outcome = 'copied';
    } catch {
      this.outcome = 'failed';
    }
    clearTimeout(this.resetTimer);
    this.resetTimer = setTimeout(() => {
      this.outcome = undefined;
    }, CONFIRMATION_MS);
  }
}

customElements.define('cp-copy-button', CopyButton);

declare global {
  interface HTMLElementTagNameMap {
    'cp-copy-button': CopyButton;
  }
}
