/**
 * `CHOKEPOINT_SCRUB`: what the agent removes from span attributes before they leave the
 * process. The collector scrubs everything before storage anyway; scrubbing here is for
 * teams whose traces must not travel raw (a shared or remote collector).
 *
 * - `sql`: literals in `db.query.text` / `db.statement` become `?`.
 * - `redis`: a command keeps its name and its first argument (the key, for most commands)
 *   with the ids folded (`GET user:{id}`); the arguments after it are dropped. The
 *   collector reads the key pattern from that text, knowing which commands have no key.
 *   Kafka message keys (`messaging.kafka.message.key`, an order or user id as often as
 *   not) are folded the same way.
 *
 * Spans are read-only once ended, so {@link ScrubSpanProcessor} works in `onEnding`: the
 * SDK's documented hook that runs while the span is still writable, before any `onEnd`.
 */
import type { Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

export const SCRUB_MODES = ['none', 'sql', 'redis', 'all'] as const;
export type ScrubMode = (typeof SCRUB_MODES)[number];

/** Systems whose `db.query.text` is a Redis command rather than SQL. */
const REDIS_SYSTEMS = new Set(['redis', 'valkey']);
/** Systems where `"…"` is a string literal rather than a quoted identifier. */
const DOUBLE_QUOTED_STRING_SYSTEMS = new Set(['mysql', 'mariadb']);

/**
 * One pass over SQL, token by token, so that digits inside identifiers (`table1`) and
 * placeholders (`$1`) survive while literals do not. Unterminated quotes run to the end:
 * a truncated statement must not leak its tail as if it were an identifier.
 */
const SQL_TOKEN = new RegExp(
  [
    /(?<string>(?:\b[EXBN])?'(?:[^'\\]|\\[\s\S]|'')*(?:'|$))/.source,
    /(?<identifier>[A-Za-z_][\w$]*|`(?:[^`]|``)*(?:`|$)|\$\d+)/.source,
    /(?<dollarQuoted>\$(?<tag>[A-Za-z_]\w*)?\$[\s\S]*?(?:\$\k<tag>\$|$))/.source,
    /(?<doubleQuoted>"(?:[^"\\]|\\[\s\S]|"")*(?:"|$))/.source,
    /(?<number>\b0x[\dA-Fa-f]+|(?:\b\d+(?:\.\d*)?|\.\d+)(?:[Ee][+-]?\d+)?)/.source,
  ].join('|'),
  'gi',
);

/**
 * Replaces the literals of a SQL statement with `?`: strings (with `E'…'`, `X'…'`, `N'…'`
 * prefixes), dollar-quoted strings, numbers, and `"…"` strings on MySQL and MariaDB.
 * Identifiers, keywords and placeholders are kept.
 *
 * @example
 * scrubSql("SELECT * FROM users WHERE email = 'a@b.c' AND age > 30"); // SELECT * FROM users WHERE email = ? AND age > ?
 */
export function scrubSql(text: string, system?: string): string {
  const doubleQuotedIsString = system !== undefined && DOUBLE_QUOTED_STRING_SYSTEMS.has(system);
  return text.replace(SQL_TOKEN, (token, ...rest) => {
    const groups = rest[rest.length - 1] as Record<string, string | undefined>;
    if (groups.identifier !== undefined) return token;
    if (groups.doubleQuoted !== undefined && !doubleQuotedIsString) return token;
    return '?';
  });
}

/**
 * Key folding, in the collector's vocabulary (collector/normalize/redis-key.ts): a key
 * folded here reaches the collector as the very pattern it would have made of the raw key.
 */
/** Split points inside a major part; `{` and `}` too, so that cluster hash tags (`{user:42}`) fold. */
const MINOR_SEPARATORS = new Set(['.', '_', '-', '{', '}']);
const UUID_PREFIX = /^[\dA-Fa-f]{8}-[\dA-Fa-f]{4}-[\dA-Fa-f]{4}-[\dA-Fa-f]{4}-[\dA-Fa-f]{12}/;
const UUID_LENGTH = 36;
const DIGITS = /^\d+$/;
const DATE = /^\d{4}-\d{2}-\d{2}(?:$|[Tt ]\d)/;
const HEX = /^[\dA-Fa-f]{12,}$/;
const TOKEN_CHARACTERS = /^[\dA-Za-z+=_-]{20,}$/;

/** One `@` with something before it, and a dot inside the domain after it. */
function isEmail(text: string): boolean {
  const at = text.indexOf('@');
  if (at <= 0 || text.indexOf('@', at + 1) !== -1) return false;
  const dot = text.indexOf('.', at + 2);
  if (dot === -1 || dot === text.length - 1) return false;
  for (let i = 0; i < text.length; i++) {
    const character = text[i] ?? '';
    if (character <= ' ' || character === '/' || character === ':') return false;
  }
  return true;
}

/** Base64/base62 with letters and digits, and few `-`/`_` (a slug like `quarterly-report-2024` has many). */
function isToken(text: string): boolean {
  if (!TOKEN_CHARACTERS.test(text) || !/\d/.test(text) || !/[A-Za-z]/.test(text)) return false;
  return (text.match(/[-_]/g)?.length ?? 0) * 10 <= text.length;
}

function placeholder(part: string): string | undefined {
  if (DIGITS.test(part)) return '{id}';
  if (part.length === UUID_LENGTH && UUID_PREFIX.test(part)) return '{uuid}';
  if (DATE.test(part)) return '{date}';
  if (isEmail(part)) return '{email}';
  if (HEX.test(part) || isToken(part)) return '{hash}';
  return undefined;
}

function foldMajorPart(part: string): string {
  const whole = placeholder(part);
  if (whole !== undefined) return whole;
  let folded = '';
  let start = 0;
  for (let i = 0; i <= part.length; i++) {
    // A UUID's dashes are not separators: `report-<uuid>` → `report-{uuid}`.
    const after = i + UUID_LENGTH;
    if (
      i === start &&
      UUID_PREFIX.test(part.slice(i, after)) &&
      (after === part.length || MINOR_SEPARATORS.has(part[after] ?? ''))
    ) {
      folded += `{uuid}${part[after] ?? ''}`;
      i = after;
      start = after + 1;
      continue;
    }
    if (i < part.length && !MINOR_SEPARATORS.has(part[i] ?? '')) continue;
    const piece = part.slice(start, i);
    folded += (placeholder(piece) ?? piece) + (part[i] ?? '');
    start = i + 1;
  }
  return folded;
}

const COLON = 0x3a;
const SLASH = 0x2f;
const PIPE = 0x7c;
const HASH = 0x23;
const AT = 0x40;
const ZERO = 0x30;
const NINE = 0x39;
/** The shortest part a placeholder without digits or `@` can take: a 12-digit hex hash. */
const SHORTEST_LETTERS_ONLY_PLACEHOLDER = 12;

function isMajorSeparator(code: number): boolean {
  return code === COLON || code === SLASH || code === PIPE || code === HASH;
}

/**
 * Whether `key[start, end)` can only fold to itself: every placeholder needs a digit (ids,
 * dates, UUIDs, tokens), an `@` (e-mail addresses) or twelve characters (hex hashes). Most
 * parts of most keys are such words, and skip the tests below.
 */
function foldsToItself(key: string, start: number, end: number): boolean {
  if (end - start >= SHORTEST_LETTERS_ONLY_PLACEHOLDER) return false;
  for (let i = start; i < end; i++) {
    const code = key.charCodeAt(i);
    if ((code >= ZERO && code <= NINE) || code === AT) return false;
  }
  return true;
}

/**
 * Folds the variable parts of a cache key: ids → `{id}`, UUIDs → `{uuid}`, hashes and
 * tokens → `{hash}`, e-mail addresses → `{email}`, dates → `{date}`. Parts are delimited
 * by `:` `/` `|` `#` and, inside those, by `.` `_` `-` `{` `}`. A key with nothing to fold
 * is returned as it is.
 *
 * @example
 * foldKey('user:42:profile'); // user:{id}:profile
 */
export function foldKey(key: string): string {
  let folded = '';
  /** `key` up to here is in `folded` already. */
  let copied = 0;
  let start = 0;
  for (let end = 0; end <= key.length; end++) {
    if (end < key.length && !isMajorSeparator(key.charCodeAt(end))) continue;
    if (!foldsToItself(key, start, end)) {
      const part = key.slice(start, end);
      const replacement = foldMajorPart(part);
      if (replacement !== part) {
        folded += key.slice(copied, start) + replacement;
        copied = end;
      }
    }
    start = end + 1;
  }
  return copied === 0 ? key : folded + key.slice(copied);
}

/**
 * Keeps a Redis command's name and its first argument, folded; drops the rest. Statements
 * as the ioredis and redis instrumentations write them (`set user:42 [1 other arguments]`):
 * a first argument in brackets is their elision marker, not a key.
 *
 * @example
 * scrubRedisCommand('set user:42 [1 other arguments]'); // 'set user:{id}'
 */
export function scrubRedisCommand(statement: string): string {
  const [command = '', key] = statement.trim().split(/\s+/, 2);
  return key === undefined || key.startsWith('[') ? command : `${command} ${foldKey(key)}`;
}

const QUERY_TEXT_ATTRIBUTES = ['db.query.text', 'db.statement'] as const;
/** Where upstream's kafkajs instrumentation puts the message key, on producer and consumer spans. */
const KAFKA_MESSAGE_KEY = 'messaging.kafka.message.key';

/**
 * Scrubs a span's database statement in place, while it is still writable (`onEnding`).
 *
 * @example
 * new NodeSDK({ spanProcessors: [new ScrubSpanProcessor('all'), exportProcessor] });
 */
export class ScrubSpanProcessor implements SpanProcessor {
  private readonly scrubSql: boolean;
  private readonly scrubRedis: boolean;

  constructor(mode: ScrubMode) {
    this.scrubSql = mode === 'sql' || mode === 'all';
    this.scrubRedis = mode === 'redis' || mode === 'all';
  }

  onEnding(span: Span): void {
    const system = span.attributes['db.system.name'] ?? span.attributes['db.system'];
    if (typeof system !== 'string') {
      const key = this.scrubRedis ? span.attributes[KAFKA_MESSAGE_KEY] : undefined;
      if (typeof key === 'string') span.setAttribute(KAFKA_MESSAGE_KEY, foldKey(key));
      return;
    }
    const isRedis = REDIS_SYSTEMS.has(system);
    if (isRedis ? !this.scrubRedis : !this.scrubSql) return;
    for (const name of QUERY_TEXT_ATTRIBUTES) {
      const text = span.attributes[name];
      if (typeof text !== 'string') continue;
      span.setAttribute(name, isRedis ? scrubRedisCommand(text) : scrubSql(text, system));
    }
  }

  onStart(): void {}

  onEnd(): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
