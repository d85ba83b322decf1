/**
 * OpenTelemetry instrumentation for BullMQ (none upstream in auto-instrumentations-node).
 *
 * - `Queue.prototype.add` and `addBulk` become PRODUCER spans (`add <queue>`,
 *   `addBulk <queue>`), active while BullMQ talks to Redis; the trace context goes with
 *   each job in BullMQ's own telemetry metadata (job option `telemetry.metadata`, stored
 *   with the job), never in the app's job data.
 * - `Worker.prototype.callProcessJob`, which runs the app's processor for one job, becomes
 *   a CONSUMER span (`process <queue>`), child of the producer span it came from, carrying
 *   `chokepoint.messaging.publish_time_ms` (when the job was due) for queue lag.
 *
 * A queue or worker the app gave BullMQ's own telemetry (`opts.telemetry`) is left to it.
 */
import { context, SpanKind, trace } from '@opentelemetry/api';
import {
  InstrumentationBase,
  type InstrumentationConfig,
  InstrumentationNodeModuleDefinition,
  isWrapped,
} from '@opentelemetry/instrumentation';
import { AGENT_NAME, AGENT_VERSION } from '../../version.js';
import { ATTR_MESSAGING_BATCH_MESSAGE_COUNT, ATTR_MESSAGING_MESSAGE_ID } from '../semconv.js';
import type {
  BulkJob,
  BullMQModule,
  Job,
  JobsOptions,
  QueueBase,
  QueuePrototype,
  WorkerPrototype,
} from './types.js';
import { consumerAttributes, jobContext, producerAttributes, runInSpan, withTraceContext } from './utils.js';

const MODULE_NAME = 'bullmq';
const SUPPORTED_VERSIONS = ['>=5.0.0 <6'];

/**
 * Traces BullMQ jobs from `add` to processing.
 *
 * @example
 * new NodeSDK({ instrumentations: [new BullMQInstrumentation()] });
 */
export class BullMQInstrumentation extends InstrumentationBase {
  constructor(config: InstrumentationConfig = {}) {
    super(`${AGENT_NAME}/instrumentation-${MODULE_NAME}`, AGENT_VERSION, config);
  }

  protected override init(): InstrumentationNodeModuleDefinition {
    return new InstrumentationNodeModuleDefinition(
      MODULE_NAME,
      SUPPORTED_VERSIONS,
      (moduleExports: BullMQModule) => {
        const queue = moduleExports.Queue?.prototype;
        if (queue) {
          if (isWrapped(queue.add)) this._unwrap(queue, 'add');
          this._wrap(queue, 'add', this._patchAdd());
          if (isWrapped(queue.addBulk)) this._unwrap(queue, 'addBulk');
          this._wrap(queue, 'addBulk', this._patchAddBulk());
        }
        const worker = moduleExports.Worker?.prototype;
        if (worker && typeof worker.callProcessJob === 'function') {
          if (isWrapped(worker.callProcessJob)) this._unwrap(worker, 'callProcessJob');
          this._wrap(worker, 'callProcessJob', this._patchCallProcessJob());
        } else {
          this._diag.warn('Worker.prototype.callProcessJob not found: jobs are not traced');
        }
        return moduleExports;
      },
      (moduleExports: BullMQModule) => {
        const queue = moduleExports.Queue?.prototype;
        if (queue) {
          this._unwrap(queue, 'add');
          this._unwrap(queue, 'addBulk');
        }
        const worker = moduleExports.Worker?.prototype;
        if (worker) this._unwrap(worker, 'callProcessJob');
      },
    );
  }

  private _patchAdd() {
    const instrumentation = this;
    return (original: QueuePrototype['add']) =>
      function add(this: QueueBase, name: string, data: unknown, opts?: JobsOptions): Promise<Job> {
        if (this.opts?.telemetry) return original.call(this, name, data, opts);
        const span = instrumentation.tracer.startSpan(`add ${this.name}`, {
          kind: SpanKind.PRODUCER,
          attributes: producerAttributes(this.name, 'add'),
        });
        const parent = context.active();
        const sent = withTraceContext(opts, trace.setSpan(parent, span));
        return runInSpan(
          span,
          parent,
          () => original.call(this, name, data, sent),
          (job) => {
            const id = (job as Job | undefined)?.id;
            if (id !== undefined) span.setAttribute(ATTR_MESSAGING_MESSAGE_ID, id);
          },
        );
      };
  }

  private _patchAddBulk() {
    const instrumentation = this;
    return (original: QueuePrototype['addBulk']) =>
      function addBulk(this: QueueBase, jobs: BulkJob[]): Promise<Job[]> {
        if (this.opts?.telemetry || !Array.isArray(jobs)) return original.call(this, jobs);
        const span = instrumentation.tracer.startSpan(`addBulk ${this.name}`, {
          kind: SpanKind.PRODUCER,
          attributes: {
            ...producerAttributes(this.name, 'addBulk'),
            [ATTR_MESSAGING_BATCH_MESSAGE_COUNT]: jobs.length,
          },
        });
        const parent = context.active();
        const traceContext = trace.setSpan(parent, span);
        const sent = jobs.map((job) => ({ ...job, opts: withTraceContext(job.opts, traceContext) }));
        return runInSpan(span, parent, () => original.call(this, sent));
      };
  }

  private _patchCallProcessJob() {
    const instrumentation = this;
    return (original: WorkerPrototype['callProcessJob']) =>
      function callProcessJob(this: QueueBase, job: Job, ...rest: unknown[]): unknown {
        if (this.opts?.telemetry) return original.call(this, job, ...rest);
        const parent = jobContext(job);
        const span = instrumentation.tracer.startSpan(
          `process ${this.name}`,
          { kind: SpanKind.CONSUMER, attributes: consumerAttributes(job, this.name) },
          parent,
        );
        return runInSpan(span, parent, () => original.call(this, job, ...rest));
      };
  }
}
