/**
 * The fix for a queue_lag: enough consumers working at once. Little's law sizes it:
 * the consumers busy on average equal arrival rate × processing time, and a queue
 * whose consumers cannot all be busy at once grows. Each library has its own knob.
 */
import type { FindingCandidate, Recommendation } from '../../model/index.js';

/** Headroom over the average: arrivals come in bursts, and a consumer at 100% lets the queue grow. */
const HEADROOM = 1.5;

export function recommendQueueLag(candidate: FindingCandidate): Recommendation {
  const { evidence } = candidate;
  const system = String(evidence.system ?? '');
  const destination = String(evidence.destination ?? 'queue');
  const busy = Number(evidence.busyConsumers ?? 0);
  const arrival = Number(evidence.arrivalPerMin ?? 0);
  const processing = Number(evidence.processingMeanMs ?? 0);
  const concurrency = Math.max(2, Math.ceil(busy * HEADROOM));
  const sizing =
    `Messages arrive at ${arrival}/min and take ${processing} ms each, so ${busy} consumers are busy on ` +
    `average (Little's law: arrival rate × processing time); run ${concurrency} at once for headroom. ` +
    (evidence.growing ? 'The wait is growing: consumers finish fewer messages than arrive. ' : '');
  const knob = KNOBS[system] ?? DEFAULT_KNOB;
  return {
    summary: `Consume ${destination} with ${concurrency} messages in flight: ${knob.name}`,
    detail: `${sizing}${knob.detail} If processing itself is slow, the other findings of this service (slow queries, HTTP calls) shorten it.`,
    code: knob.code(destination, concurrency),
    language: 'javascript',
  };
}

interface Knob {
  name: string;
  detail: string;
  code: (destination: string, concurrency: number) => string;
}

const KNOBS: Record<string, Knob> = {
  rabbitmq: {
    name: 'channel.prefetch(n)',
    detail:
      'With amqplib, prefetch caps the unacknowledged messages a channel holds; an async handler then works on ' +
      'that many at once. Add consumer processes when one process is CPU-bound.',
    code: (destination, concurrency) =>
      [
        `await channel.prefetch(${concurrency});`,
        `await channel.consume('${destination}', async (message) => {`,
        '  await handle(message);',
        '  channel.ack(message);',
        '});',
      ].join('\n'),
  },
  bullmq: {
    name: 'Worker concurrency',
    detail:
      'A BullMQ Worker processes one job at a time unless told otherwise; concurrency runs more in one process.',
    code: (destination, concurrency) =>
      `const worker = new Worker('${destination}', processJob, { connection, concurrency: ${concurrency} });`,
  },
  kafka: {
    name: 'partitionsConsumedConcurrently',
    detail:
      'kafkajs handles one partition at a time per consumer unless told otherwise. Concurrency is capped by the ' +
      "topic's partitions: a consumer group cannot run more at once than the topic has partitions.",
    code: (_destination, concurrency) =>
      [
        'await consumer.run({',
        `  partitionsConsumedConcurrently: ${concurrency},`,
        '  eachMessage: async ({ message }) => handle(message),',
        '});',
      ].join('\n'),
  },
};

const DEFAULT_KNOB: Knob = {
  name: 'more consumers',
  detail:
    'Raise the number of messages your consumers work on at once (prefetch, concurrency, or processes).',
  code: (destination, concurrency) => `// run ${concurrency} consumers of ${destination} at once`,
};
