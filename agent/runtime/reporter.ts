/**
 * Runtime samples on their way out: every interval a sample is taken and POSTed as JSON
 * (`{"samples":[…]}`) to the collector's `/v1/runtime`. Like the span export, it never
 * costs the app more than a bounded amount: one request at a time with a timeout, at
 * most `maxPending` samples waiting behind it (older ones dropped and counted), failed
 * requests dropped and counted, an unreferenced timer and socket (the app exits when it
 * is done), and its own requests untraced.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { RuntimeReport, RuntimeSample } from '../../model/runtime.js';
import type { DropListener } from '../export.js';
import { describeError } from '../warn.js';

export interface RuntimeReporterOptions {
  sample: () => Promise<RuntimeSample>;
  /** The collector's `/v1/runtime` URL. */
  endpoint: string;
  /** Sent with every request, e.g. the collector's bearer token (`OTEL_EXPORTER_OTLP_HEADERS`). */
  headers?: Record<string, string>;
  intervalMs: number;
  onDrop: DropListener;
  /** Longest wait for the collector's answer. Default {@link reportTimeoutMs}. */
  timeoutMs?: number;
  /** Most samples waiting while a request is in flight. Default 6. */
  maxPending?: number;
}

export interface RuntimeReporter {
  stop(): void;
}

/** A collector busy with a batch of spans can take this long to answer: shorter, its samples would be lost for nothing. */
const MIN_TIMEOUT_MS = 2_000;
const MAX_TIMEOUT_MS = 10_000;

/**
 * How long a report waits for the collector's answer: the interval, within 2–10 s, but
 * never longer than `maxPending` intervals, the time samples can queue behind it before
 * the oldest are dropped (a hung request then gives way when the queue fills).
 *
 * @example
 * reportTimeoutMs(250, 6); // 1500: six samples' worth, under the 2 s floor
 * reportTimeoutMs(1_000, 6); // 2000
 * reportTimeoutMs(60_000, 6); // 10000
 */
export function reportTimeoutMs(intervalMs: number, maxPending: number): number {
  const timeout = Math.min(Math.max(intervalMs, MIN_TIMEOUT_MS), MAX_TIMEOUT_MS);
  return Math.min(timeout, maxPending * intervalMs);
}

/**
 * POSTs one report; resolves on a 2xx answer, rejects otherwise.
 *
 * @example
 * await postReport('http://127.0.0.1:4318/v1/runtime', { samples: [sample] }, { timeoutMs: 5000 });
 */
export function postReport(
  endpoint: string,
  report: RuntimeReport,
  options: { timeoutMs: number; agent?: HttpAgent; headers?: Record<string, string> },
): Promise<void> {
  const url = new URL(endpoint);
  const body = Buffer.from(JSON.stringify(report));
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    // The agent's own traffic is not the app's: no client span for it.
    context.with(suppressTracing(context.active()), () => {
      const request = send(url, {
        method: 'POST',
        agent: options.agent,
        timeout: options.timeoutMs,
        headers: { ...options.headers, 'content-type': 'application/json', 'content-length': body.length },
      });
      request.on('socket', (socket) => socket.unref());
      request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
      request.on('error', reject);
      request.on('response', (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`HTTP ${status} ${response.statusMessage ?? ''}`.trim()));
      });
      request.end(body);
    });
  });
}

/**
 * Samples every `intervalMs` and reports to the collector until stopped.
 *
 * @example
 * const reporter = startRuntimeReporter({ sample: sampler.sample, endpoint, intervalMs: 10_000, onDrop });
 * reporter.stop();
 */
export function startRuntimeReporter(options: RuntimeReporterOptions): RuntimeReporter {
  const { sample, endpoint, intervalMs, onDrop, headers } = options;
  const maxPending = options.maxPending ?? 6;
  const timeoutMs = options.timeoutMs ?? reportTimeoutMs(intervalMs, maxPending);
  const agent = new (endpoint.startsWith('https:') ? HttpsAgent : HttpAgent)({
    keepAlive: true,
    maxSockets: 1,
  });
  const pending: RuntimeSample[] = [];
  let sending = false;

  function send(): void {
    if (sending || pending.length === 0) return;
    sending = true;
    const samples = pending.splice(0);
    postReport(endpoint, { samples }, { timeoutMs, agent, headers })
      .catch((error: unknown) => {
        onDrop(samples.length, `cannot export runtime samples: ${describeError(error)}`);
      })
      .finally(() => {
        sending = false;
      });
  }

  async function tick(): Promise<void> {
    try {
      pending.push(await sample());
    } catch (error) {
      onDrop(1, `cannot sample the runtime: ${describeError(error)}`);
      return;
    }
    if (pending.length > maxPending) {
      pending.splice(0, pending.length - maxPending);
      onDrop(1, `runtime sample queue full (${maxPending} samples waiting for export)`);
    }
    send();
  }

  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      agent.destroy();
    },
  };
}
