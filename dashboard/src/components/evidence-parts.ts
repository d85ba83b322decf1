/**
 * The pieces every evidence view is built from: what the finding is about, a grid of
 * labelled measurements, tables (the routes affected among them), the example trace id,
 * and the fields a view does not know (yet). They render inside `<cp-finding-evidence>`,
 * whose styles they rely on. Every value is bound as text.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { Evidence } from '../../../model/finding.js';
import { evidenceEntries, numberField, type RouteCount, readRelated } from '../evidence.js';
import { formatCount, formatImpact, kindLabel } from '../format.js';
import './copy-button.js';

export type Measurement = [label: string, value: string];
export type Format = (value: number) => string;

/** A column of an evidence table: its heading, each row's cell, and a class for both. */
export interface TableColumn<Row> {
  heading: string;
  cell: (row: Row) => unknown;
  /** `number` keeps a figure on one line; `headers` lists a file's headers one a line. */
  class?: string;
}

type EvidenceRow = Record<string, unknown>;

/** What the finding is about (a statement, a key pattern, a queue), as code. */
export function subject(
  heading: string,
  text: string | undefined,
  about: string | undefined,
): TemplateResult {
  return html`<section>
    <h4>${heading} <span class="muted">${about ?? ''}</span></h4>
    <pre><code>${text || '—'}</code></pre>
  </section>`;
}

export function measurements(entries: Measurement[]): TemplateResult {
  return html`<dl>
    ${entries.map(([label, value]) => html`<div><dt>${label}</dt><dd>${value}</dd></div>`)}
  </dl>`;
}

export function numberMeasurements(
  evidence: Evidence,
  fields: Array<[string, string, Format]>,
): Measurement[] {
  return fields.map(([label, key, format]) => [label, optional(numberField(evidence, key), format)]);
}

export function numbers(evidence: Evidence, fields: Array<[string, string, Format]>): TemplateResult {
  return measurements(numberMeasurements(evidence, fields));
}

/**
 * The evidence fields a view does not show, as plain label/text pairs: a detector that
 * grows a field has it shown before the dashboard learns what it means.
 */
export function otherFields(evidence: Evidence, shown: readonly string[]): TemplateResult | typeof nothing {
  const known = new Set(shown);
  const rest = evidenceEntries(evidence).filter(([key]) => !known.has(key));
  if (rest.length === 0) return nothing;
  return html`<section class="other">
    <h4>More evidence</h4>
    ${measurements(rest)}
  </section>`;
}

/**
 * A table headed `heading` (with what it shows, muted), a row per item and a `note` below
 * it; nothing when there are no rows.
 *
 * @example
 * table('Failing calls', readObjects(evidence.failing), [
 *   codeColumn('Call', 'call'),
 *   numberColumn('Failures', 'failures', formatCount),
 * ]);
 */
export function table<Row>(
  heading: string,
  rows: readonly Row[],
  columns: ReadonlyArray<TableColumn<Row>>,
  { about, note }: { about?: string; note?: TemplateResult } = {},
): TemplateResult | typeof nothing {
  if (rows.length === 0) return nothing;
  return html`<section>
    <h4>${heading}${about ? html` <span class="muted">${about}</span>` : nothing}</h4>
    <table>
      <thead>
        <tr>${columns.map((column) => html`<th scope="col" class=${column.class ?? nothing}>${column.heading}</th>`)}</tr>
      </thead>
      <tbody>
        ${rows.map(
          (row) =>
            html`<tr>${columns.map((column) => html`<td class=${column.class ?? nothing}>${column.cell(row)}</td>`)}</tr>`,
        )}
      </tbody>
    </table>
    ${note ?? nothing}
  </section>`;
}

/** A column of a row's text field `key` as code (a statement, a call, an instance id), `—` where it has none. */
export function codeColumn(heading: string, key: string): TableColumn<EvidenceRow> {
  return { heading, cell: (row) => html`<code>${String(row[key] ?? '') || '—'}</code>` };
}

/** A column of a row's number field `key`, formatted, `—` where it has none. */
export function numberColumn(
  heading: string,
  key: string,
  format: Format,
  className?: string,
): TableColumn<EvidenceRow> {
  return { heading, class: className, cell: (row) => optional(numberOrUndefined(row[key]), format) };
}

export function routesTable(routes: RouteCount[], countHeading: string): TemplateResult | typeof nothing {
  return table('Routes affected', routes, [
    { heading: 'Route', cell: ({ route }) => html`<code>${route}</code>` },
    { heading: countHeading, cell: ({ count }) => formatCount(count) },
  ]);
}

/** The findings `evidence.related` names (what lies behind a slow route, a stall and the code holding it), linked. */
export function relatedFindings(
  evidence: Evidence,
  linkTo: (findingId: string) => string,
  heading: string,
): TemplateResult | typeof nothing {
  const related = readRelated(evidence);
  if (related.length === 0) return nothing;
  return html`<section>
    <h4>${heading}</h4>
    <ul>
      ${related.map(
        (finding) =>
          html`<li>
            <a href=${linkTo(finding.id)}>${finding.title}</a>
            <span class="muted">· ${kindLabel(finding.kind)} · ${formatImpact(finding.impact)}</span>
          </li>`,
      )}
    </ul>
  </section>`;
}

export function exampleTrace(exampleTraceId: string | undefined): TemplateResult | typeof nothing {
  if (!exampleTraceId) return nothing;
  return html`<section>
    <h4>Example trace</h4>
    <div class="trace">
      <code>${exampleTraceId}</code>
      <cp-copy-button .text=${exampleTraceId} label="Copy trace id"></cp-copy-button>
    </div>
  </section>`;
}

export function optional(value: number | undefined, format: Format): string {
  return value === undefined ? '—' : format(value);
}

export function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
