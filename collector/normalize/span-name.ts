/**
 * Span names are free text: most are static (`request handler - /users/:id`), but
 * some embed a statement, a URL or an id (`SELECT … WHERE email = 'a@b.c'`,
 * `GET https://api/users/42`, `process order 1234`). Names kept for internal
 * operations pass through here first.
 */

import { LruCache } from './lru-cache.js';
import { keyPattern } from './redis-key.js';
import { fingerprintSql } from './sql-fingerprint.js';
import { hostOf, templatePath } from './url-template.js';

/** Longer names are cut: a name is a label, and a statement-sized one would bloat storage. */
const MAX_NAME_LENGTH = 200;

/** Names scrubbed lately: most repeat (one per route or job), and scrubbing one reads every word. */
const scrubbed = new LruCache<string, string>(10_000);
/** Longer names are scrubbed every time rather than held. */
const MAX_CACHED_NAME_LENGTH = 1_024;

const SQL_VERBS = new Set([
  'select',
  'insert',
  'update',
  'delete',
  'with',
  'replace',
  'merge',
  'upsert',
  'call',
  'exec',
  'execute',
]);

/**
 * The name with anything that looks like a value folded away: SQL becomes its
 * fingerprint, URLs and paths their templates, quoted text `?`, `key=value` → `key=?`,
 * and ids, UUIDs, hashes and emails their placeholders. Names without digits, quotes
 * or URL characters are returned as they are.
 *
 * @example
 * scrubSpanName("SELECT * FROM users WHERE email = 'ann@example.com'"); // 'select * from users where email = ?'
 * scrubSpanName('GET https://api.example.com/users/42?token=abc'); // 'GET https://api.example.com/users/{id}'
 * scrubSpanName('request handler - /users/:id'); // unchanged
 */
export function scrubSpanName(name: string): string {
  if (!mayCarryValues(name)) return truncate(name);
  return name.length > MAX_CACHED_NAME_LENGTH ? scrub(name) : scrubbed.getOrCompute(name, scrub);
}

function scrub(name: string): string {
  const firstSpace = name.search(/\s/);
  if (firstSpace > 0 && SQL_VERBS.has(name.slice(0, firstSpace).toLowerCase())) {
    return truncate(fingerprintSql(name).fingerprint);
  }
  const words = withoutQuotedText(name).split(/\s+/);
  for (let i = 0; i < words.length; i++) words[i] = scrubWord(words[i] ?? '');
  return truncate(words.join(' '));
}

function mayCarryValues(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    // digits " % ' / = ? @ `
    if ((code >= 48 && code <= 57) || code === 34 || code === 37 || code === 39 || code === 47) return true;
    if (code === 61 || code === 63 || code === 64 || code === 96) return true;
  }
  return false;
}

/** Replaces each '…', "…" or `…` run with `?`; an unclosed quote takes the rest with it. */
function withoutQuotedText(name: string): string {
  let out = '';
  let i = 0;
  while (i < name.length) {
    const code = name.charCodeAt(i);
    if (code !== 34 && code !== 39 && code !== 96) {
      out += name[i];
      i++;
      continue;
    }
    const close = name.indexOf(name[i] ?? '', i + 1);
    out += '?';
    if (close === -1) break;
    i = close + 1;
  }
  return out;
}

function scrubWord(word: string): string {
  const scheme = word.indexOf('://');
  if (scheme > 0) return `${word.slice(0, scheme)}://${hostOf(word)}${templatePath(word)}`;
  if (word.charCodeAt(0) === 47) return templatePath(word);
  // `?` alone stands for quoted text already removed; after a word it starts a query string.
  const question = word.indexOf('?');
  if (question === 0) return '?';
  const text = question === -1 ? word : word.slice(0, question);
  const equals = text.indexOf('=');
  if (equals !== -1) return `${keyPattern(text.slice(0, equals))}=?`;
  return keyPattern(text.includes('%') ? safeDecode(text) : text);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function truncate(name: string): string {
  return name.length > MAX_NAME_LENGTH ? `${name.slice(0, MAX_NAME_LENGTH)}…` : name;
}
