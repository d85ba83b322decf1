/**
 * A report of findings, in the three shapes `chokepoint report` and `chokepoint check` print:
 *
 * - `text`: an aligned table for a terminal, each finding followed by its evidence and fix;
 *   ANSI colours only when asked (see {@link useColor});
 * - `markdown`: for a pull request comment or `$GITHUB_STEP_SUMMARY`;
 * - `json`: a versioned envelope, stable for tools (documented in the README):
 *   `{"version": 1, "generatedAt", "source", "filters", "summary", "findings": [Finding…], "check"?}`.
 *   `findings` are exactly what `GET /api/findings` serves; a saved `json` report is a baseline.
 *
 * Finding kinds this file does not know are rendered from their evidence generically.
 *
 * @example
 * const report = buildReport(findings, { source: { db: 'chokepoint.db' } });
 * process.stdout.write(formatReport(report, 'text', { color: useColor(process.stdout, process.env) }));
 */

import { formatMs } from '../collector/detect/format.js';
import { type Finding, SEVERITIES, type Severity } from '../model/index.js';
import type { Budget, Violation } from './budget.js';

export const REPORT_VERSION = 1;
export const REPORT_FORMATS = ['text', 'markdown', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Where the findings came from: a database file, a collector's URL, or a checked command. */
export interface ReportSource {
  db?: string;
  url?: string;
  command?: string[];
}

/** The outcome of `chokepoint check`, carried in the report it prints. */
export interface CheckSection {
  passed: boolean;
  /** The exit code `chokepoint check` ends with (0 pass, 1 budget broken, 3 the command failed). */
  exitCode: number;
  command: { argv: string[]; exitCode: number | null; signal: string | null };
  budget: Budget;
  /** The baseline file compared against, if any. */
  baseline: string | null;
  violations: Violation[];
  tolerated: Violation[];
  ignored: string[];
}

export interface Report {
  version: typeof REPORT_VERSION;
  generatedAt: string;
  source: ReportSource;
  filters: { service: string | null; since: string | null };
  summary: { findings: number; bySeverity: Record<Severity, number>; byKind: Record<string, number> };
  /** Ranked by impact, highest first. */
  findings: Finding[];
  check?: CheckSection;
}

export interface BuildReportOptions {
  source: ReportSource;
  service?: string;
  /** The `--since` text as given (`1h`). */
  since?: string;
  now?: Date;
  check?: CheckSection;
}

/**
 * @example
 * buildReport(store.listFindings(), { source: { db: 'chokepoint.db' }, service: 'shop' });
 */
export function buildReport(findings: readonly Finding[], options: BuildReportOptions): Report {
  const ranked = [...findings].sort((a, b) => b.impact - a.impact || a.id.localeCompare(b.id));
  const bySeverity = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<
    Severity,
    number
  >;
  const byKind: Record<string, number> = {};
  for (const finding of ranked) {
    bySeverity[finding.severity] += 1;
    byKind[finding.kind] = (byKind[finding.kind] ?? 0) + 1;
  }
  return {
    version: REPORT_VERSION,
    generatedAt: (options.now ?? new Date()).toISOString(),
    source: options.source,
    filters: { service: options.service ?? null, since: options.since ?? null },
    summary: { findings: ranked.length, bySeverity, byKind },
    findings: ranked,
    ...(options.check ? { check: options.check } : {}),
  };
}

/** Colours on a terminal, unless `NO_COLOR` is set; `FORCE_COLOR` (other than `0`) forces them. */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

export function formatReport(report: Report, format: ReportFormat, options: { color: boolean }): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  if (format === 'markdown') return formatMarkdown(report);
  return formatText(report, options);
}

// ─── shared pieces ────────────────────────────────────────────────────────────

/** Evidence fields every kind may carry that get a line of their own (or none) rather than a fact. */
const SHOWN_APART = new Set([
  'fingerprint',
  'fingerprintId',
  'routes',
  'exampleTraceId',
  'system',
  'statementType',
  'tables',
]);

/**
 * The finding's evidence as short facts, in the order the detector wrote them: `p95 240 ms`,
 * `share of db time 84%`, `avg repeats 10`. Only scalars: lists and objects have their own lines.
 */
export function evidenceFacts(evidence: Record<string, unknown>): string[] {
  const facts: string[] = [];
  for (const [key, value] of Object.entries(evidence)) {
    if (SHOWN_APART.has(key)) continue;
    if (typeof value === 'number' && Number.isFinite(value)) facts.push(numberFact(key, value));
    else if (typeof value === 'string' && value !== '' && value.length <= 80)
      facts.push(`${words(key)} ${value}`);
    else if (typeof value === 'boolean') facts.push(`${words(key)} ${value ? 'yes' : 'no'}`);
  }
  return facts;
}

function numberFact(key: string, value: number): string {
  if (/Ms(?=[A-Z]|$)/.test(key)) return `${words(key.replace(/Ms(?=[A-Z]|$)/, ''))} ${formatMs(value)}`;
  if (/^share|Ratio$/.test(key)) return `${words(key)} ${Math.round(value * 1000) / 10}%`;
  return `${words(key)} ${Math.round(value * 100) / 100}`;
}

/** `avgRepeats` → `avg repeats`, `p95` stays `p95`. */
function words(key: string): string {
  return key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/** `GET /orders (12), GET /cart (3)` from the evidence's routes and their counts. */
function routesLine(finding: Finding): string | undefined {
  const routes = finding.evidence.routes;
  if (!Array.isArray(routes) || routes.length === 0) return undefined;
  const counted = routes.map((entry: Record<string, unknown>) => {
    const count = entry.count ?? entry.requests;
    return typeof count === 'number' ? `${entry.route} (${count})` : String(entry.route);
  });
  return counted.join(', ');
}

function statementOf(finding: Finding): string | undefined {
  const fingerprint = finding.evidence.fingerprint;
  return typeof fingerprint === 'string' && fingerprint !== '' ? fingerprint : undefined;
}

function impactText(impact: number): string {
  return `${formatMs(impact)}/min`;
}

function severityCounts(report: Report): string {
  const parts = SEVERITIES.filter((severity) => report.summary.bySeverity[severity] > 0).map(
    (severity) => `${report.summary.bySeverity[severity]} ${severity}`,
  );
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** `1 finding`, `3 findings` */
export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function sourceText(source: ReportSource): string {
  if (source.command) return `\`${source.command.join(' ')}\``;
  return source.url ?? source.db ?? '';
}

/** `in service shop, seen in the last 1h` from the report's filters. */
function filtersText(report: Report): string {
  const parts = [];
  if (report.filters.service) parts.push(`service ${report.filters.service}`);
  if (report.filters.since) parts.push(`seen in the last ${report.filters.since}`);
  return parts.join(', ');
}

/** How the check ended, in one sentence about the budget and one about the command. */
function checkOutcome(check: CheckSection): { headline: string; details: string[] } {
  const { violations, tolerated, ignored } = check;
  const newCount = violations.filter((v) => v.change === 'new').length;
  const worseCount = violations.filter((v) => v.change === 'worse').length;
  const changes = check.baseline ? ` (${newCount} new, ${worseCount} worse than the baseline)` : '';
  const headline =
    violations.length > 0
      ? `budget broken: ${plural(violations.length, 'finding')} over budget${changes}`
      : 'within budget';
  const details = [];
  if (check.baseline) details.push(`${tolerated.length} over budget but in the baseline ${check.baseline}`);
  if (ignored.length > 0) details.push(`${ignored.length} ignored`);
  const { command } = check;
  const commandLine = command.signal
    ? `the command itself failed: killed by ${command.signal}`
    : command.exitCode === 0
      ? 'the command passed (exit code 0)'
      : `the command itself failed with exit code ${command.exitCode}`;
  return { headline, details: [...details, commandLine] };
}

/** The budget's word on one finding: over budget (counted or tolerated), ignored, or nothing. */
function budgetNote(check: CheckSection, finding: Finding): { failed: boolean; text: string } | undefined {
  const violation = check.violations.find((v) => v.findingId === finding.id);
  if (violation) return { failed: true, text: violation.message };
  const tolerated = check.tolerated.find((v) => v.findingId === finding.id);
  if (tolerated) return { failed: false, text: tolerated.message };
  if (check.ignored.includes(finding.id)) return { failed: false, text: 'ignored by the budget' };
  return undefined;
}

// ─── text ─────────────────────────────────────────────────────────────────────

const ANSI = {
  bold: '\u001b[1m',
  dim: '\u001b[2m',
  red: '\u001b[31m',
  green: '\u001b[32m',
  yellow: '\u001b[33m',
  cyan: '\u001b[36m',
  reset: '\u001b[0m',
};

const SEVERITY_STYLE: Record<Severity, string> = {
  critical: `${ANSI.bold}${ANSI.red}`,
  high: ANSI.red,
  medium: ANSI.yellow,
  low: ANSI.dim,
};

/** The terminal rendering: a table of the findings, each followed by its evidence and fix. */
export function formatText(report: Report, options: { color: boolean }): string {
  const paint = (style: string, text: string) => (options.color ? `${style}${text}${ANSI.reset}` : text);
  const lines: string[] = [];
  const where = [sourceText(report.source), filtersText(report)].filter(Boolean).join(', ');
  const title = report.check ? 'Chokepoint check' : 'Chokepoint report';
  lines.push(
    `${paint(ANSI.bold, title)}: ${plural(report.summary.findings, 'finding')}${severityCounts(report)}${where ? ` from ${where}` : ''}`,
  );

  if (report.findings.length > 0) {
    const header = ['#', 'SEVERITY', 'IMPACT', 'KIND', 'SERVICE', 'FINDING'];
    const rows = report.findings.map((finding, index) => [
      String(index + 1),
      finding.severity,
      impactText(finding.impact),
      finding.kind,
      finding.service,
      finding.title,
    ]);
    const widths = header.map((cell, column) =>
      Math.max(cell.length, ...rows.map((row) => row[column]?.length ?? 0)),
    );
    const pad = (row: string[]) =>
      row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)));
    lines.push('', paint(ANSI.bold, pad(header).join('  ')));
    const indent = ' '.repeat((widths[0] ?? 1) + 2);
    const label = (name: string) => paint(ANSI.dim, name.padEnd(9));
    report.findings.forEach((finding, index) => {
      const cells = pad(rows[index] as string[]);
      cells[1] = paint(SEVERITY_STYLE[finding.severity], cells[1] as string);
      lines.push(cells.join('  '));
      const detail = (name: string, text: string) => lines.push(`${indent}${label(name)} ${text}`);
      if (report.check) {
        const note = budgetNote(report.check, finding);
        if (note) detail('budget', note.failed ? paint(ANSI.red, `✗ ${note.text}`) : `✓ ${note.text}`);
      }
      const statement = statementOf(finding);
      if (statement) {
        const system =
          typeof finding.evidence.system === 'string'
            ? ` ${paint(ANSI.dim, `(${finding.evidence.system})`)}`
            : '';
        detail('query', `${statement}${system}`);
      }
      const routes = routesLine(finding);
      if (routes) detail('routes', routes);
      const facts = evidenceFacts(finding.evidence);
      if (facts.length > 0) detail('evidence', facts.join(' · '));
      detail('fix', paint(ANSI.bold, finding.recommendation.summary));
      const continuation = `${indent}${' '.repeat(10)}`;
      for (const codeLine of finding.recommendation.code?.split('\n') ?? []) {
        lines.push(codeLine === '' ? '' : `${continuation}${paint(ANSI.cyan, codeLine)}`);
      }
      const trace =
        typeof finding.evidence.exampleTraceId === 'string'
          ? ` · trace ${finding.evidence.exampleTraceId}`
          : '';
      detail(
        'seen',
        paint(ANSI.dim, `${finding.status} · last ${finding.lastSeen} · id ${finding.id}${trace}`),
      );
      lines.push('');
    });
  } else {
    lines.push('', 'No findings.', '');
  }

  if (report.check) {
    const { headline, details } = checkOutcome(report.check);
    const mark =
      report.check.violations.length > 0
        ? paint(ANSI.red, `✗ ${headline}`)
        : paint(ANSI.green, `✓ ${headline}`);
    lines.push(`${mark}; ${details.join('; ')}.`);
  }
  return `${lines.join('\n').replace(/\n+$/, '')}\n`;
}

// ─── markdown ─────────────────────────────────────────────────────────────────

const SEVERITY_MARK: Record<Severity, string> = { critical: '🔴', high: '🟠', medium: '🟡', low: '⚪' };

/** Text for a table cell or a line of Markdown: no pipes, no line breaks, no HTML. */
function escapeMarkdown(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ');
}

/** `text` as inline code, with a fence longer than any run of backticks inside it. */
function inlineCode(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text.replace(/\s*\n\s*/g, ' ')}${pad}${fence}`;
}

function codeBlock(code: string, language = ''): string {
  const longest = Math.max(2, ...(code.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${code}\n${fence}`;
}

/** The Markdown rendering: a summary table, then each finding's evidence and fix in a collapsible block. */
export function formatMarkdown(report: Report): string {
  const { check } = report;
  const out: string[] = [];
  if (check) {
    const { headline, details } = checkOutcome(check);
    out.push(`## Chokepoint check: ${check.violations.length > 0 ? '❌' : '✅'} ${headline}`, '');
    out.push(`${inlineCode(check.command.argv.join(' '))}: ${details.join('; ')}.`, '');
  } else {
    out.push('## Chokepoint report', '');
  }
  const where = [report.source.command ? '' : sourceText(report.source), filtersText(report)]
    .filter(Boolean)
    .join(', ');
  out.push(
    `**${plural(report.summary.findings, 'finding')}**${severityCounts(report)}${where ? ` from ${escapeMarkdown(where)}` : ''}.`,
    '',
  );
  if (report.findings.length === 0) return `${out.join('\n')}\n`;

  const budgetColumn = check ? ' Budget |' : '';
  out.push(`| # | Severity | Impact | Finding | Kind | Service |${budgetColumn}`);
  out.push(`|--:|---|--:|---|---|---|${check ? '---|' : ''}`);
  report.findings.forEach((finding, index) => {
    const note = check ? budgetNote(check, finding) : undefined;
    const budgetCell = check
      ? ` ${note ? `${note.failed ? '❌' : '✔️'} ${escapeMarkdown(note.text)}` : ''} |`
      : '';
    out.push(
      `| ${index + 1} | ${SEVERITY_MARK[finding.severity]} ${finding.severity} | ${impactText(finding.impact)} | ${escapeMarkdown(finding.title)} | \`${finding.kind}\` | ${escapeMarkdown(finding.service)} |${budgetCell}`,
    );
  });
  out.push('');

  report.findings.forEach((finding, index) => {
    out.push(`<details><summary><b>${index + 1}. ${escapeMarkdown(finding.title)}</b></summary>`, '');
    const statement = statementOf(finding);
    if (statement) {
      const system =
        typeof finding.evidence.system === 'string' ? ` (${escapeMarkdown(finding.evidence.system)})` : '';
      out.push(`- **Query**${system}: ${inlineCode(statement)}`);
    }
    const routes = routesLine(finding);
    if (routes) out.push(`- **Routes:** ${escapeMarkdown(routes)}`);
    const facts = evidenceFacts(finding.evidence);
    if (facts.length > 0) out.push(`- **Evidence:** ${escapeMarkdown(facts.join(' · '))}`);
    out.push(`- **Seen:** ${finding.status}, last ${finding.lastSeen}; id ${inlineCode(finding.id)}`);
    const { recommendation } = finding;
    out.push(
      '',
      `**Fix:** ${escapeMarkdown(recommendation.summary)}`,
      '',
      escapeMarkdown(recommendation.detail),
    );
    if (recommendation.code) out.push('', codeBlock(recommendation.code, recommendation.language));
    out.push('', '</details>', '');
  });
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}
