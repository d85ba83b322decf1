/**
 * What the explain suites share: statements as the driver was asked to send them (a
 * recorder around the driver method, outside every wrapper, so the agent's own EXPLAIN
 * calls show too), and a wait for the processor to finish what it asked for.
 */
import type { ExplainSpanProcessor } from '../../../agent/explain/index.js';
import { ChokepointAttributes, type SpanRecord } from '../../../model/index.js';

export interface SentStatement {
  text: string;
  /** The object `query` was called on: which connection or client sent it. */
  sender: unknown;
}

type QueryMethod = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Records every statement sent through `prototype[method]` until `restore()`.
 *
 * @example
 * const sent = recordStatements(pg.Client.prototype, 'query', (args) => …);
 */
export function recordStatements(
  prototype: Record<string, QueryMethod>,
  methods: string[],
  textOf: (args: unknown[]) => string | undefined,
): { sent: SentStatement[]; explains(): SentStatement[]; restore(): void } {
  const sent: SentStatement[] = [];
  const originals = methods.map((method) => [method, prototype[method]] as const);
  for (const [method, original] of originals) {
    prototype[method] = function recorded(this: unknown, ...args: unknown[]): unknown {
      const text = textOf(args);
      if (text !== undefined) sent.push({ text, sender: this });
      return (original as QueryMethod).apply(this, args);
    };
  }
  return {
    sent,
    explains: () => sent.filter((statement) => /\bEXPLAIN\b/i.test(statement.text)),
    restore() {
      for (const [method, original] of originals) prototype[method] = original as QueryMethod;
    },
  };
}

/** Resolves once the processor has settled `asked` plans (captured, skipped or failed). */
export async function settled(
  processor: ExplainSpanProcessor,
  asked: number,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const { counts } = processor;
  while (counts.captured + counts.skipped + counts.failed < asked) {
    if (Date.now() > deadline) throw new Error(`plans not settled: ${JSON.stringify(counts)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The spans that carry a plan. */
export function withPlan(records: SpanRecord[]): SpanRecord[] {
  return records.filter((span) => span.attributes[ChokepointAttributes.DB_PLAN] !== undefined);
}
