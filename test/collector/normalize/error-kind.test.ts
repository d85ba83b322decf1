/**
 * Failure kinds from the messages the real drivers wrote here (pg, mysql2 on MariaDB, ioredis,
 * node-redis, amqplib, undici), recorded from their spans under the agent.
 */
import { describe, expect, it } from 'vitest';
import { errorKindOf } from '../../../collector/normalize/error-kind.js';
import { type SpanRecord, StatusCode } from '../../../model/index.js';

function failedSpan(statusMessage: string, exceptionType?: string): SpanRecord {
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    parentSpanId: '',
    name: 'call',
    kind: 3,
    startTimeMs: 0,
    endTimeMs: 1,
    attributes: {},
    statusCode: StatusCode.ERROR,
    statusMessage,
    events: exceptionType
      ? [{ name: 'exception', timeMs: 1, attributes: { 'exception.type': exceptionType } }]
      : [],
    links: [],
    resource: { serviceName: 'shop', attributes: {} },
    scopeName: 'test',
    scopeVersion: '0',
  };
}

describe('errorKindOf', () => {
  it.each([
    'canceling statement due to statement timeout',
    'Query read timeout',
    'Query inactivity timeout',
    'Query execution was interrupted (max_statement_time exceeded)',
    'Query execution was interrupted, maximum statement execution time exceeded',
    'Command timed out',
    'Lock wait timeout exceeded; try restarting transaction',
    'The operation was aborted due to timeout',
    'timeout exceeded when trying to connect',
  ])('%s → timeout', (message) => {
    expect(errorKindOf(failedSpan(message))).toBe('timeout');
  });

  it.each([
    'connect ECONNREFUSED 127.0.0.1:5999',
    'Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.',
    'Connection is closed.',
    'Connection terminated unexpectedly',
    'read ECONNRESET',
    'channel closed',
    'fetch failed',
  ])('%s → connection', (message) => {
    expect(errorKindOf(failedSpan(message))).toBe('connection');
  });

  it.each([
    'relation "no_such_table" does not exist',
    "Table 'test.no_such_table' doesn't exist",
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    "message confirmation has been nack'ed",
    '',
  ])('%j → rejected', (message) => {
    expect(errorKindOf(failedSpan(message))).toBe('rejected');
  });

  it('reads the exception type when the status says nothing', () => {
    expect(errorKindOf(failedSpan('', 'TimeoutError'))).toBe('timeout');
  });
});
