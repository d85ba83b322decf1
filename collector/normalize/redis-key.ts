/**
 * Redis keys and statements. A key becomes a pattern (`user:42:profile` →
 * `user:{id}:profile`) so that one access pattern is one operation and no user
 * data is stored; a statement is reduced to its command and key, never its values.
 */
import { isUuidAt, Placeholder, variablePlaceholder } from './variable-part.js';

export interface RedisStatement {
  /** Upper-case command, with its subcommand for container commands: `GET`, `CLIENT SETNAME`. */
  command: string;
  /** The first key, raw: fold it with `keyPattern` before storing it. */
  key?: string;
}

/** Commands whose arguments are never keys (so the first one must not be stored as one). */
const KEYLESS_COMMANDS = new Set(
  (
    'AUTH BGREWRITEAOF BGSAVE CONNECT DBSIZE DISCARD ECHO EVAL EVAL_RO EXEC FAILOVER FLUSHALL FLUSHDB HELLO ' +
    'INFO LASTSAVE MONITOR MULTI PING PSUBSCRIBE PSYNC PUNSUBSCRIBE QUIT RANDOMKEY READONLY READWRITE ' +
    'REPLICAOF RESET ROLE SAVE SCAN SELECT SHUTDOWN SLAVEOF SWAPDB SYNC TIME UNWATCH WAIT'
  ).split(' '),
);

/** Commands that take a subcommand; for those listed with `true`, the key follows the subcommand. */
const CONTAINER_COMMANDS = new Map<string, boolean>([
  ['ACL', false],
  ['CLIENT', false],
  ['CLUSTER', false],
  ['COMMAND', false],
  ['CONFIG', false],
  ['FUNCTION', false],
  ['LATENCY', false],
  ['MEMORY', true],
  ['MODULE', false],
  ['OBJECT', true],
  ['PUBSUB', false],
  ['SCRIPT', false],
  ['SLOWLOG', false],
  ['XGROUP', true],
  ['XINFO', true],
]);

/** `EVALSHA sha numkeys key…` and `FCALL name numkeys key…`: the key is the fourth token. */
const NUMKEYS_COMMANDS = new Set(['EVALSHA', 'EVALSHA_RO', 'FCALL', 'FCALL_RO']);

const MAX_COMMAND_LENGTH = 32;
/** The command and key are always among the first tokens; the rest can be a megabyte value (memcached `set`). */
const MAX_TOKENS = 16;

/**
 * Parses a `db.query.text` / `db.statement` as the ioredis, redis and memcached
 * instrumentations write it (`@opentelemetry/redis-common`'s serializer: the command,
 * then its key and at most the arguments it deems safe, then `[N other arguments]`).
 * Returns `undefined` when the text does not start with a command name.
 *
 * @example
 * parseRedisStatement('set session:9f2c [2 other arguments]'); // { command: 'SET', key: 'session:9f2c' }
 * parseRedisStatement('XREAD COUNT 10 STREAMS events:42 0'); // { command: 'XREAD', key: 'events:42' }
 */
export function parseRedisStatement(statement: string): RedisStatement | undefined {
  const tokens = statement.trim().split(' ', MAX_TOKENS);
  const first = tokens[0] ?? '';
  if (!isCommandName(first)) return undefined;
  const command = first.toUpperCase();
  const keyAfterSubcommand = CONTAINER_COMMANDS.get(command);
  if (keyAfterSubcommand !== undefined) {
    const subcommand = tokens[1];
    if (subcommand === undefined || !isCommandName(subcommand)) return { command };
    const full = `${command} ${subcommand.toUpperCase()}`;
    return keyAfterSubcommand ? withKey(full, tokens[2]) : { command: full };
  }
  if (KEYLESS_COMMANDS.has(command)) return { command };
  if (NUMKEYS_COMMANDS.has(command)) {
    const numberOfKeys = Number(tokens[2]);
    return numberOfKeys > 0 ? withKey(command, tokens[3]) : { command };
  }
  if (command === 'XREAD' || command === 'XREADGROUP') {
    const streams = tokens.findIndex((token) => token.toUpperCase() === 'STREAMS');
    return streams === -1 ? { command } : withKey(command, tokens[streams + 1]);
  }
  return withKey(command, tokens[1]);
}

function withKey(command: string, token: string | undefined): RedisStatement {
  if (token === undefined || token === '' || isOmissionMarker(token)) return { command };
  return { command, key: token };
}

/** The `[N` opening the serializer's `[N other arguments]`: a count of what it left out, not a key. */
function isOmissionMarker(token: string): boolean {
  if (token.length < 2 || token.charCodeAt(0) !== 91) return false;
  for (let i = 1; i < token.length; i++) {
    const code = token.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

function isCommandName(token: string): boolean {
  if (token.length === 0 || token.length > MAX_COMMAND_LENGTH) return false;
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    const lower = code | 32;
    if (!(lower >= 97 && lower <= 122) && code !== 95) return false;
  }
  return true;
}

/** Split points between key parts whose variable parts are judged as a whole (emails, UUIDs, dates). */
function isMajorSeparator(code: number): boolean {
  // : / | #
  return code === 58 || code === 47 || code === 124 || code === 35;
}

/** Split points inside a part; `{` and `}` too, so that cluster hash tags (`{user:42}`) fold. */
function isMinorSeparator(code: number): boolean {
  // . _ - { }
  return code === 46 || code === 95 || code === 45 || code === 123 || code === 125;
}

/**
 * Folds the variable parts of a cache key: ids → `{id}`, UUIDs → `{uuid}`, hashes
 * and tokens → `{hash}`, emails → `{email}`, dates → `{date}`. Parts are delimited by
 * `:` `/` `|` `#` and, inside those, by `.` `_` `-`. Folding a pattern again changes nothing.
 *
 * @example
 * keyPattern('user:42:profile'); // 'user:{id}:profile'
 * keyPattern('session:4c1f0d9e8b7a6c5d4e3f'); // 'session:{hash}'
 */
export function keyPattern(key: string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i <= key.length; i++) {
    const code = i < key.length ? key.charCodeAt(i) : -1;
    if (code !== -1 && !isMajorSeparator(code)) continue;
    out += foldMajorPart(key.slice(start, i));
    if (code !== -1) out += key[i];
    start = i + 1;
  }
  return out;
}

function foldMajorPart(part: string): string {
  const whole = variablePlaceholder(part);
  if (whole) return whole;
  let out = '';
  let start = 0;
  for (let i = 0; i <= part.length; i++) {
    // A UUID's dashes are not separators: `report-<uuid>` → `report-{uuid}`.
    if (
      i === start &&
      isUuidAt(part, i) &&
      (i + 36 === part.length || isMinorSeparator(part.charCodeAt(i + 36)))
    ) {
      out += Placeholder.UUID;
      i += 36;
      if (i < part.length) out += part[i];
      start = i + 1;
      continue;
    }
    const code = i < part.length ? part.charCodeAt(i) : -1;
    if (code !== -1 && !isMinorSeparator(code)) continue;
    const piece = part.slice(start, i);
    out += variablePlaceholder(piece) ?? piece;
    if (code !== -1) out += part[i];
    start = i + 1;
  }
  return out;
}
