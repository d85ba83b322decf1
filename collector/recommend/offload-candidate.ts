/**
 * The fix for an offload_candidate: hand the work to a queue and respond. The request
 * publishes a job (a millisecond or two) instead of waiting for the mail server, webhook
 * or audit insert; a worker does it, with retries of its own. BullMQ (Redis) and
 * RabbitMQ (amqplib) are the two queues the agent already follows end to end.
 */
import type { FindingCandidate, Recommendation } from '../../model/index.js';

export function recommendOffloadCandidate(candidate: FindingCandidate): Recommendation {
  const { evidence } = candidate;
  const work = String(evidence.work ?? 'the side effect');
  const job = evidence.type === 'write' ? `record-${slug(String(evidence.table))}` : jobName(evidence);
  const doWork =
    evidence.type === 'write'
      ? `  await db.query(${JSON.stringify(String(evidence.fingerprint ?? 'insert …'))}, job.data.values);`
      : `  await fetch('https://${evidence.host}${evidence.urlTemplate}', { method: '${evidence.method}', body: JSON.stringify(job.data) });`;
  return {
    summary: `Move ${work} to a queue worker: requests answer ${evidence.msPerRequest} ms sooner`,
    detail:
      `${evidence.requests} requests spent ${evidence.msPerRequest} ms each on ${work} before responding, ` +
      `${Math.round(Number(evidence.share) * 100)}% of their ${evidence.requestMeanMs} ms. If the response does not ` +
      `depend on its result, publish a job and let a worker do it: the request drops to about ${evidence.requestMeanMsAfter} ms ` +
      'plus the publish. The worker retries failures with backoff, so a slow or failing mail server, webhook ' +
      'or audit table no longer fails the request. With RabbitMQ, `channel.sendToQueue(queue, payload, { persistent: true })` ' +
      'and a consumer do the same. A fire-and-forget promise without a queue loses the work when the process restarts.',
    code: [
      "const { Queue, Worker } = require('bullmq');",
      '',
      "const connection = { host: '127.0.0.1', port: 6379 };",
      `const sideEffects = new Queue('side-effects', { connection });`,
      '',
      '// In the request handler: enqueue, then respond.',
      `await sideEffects.add('${job}', payload, { attempts: 5, backoff: { type: 'exponential', delay: 1_000 } });`,
      '',
      '// In a worker process:',
      "new Worker('side-effects', async (job) => {",
      doWork,
      '}, { connection, concurrency: 4 });',
    ].join('\n'),
    language: 'javascript',
  };
}

function jobName(evidence: Record<string, unknown>): string {
  const path = String(evidence.urlTemplate ?? '')
    .split('/')
    .filter((part) => part && !part.startsWith('{'));
  return slug(path.at(-1) ?? String(evidence.host ?? 'notify'));
}

/** `send_mail` → `send-mail`: a job name from a table or path segment. */
function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'side-effect'
  );
}
