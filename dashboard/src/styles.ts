/**
 * Styles every component adopts. Colours come from custom properties set in `app.css`
 * (light and dark), which inherit into shadow roots.
 */
import { css } from 'lit';

export const sharedStyles = css`
  :host {
    box-sizing: border-box;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  :focus-visible {
    outline: 2px solid var(--cp-focus);
    outline-offset: 2px;
  }
  h2,
  h3 {
    margin: 0;
    line-height: 1.25;
  }
  code,
  pre {
    font-family: var(--cp-mono);
    font-size: 0.9em;
  }
  pre {
    margin: 0;
    padding: 0.75rem 0.9rem;
    overflow-x: auto;
    white-space: pre-wrap;
    overflow-wrap: anywhere;
    background: var(--cp-surface-sunken);
    border: 1px solid var(--cp-border);
    border-radius: var(--cp-radius);
  }
  button {
    font: inherit;
    color: var(--cp-text);
    background: var(--cp-surface);
    border: 1px solid var(--cp-border);
    border-radius: var(--cp-radius);
    padding: 0.3rem 0.75rem;
    cursor: pointer;
  }
  button:hover {
    border-color: var(--cp-accent);
  }
  .muted {
    color: var(--cp-muted);
  }
  .badge {
    display: inline-block;
    padding: 0.05rem 0.45rem;
    border: 1px solid currentColor;
    border-radius: 999px;
    font-size: 0.75rem;
    font-weight: 600;
    letter-spacing: 0.02em;
    text-transform: uppercase;
    white-space: nowrap;
  }
  .severity-critical {
    color: var(--cp-critical);
  }
  .severity-high {
    color: var(--cp-high);
  }
  .severity-medium {
    color: var(--cp-medium);
  }
  .severity-low {
    color: var(--cp-low);
  }
  .status {
    border-style: dashed;
  }
  .status-new {
    color: var(--cp-accent);
  }
  .status-regressed {
    color: var(--cp-critical);
    border-style: solid;
  }
  .status-ongoing,
  .status-resolved {
    color: var(--cp-muted);
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
`;
