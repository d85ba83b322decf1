/**
 * `chokepoint report`: the ranked findings with their evidence and fixes, read from a
 * collector's SQLite file (opened read-only through the store, safe while the collector
 * writes it) or from a running collector's `GET /api/findings`.
 *
 * @example
 * // chokepoint report --db chokepoint.db --service shop --since 1h --format markdown
 * process.exitCode = await runReport(['--db', 'chokepoint.db', '--format', 'markdown']);
 */
import { existsSync } from 'node:fs';
import { SqliteStore } from '../collector/store/sqlite-store.js';
import type { Finding } from '../model/index.js';
import { type FlagSpecs, flagsHelp, parseChoice, parseDuration, parseFlags, UsageError } from './args.js';
import { buildReport, formatReport, REPORT_FORMATS, type ReportSource, useColor } from './report-format.js';

const DEFAULT_DB = './chokepoint.db';
const FETCH_TIMEOUT_MS = 10_000;

export const REPORT_FLAGS: FlagSpecs = {
  db: {
    type: 'value',
    placeholder: 'file',
    help: `a collector's SQLite file (default $CHOKEPOINT_DB or ${DEFAULT_DB})`,
  },
  url: {
    type: 'value',
    placeholder: 'url',
    help: "a running collector's dashboard URL, e.g. http://127.0.0.1:7070",
  },
  token: {
    type: 'value',
    placeholder: 'token',
    help: 'bearer token for --url (default $CHOKEPOINT_TOKEN, which is safer)',
  },
  service: { type: 'value', placeholder: 'name', help: 'only this service' },
  since: {
    type: 'value',
    placeholder: 'duration',
    help: 'only findings seen in this trailing time: 30m, 1h, 7d',
  },
  format: { type: 'value', placeholder: 'format', help: 'text (default), markdown or json' },
  help: { type: 'switch', help: 'show this help' },
};

export const REPORT_HELP = `Usage: chokepoint report [--db FILE | --url URL] [--service S] [--since 1h] [--format text|markdown|json]

The findings, ranked by impact, with their evidence and the fix for each.
Text is coloured on a terminal (set NO_COLOR to turn that off); markdown suits a pull request or
$GITHUB_STEP_SUMMARY; json is a versioned document ({"version":1,…,"findings":[…]}) that
\`chokepoint check --baseline\` also reads.

Flags:
${flagsHelp(REPORT_FLAGS)}

Exit codes: 0 the report was printed, 2 bad flags or the findings could not be read.`;

export interface FindingsFilter {
  service?: string;
  /** Keep findings last seen at or after this time (epoch ms). */
  seenSinceMs?: number;
}

/**
 * The findings of a collector's database file, opened read-only.
 *
 * @example
 * readFindingsFromDb('chokepoint.db', { service: 'shop' });
 */
export function readFindingsFromDb(path: string, filter: FindingsFilter = {}): Finding[] {
  if (!existsSync(path)) {
    throw new Error(
      `no database at ${path}: pass the collector's --db file, or --url to ask a running collector`,
    );
  }
  const store = new SqliteStore(path, { readonly: true });
  try {
    return seenSince(store.listFindings({ service: filter.service }), filter.seenSinceMs);
  } finally {
    store.close();
  }
}

/**
 * The findings a running collector serves on `GET <baseUrl>/api/findings`.
 *
 * @example
 * await fetchFindings('http://127.0.0.1:7070', { service: 'shop', token: process.env.CHOKEPOINT_TOKEN });
 */
export async function fetchFindings(
  baseUrl: string,
  options: FindingsFilter & { token?: string } = {},
): Promise<Finding[]> {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/api/findings`);
  if (options.service) url.searchParams.set('service', options.service);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new Error(`cannot reach the collector at ${baseUrl}: ${cause}`);
  }
  const text = await response.text();
  if (response.status === 401) {
    throw new Error(`the collector at ${baseUrl} wants a token (401): set CHOKEPOINT_TOKEN or pass --token`);
  }
  let body: { findings?: unknown; error?: unknown } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const reason = typeof body?.error === 'string' ? body.error : text.slice(0, 200);
    throw new Error(`the collector at ${baseUrl} answered ${response.status}: ${reason}`);
  }
  if (!Array.isArray(body?.findings)) {
    throw new Error(`${url} did not answer with {"findings": […]}: is ${baseUrl} a Chokepoint collector?`);
  }
  return seenSince(body.findings as Finding[], options.seenSinceMs);
}

function seenSince(findings: Finding[], fromMs: number | undefined): Finding[] {
  return fromMs === undefined
    ? findings
    : findings.filter((finding) => Date.parse(finding.lastSeen) >= fromMs);
}

export interface CommandIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** The current time, for `--since` and `generatedAt`. */
  now?: () => Date;
}

/**
 * Runs `chokepoint report` with `argv` (the arguments after `report`) and resolves with its exit code.
 * Bad flags throw a UsageError; an unreadable source throws an Error (both exit 2 in main).
 */
export async function runReport(
  argv: readonly string[],
  io: CommandIo = { stdout: process.stdout, env: process.env },
): Promise<number> {
  const flags = parseFlags(argv, REPORT_FLAGS);
  if (flags.has('help')) {
    io.stdout.write(`${REPORT_HELP}\n`);
    return 0;
  }
  const format = parseChoice(flags.value('format') ?? 'text', '--format', REPORT_FORMATS);
  const url = flags.value('url');
  if (url !== undefined && flags.has('db')) throw new UsageError('--db and --url are alternatives: pass one');
  if (url !== undefined && !/^https?:\/\/[^/]/.test(url)) {
    throw new UsageError(`--url=${JSON.stringify(url)} is not valid: expected an http(s) URL`);
  }
  const now = io.now?.() ?? new Date();
  const since = flags.value('since');
  const filter: FindingsFilter = {
    service: flags.value('service'),
    seenSinceMs: since === undefined ? undefined : now.getTime() - parseDuration(since, '--since'),
  };

  let findings: Finding[];
  let source: ReportSource;
  if (url !== undefined) {
    source = { url };
    findings = await fetchFindings(url, {
      ...filter,
      token: flags.value('token') ?? io.env.CHOKEPOINT_TOKEN,
    });
  } else {
    const db = flags.value('db') ?? (io.env.CHOKEPOINT_DB || DEFAULT_DB);
    source = { db };
    findings = readFindingsFromDb(db, filter);
  }
  const report = buildReport(findings, { source, service: filter.service, since, now });
  io.stdout.write(formatReport(report, format, { color: useColor(io.stdout, io.env) }));
  return 0;
}
