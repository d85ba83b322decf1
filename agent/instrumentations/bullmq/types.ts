/** The parts of BullMQ 5 the instrumentation relies on. */

/** BullMQ's own channel for trace context: stored with the job (`tm`), read back by workers. */
export interface TelemetryOptions {
  metadata?: string;
  omitContext?: boolean;
}

export interface JobsOptions {
  /** How long after it was added the job is due, in milliseconds. */
  delay?: number;
  telemetry?: TelemetryOptions;
}

export interface Job {
  id?: string;
  name: string;
  /** When the job was added, epoch milliseconds. */
  timestamp: number;
  opts: JobsOptions;
}

export interface BulkJob {
  name: string;
  data: unknown;
  opts?: JobsOptions;
}

/** `Queue` and `Worker` both extend `QueueBase`: `name` is the queue's. */
export interface QueueBase {
  name: string;
  /** Set when the app wired BullMQ's own telemetry: then BullMQ traces itself. */
  opts?: { telemetry?: unknown };
}

export interface QueuePrototype {
  add(this: QueueBase, name: string, data: unknown, opts?: JobsOptions): Promise<Job>;
  addBulk(this: QueueBase, jobs: BulkJob[]): Promise<Job[]>;
}

export interface WorkerPrototype {
  /** Runs the app's processor for one job (BullMQ ≥ 5: a method of its own, so subclasses and sandboxes share it). */
  callProcessJob(this: QueueBase, job: Job, ...rest: unknown[]): unknown;
}

export interface BullMQModule {
  Queue?: { prototype: QueuePrototype };
  Worker?: { prototype: WorkerPrototype };
}
