/**
 * Hooks for `@opentelemetry/instrumentation-ioredis` and `-redis` (node-redis v4/v5): a
 * Redis used as a cache tells the collector how it serves.
 *
 * - reads: `GET`, `GETEX`, `GETDEL`, `HGET` → `chokepoint.cache.hit`; `MGET`, `HMGET` →
 *   `chokepoint.cache.hits` and `chokepoint.cache.misses`;
 * - writes: `SET … EX|PX`, `SETEX`, `PSETEX`, `GETEX … EX|PX`, `EXPIRE`, `PEXPIRE` →
 *   `chokepoint.cache.ttl_seconds`, the TTL the command asks for;
 * - every command whose first argument is a key → `chokepoint.cache.key_pattern`, the key
 *   folded (`user:{id}`): upstream's statement drops the key of `HGET`, `MGET` and others.
 *
 * A reply only counts once the command succeeded; both instrumentations skip their response
 * hook on errors.
 *
 * ioredis queues the commands sent before it is connected and sends them again through
 * `sendCommand` once it is: upstream then starts a second span for the same command, ended
 * by the same reply. The second one is left unsampled (not exported): the first has the
 * caller's parent and the whole wait.
 *
 * Every command goes through here, so what its name says (upper case, whether a key comes
 * first, which reply it reads) is worked out once per name, not per call.
 */
import { type Attributes, type Span, TraceFlags } from '@opentelemetry/api';
import { ChokepointAttributes } from '../../../model/attributes.js';
import { foldKey } from '../../scrub.js';
import type { UpstreamConfig } from './types.js';

/** As the drivers hand them over: ioredis keeps numbers, node-redis strings, both may hold Buffers. */
export type CommandArgument = string | number | Buffer | unknown[];

const SINGLE_KEY_READS = new Set(['GET', 'GETEX', 'GETDEL', 'HGET']);
const MULTI_KEY_READS = new Set(['MGET', 'HMGET']);

/**
 * Commands whose first argument is not a key (or not only one): their statement, parsed by
 * the collector, says what there is to say. Mirrors the collector's list of keyless and
 * container commands, plus those whose keys follow a count or a keyword.
 */
const FIRST_ARGUMENT_NOT_A_KEY = new Set(
  (
    'ACL AUTH BGREWRITEAOF BGSAVE BITOP BLMPOP BZMPOP CLIENT CLUSTER COMMAND CONFIG CONNECT DBSIZE DISCARD ' +
    'ECHO EVAL EVALSHA EVALSHA_RO EVAL_RO EXEC FAILOVER FCALL FCALL_RO FLUSHALL FLUSHDB FUNCTION HELLO INFO ' +
    'LASTSAVE LATENCY LMPOP MEMORY MIGRATE MODULE MONITOR MULTI OBJECT PING PSUBSCRIBE PSYNC PUBLISH PUBSUB ' +
    'PUNSUBSCRIBE QUIT RANDOMKEY READONLY READWRITE REPLICAOF RESET ROLE SAVE SCAN SCRIPT SELECT SHUTDOWN ' +
    'SINTERCARD SLAVEOF SLOWLOG SPUBLISH SSUBSCRIBE SUBSCRIBE SUNSUBSCRIBE SWAPDB SYNC TIME UNSUBSCRIBE ' +
    'UNWATCH WAIT XGROUP XINFO XREAD XREADGROUP ZDIFF ZINTER ZINTERCARD ZMPOP ZUNION'
  ).split(' '),
);

function text(argument: CommandArgument | undefined): string | undefined {
  if (typeof argument === 'string') return argument;
  if (typeof argument === 'number') return String(argument);
  return Buffer.isBuffer(argument) ? argument.toString('latin1') : undefined;
}

function seconds(argument: CommandArgument | undefined, unitMs = 1000): number | undefined {
  const value = Number(text(argument));
  return Number.isFinite(value) && value > 0 ? (value * unitMs) / 1000 : undefined;
}

/** The TTL an `EX`/`PX` option among `options` asks for, in seconds. */
function ttlOption(options: readonly CommandArgument[]): number | undefined {
  for (let i = 0; i < options.length - 1; i++) {
    const option = text(options[i])?.toUpperCase();
    if (option === 'EX') return seconds(options[i + 1]);
    if (option === 'PX') return seconds(options[i + 1], 1);
  }
  return undefined;
}

function ttlSeconds(command: string, args: readonly CommandArgument[]): number | undefined {
  switch (command) {
    case 'SET':
      return ttlOption(args.slice(2));
    case 'GETEX':
      return ttlOption(args.slice(1));
    case 'SETEX':
    case 'EXPIRE':
      return seconds(args[1]);
    case 'PSETEX':
    case 'PEXPIRE':
      return seconds(args[1], 1);
    default:
      return undefined;
  }
}

/** What a command's name says about its arguments and its reply. */
interface CommandTraits {
  /** The name upper-cased, as the TTL rules name commands. */
  command: string;
  keyFirst: boolean;
  reply: 'hit' | 'hits' | undefined;
}

/** Traits by name as the driver spells it. Names come from code, not data: the bound is a safeguard. */
const traitsByName = new Map<string, CommandTraits>();
const MAX_NAMES = 1024;

function traitsOf(name: string): CommandTraits {
  let traits = traitsByName.get(name);
  if (traits === undefined) {
    const command = name.toUpperCase();
    traits = {
      command,
      keyFirst: !FIRST_ARGUMENT_NOT_A_KEY.has(command),
      reply: SINGLE_KEY_READS.has(command) ? 'hit' : MULTI_KEY_READS.has(command) ? 'hits' : undefined,
    };
    if (traitsByName.size < MAX_NAMES) traitsByName.set(name, traits);
  }
  return traits;
}

/**
 * What a command says before it runs: the folded key and, for writes, the TTL.
 *
 * @example
 * describeCacheCommand('set', ['user:42', '{…}', 'EX', 60]);
 * // { 'chokepoint.cache.key_pattern': 'user:{id}', 'chokepoint.cache.ttl_seconds': 60 }
 */
export function describeCacheCommand(name: string, args: readonly CommandArgument[]): Attributes {
  const { command, keyFirst } = traitsOf(name);
  const attributes: Attributes = {};
  const key = keyFirst ? text(args[0]) : undefined;
  if (key !== undefined && key !== '') attributes[ChokepointAttributes.CACHE_KEY_PATTERN] = foldKey(key);
  const ttl = ttlSeconds(command, args);
  if (ttl !== undefined) attributes[ChokepointAttributes.CACHE_TTL_SECONDS] = ttl;
  return attributes;
}

/**
 * What a read's reply says: hit or miss for one key, hits and misses for several. A nil
 * reply (`null`; `undefined` in some node-redis transforms) is a miss.
 *
 * @example
 * describeCacheReply('mget', ['1', null, '3']);
 * // { 'chokepoint.cache.hits': 2, 'chokepoint.cache.misses': 1 }
 */
export function describeCacheReply(name: string, reply: unknown): Attributes {
  const { reply: kind } = traitsOf(name);
  if (kind === 'hit') return { [ChokepointAttributes.CACHE_HIT]: reply != null };
  if (kind === 'hits' && Array.isArray(reply)) {
    const hits = reply.filter((value) => value != null).length;
    return {
      [ChokepointAttributes.CACHE_HITS]: hits,
      [ChokepointAttributes.CACHE_MISSES]: reply.length - hits,
    };
  }
  return {};
}

/**
 * Marks the argument list of an ioredis command once traced: ioredis makes one per command,
 * and keeps it on a resend. A property of the list, not a WeakSet entry: every command
 * passes here, and a property costs a store where a WeakSet costs a table entry for the
 * garbage collector to sweep.
 */
const TRACED = Symbol('chokepoint.redis.traced');

export const ioredisConfig: UpstreamConfig<'ioredis'> = {
  // Commands sent from timers, queue workers and start-up code count too.
  requireParentSpan: false,
  requestHook(span: Span, { cmdName, cmdArgs }) {
    const args = cmdArgs as CommandArgument[] & { [TRACED]?: true };
    if (args[TRACED]) {
      // A command sent from the offline queue: already traced when the app sent it.
      span.spanContext().traceFlags &= ~TraceFlags.SAMPLED;
      return;
    }
    args[TRACED] = true;
    span.setAttributes(describeCacheCommand(cmdName, cmdArgs));
  },
  responseHook(span: Span, cmdName: string, _cmdArgs, response: unknown) {
    span.setAttributes(describeCacheReply(cmdName, response));
  },
};

/** node-redis has no request hook: the whole description waits for the reply. */
export const redisConfig: UpstreamConfig<'redis'> = {
  responseHook(span: Span, cmdName: string, cmdArgs, response: unknown) {
    span.setAttributes({
      ...describeCacheCommand(cmdName, cmdArgs),
      ...describeCacheReply(cmdName, response),
    });
  },
};
