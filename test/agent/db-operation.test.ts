import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { DbOperationSpanProcessor } from '../../agent/db-operation.js';

const exporter = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({
  spanProcessors: [new DbOperationSpanProcessor(), new SimpleSpanProcessor(exporter)],
}).getTracer('test');

function endedWith(attributes: Record<string, string>, setAfterStart: Record<string, string> = {}) {
  const span = tracer.startSpan('db', { attributes });
  span.setAttributes(setAfterStart);
  span.end();
  return exporter.getFinishedSpans().at(-1)?.attributes['db.operation.name'];
}

describe('DbOperationSpanProcessor', () => {
  afterEach(() => exporter.reset());

  it('names the operation of a SQL statement, set at start or later (as pg does)', () => {
    expect(endedWith({ 'db.system.name': 'mysql', 'db.query.text': 'select 1' })).toBe('SELECT');
    expect(
      endedWith(
        { 'db.system.name': 'postgresql' },
        { 'db.query.text': '/* batch */ INSERT INTO t VALUES (1)' },
      ),
    ).toBe('INSERT');
  });

  it('keeps a name the instrumentation chose, and leaves non-SQL systems and unreadable text alone', () => {
    expect(endedWith({ 'db.query.text': 'SELECT 1', 'db.operation.name': 'query' })).toBe('query');
    expect(endedWith({ 'db.system.name': 'redis', 'db.query.text': 'get user:1' })).toBeUndefined();
    expect(endedWith({ 'db.system.name': 'postgresql', 'db.query.text': '; nothing' })).toBeUndefined();
    expect(endedWith({ 'http.request.method': 'GET' })).toBeUndefined();
  });
});
