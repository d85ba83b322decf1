/**
 * What a failed call ran into, from the words drivers put in its status message and
 * exception. Those texts may quote literals (`Key (email)=(ann@example.com) already
 * exists`), so only the category leaves this module, never the text.
 */
import { type ErrorKind, type SpanRecord, stringAttribute } from '../../model/index.js';

/** Time limits: pg `statement_timeout` (57014) and `query_timeout`, MySQL `max_execution_time`, MariaDB `max_statement_time`, ioredis `commandTimeout`, AbortSignal.timeout, ETIMEDOUT. */
const TIMEOUT =
  /time(?:d)?[ _-]?out|canceling statement|max_(?:execution|statement)_time|execution time exceeded|lock wait|ETIMEDOUT|ESOCKETTIMEDOUT/i;
/** Servers out of reach: refused, reset or closed connections, a client that gave up retrying. */
const CONNECTION =
  /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|socket hang up|connection (?:is )?(?:refused|closed|terminated|lost|reset|error)|terminated unexpectedly|max retries per request|Stream isn't writeable|channel closed|other side closed|fetch failed|not connected/i;

/**
 * The kind of failure of an errored span; `rejected` when the server answered with an error
 * of its own (an SQL error, `WRONGTYPE`, a 5xx, a nacked publish).
 *
 * @example
 * errorKindOf({ statusMessage: 'canceling statement due to statement timeout', … }) // 'timeout'
 * errorKindOf({ statusMessage: 'connect ECONNREFUSED 127.0.0.1:5999', … })          // 'connection'
 * errorKindOf({ statusMessage: 'relation "orders_v2" does not exist', … })          // 'rejected'
 */
export function errorKindOf(span: SpanRecord): ErrorKind {
  let text = `${span.statusMessage}\n${stringAttribute(span.attributes, 'error.type') ?? ''}`;
  for (const { attributes } of span.events) {
    text += `\n${stringAttribute(attributes, 'exception.type') ?? ''}\n${stringAttribute(attributes, 'exception.message') ?? ''}`;
  }
  if (TIMEOUT.test(text)) return 'timeout';
  if (CONNECTION.test(text)) return 'connection';
  return 'rejected';
}
