/**
 * queue_lag — messages of a queue or topic wait too long before a consumer starts on
 * them (consume start − publish time): the p95 wait reaches `queueLagMs`, or it rose
 * over `queueLagGrowthBuckets` consecutive buckets (a backlog building up before it
 * hurts). Evidence carries what sizing needs: arrival rate, completion rate and
 * processing time; by Little's law, consumers busy at once = arrival rate × processing time.
 * Impact is the time messages spent waiting, per minute.
 */
import type { FindingCandidate } from '../../model/index.js';
import type { QueueStats } from '../aggregate/stats.js';
import { formatMs, round2 } from './format.js';
import { severityForImpact } from './severity.js';
import type { DetectionConfig, Detector } from './types.js';

export const queueLagDetector: Detector = {
  kind: 'queue_lag',
  explain: (config) => ({
    rule:
      `a queue or topic whose p95 wait between publish and consume reaches ${config.queueLagMs} ms, or rose over ` +
      `${config.queueLagGrowthBuckets} consecutive minutes to ${config.queueLagGrowthMinMs}+ ms`,
    impact: 'time consumed messages waited in the queue, per minute',
  }),

  detect(window, config) {
    // Publishers and consumers are often different services: arrivals are counted over all of them.
    const publishedByQueue = new Map<string, number>();
    for (const queue of window.queues) {
      const key = queueKey(queue);
      publishedByQueue.set(key, (publishedByQueue.get(key) ?? 0) + queue.published);
    }
    const trends = new Map(
      window.queueBuckets.map((series) => [`${series.service} ${series.key}`, series.buckets]),
    );

    const candidates: FindingCandidate[] = [];
    for (const queue of window.queues) {
      if (queue.lag.count === 0) continue;
      const p95 = queue.lag.sketch.quantile(0.95);
      const trend = (trends.get(`${queue.service} ${queueKey(queue)}`) ?? [])
        .filter(({ stats }) => stats.lag.count > 0)
        .map(({ startMs, stats }) => ({
          t: new Date(startMs).toISOString(),
          lagP95Ms: round2(stats.lag.sketch.quantile(0.95)),
        }));
      const growing = isGrowing(
        trend.map((point) => point.lagP95Ms),
        config,
      );
      if (p95 < config.queueLagMs && !growing) continue;

      const seconds = window.minutes * 60;
      const arrivalsPerSec = Math.max(publishedByQueue.get(queueKey(queue)) ?? 0, queue.consumed) / seconds;
      const completionsPerSec = queue.consumed / seconds;
      const processingMs = queue.processing.count > 0 ? queue.processing.totalMs / queue.processing.count : 0;
      const busyConsumers = arrivalsPerSec * (processingMs / 1000);
      const impact = queue.lag.totalMs / window.minutes;
      candidates.push({
        kind: 'queue_lag',
        service: queue.service,
        key: queueKey(queue),
        title: `Queue ${queue.destination} (${queue.system}): messages wait ${formatMs(p95)} at p95${growing ? ', and rising' : ''}`,
        severity: severityForImpact(impact),
        impact: round2(impact),
        p95Ms: round2(p95),
        evidence: {
          system: queue.system,
          destination: queue.destination,
          consumed: queue.consumed,
          consumeErrors: queue.consumeErrors,
          lagP50Ms: round2(queue.lag.sketch.quantile(0.5)),
          lagP95Ms: round2(p95),
          lagMaxMs: round2(queue.lag.maxMs),
          processingMeanMs: round2(processingMs),
          processingP95Ms: round2(queue.processing.sketch.quantile(0.95)),
          arrivalPerMin: round2(arrivalsPerSec * 60),
          completionPerMin: round2(completionsPerSec * 60),
          busyConsumers: round2(busyConsumers),
          consumersNeeded: Math.max(1, Math.ceil(busyConsumers)),
          growing,
          lagTrend: trend,
          exampleTraceId: queue.exampleTraceId,
        },
      });
    }
    return candidates;
  },
};

function queueKey(queue: QueueStats): string {
  return `${queue.system} ${queue.destination}`;
}

/** True when the last `queueLagGrowthBuckets` values rise strictly and end at `queueLagGrowthMinMs` or more. */
function isGrowing(values: number[], config: DetectionConfig): boolean {
  const recent = values.slice(-config.queueLagGrowthBuckets);
  if (recent.length < config.queueLagGrowthBuckets || recent.length < 2) return false;
  const last = recent[recent.length - 1] ?? 0;
  return (
    last >= config.queueLagGrowthMinMs && recent.every((value, i) => i === 0 || value > (recent[i - 1] ?? 0))
  );
}
