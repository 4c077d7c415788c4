/**
 * The payload pool: a piscina pool that does the CPU-heavy work on large payloads (decode, schema
 * check, content hash, checksums) off the event loop, so sockets and actors stay served. Payloads
 * under `threshold_bytes` are handled inline, since a thread hop costs more than it saves on them
 * (see docs/benchmarks.md, "Payload pool"). The queue is bounded: when it is full a submit is
 * refused with OVERLOADED (503, Retry-After) rather than held in memory.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { fromErrorRecord, MailroomError, toMailroomError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { PoolConfig } from '../../schemas/config.js';
import { type ChecksumResult, checksumOf, checksumOfJson } from './checksum.js';
import { LatencyWindow } from './latency-window.js';
import type { PreparedJob, PrepareResult, TypeSchema } from './prepare.js';
import type { PoolTask } from './worker.js';
import { workerEntry } from './worker-entry.js';

export interface PreparedBody {
  body: unknown;
  job: PreparedJob | null;
}

export interface PoolStats {
  enabled: boolean;
  threads: number;
  threshold_bytes: number;
  /** Tasks waiting for a thread. */
  queue_depth: number;
  max_queue: number;
  /** Share of the pool's thread time spent running tasks since start (piscina's measure), 0–1. */
  utilization: number;
  /** Payloads prepared on the event loop because they were under the threshold (or the pool is off). */
  inline: number;
  /** Tasks sent to the pool, by outcome. */
  pooled: number;
  overloaded: number;
  failed: number;
  in_flight: number;
  /** Submit-to-result time of pool tasks, queue wait included. */
  task_latency: ReturnType<LatencyWindow['summary']>;
}

export class PayloadPool {
  private readonly piscina: Piscina | null;
  private readonly latency = new LatencyWindow();
  private readonly counts = { inline: 0, pooled: 0, overloaded: 0, failed: 0, inFlight: 0 };
  private closed = false;

  constructor(
    private readonly config: PoolConfig,
    types: readonly TypeSchema[],
    private readonly logger?: Logger,
  ) {
    if (!config.enabled) {
      this.piscina = null;
      return;
    }
    const threads = config.threads ?? Math.max(1, availableParallelism() - 1);
    const entry = workerEntry(import.meta.url, 'worker');
    this.piscina = new Piscina({
      filename: entry.filename,
      ...(entry.execArgv ? { execArgv: entry.execArgv } : {}),
      minThreads: threads,
      maxThreads: threads,
      maxQueue: config.max_queue,
      // Threads stay up: starting one (and compiling the schemas) costs far more than a task.
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData: { types: types.map((t) => ({ name: t.name, input_schema: t.input_schema })) },
    });
    this.piscina.on('error', (error: unknown) =>
      this.logger?.error({ err: error }, 'payload pool thread failed'),
    );
  }

  get thresholdBytes(): number {
    return this.config.threshold_bytes;
  }

  /**
   * A body at or over the threshold goes to the pool: resolves with the decoded body (and, for a
   * job submit, its checked input and digest), or rejects with the same error inline decoding would
   * give. Under the threshold: `undefined`, and the caller decodes inline. `owned` says the bytes
   * are the caller's to give away (a fresh buffer); otherwise they are copied before queueing.
   */
  prepareBody(
    bytes: Uint8Array,
    contentType: string | undefined,
    options: { job: boolean; owned: boolean },
  ): Promise<PreparedBody> | undefined {
    if (!this.piscina || bytes.byteLength < this.config.threshold_bytes) {
      this.counts.inline++;
      return undefined;
    }
    // Shared memory (exchange.ts reads large bodies into it) reaches the thread without a copy,
    // and a job can keep its input as a slice of it; anything else is moved, or copied first.
    const movable =
      bytes.buffer instanceof SharedArrayBuffer || (options.owned && ownsWholeBuffer(bytes))
        ? bytes
        : copyToShared(bytes);
    const shared = movable.buffer instanceof SharedArrayBuffer;
    // A job's input stays encoded (encoded-input.ts): its value never comes back to the event loop.
    const task: PoolTask = {
      kind: 'prepare',
      bytes: movable,
      contentType,
      job: options.job,
      encodeInput: options.job,
    };
    return this.run<PrepareResult>(task, shared ? [] : [movable.buffer as ArrayBuffer]).then((result) => {
      if (!result.ok) throw fromErrorRecord(result.error);
      return { body: result.body, job: result.job };
    });
  }

  /** SHA-256 of a checksum job's data: on the pool when it is large, inline otherwise. */
  async checksum(data: unknown): Promise<ChecksumResult> {
    const size = typeof data === 'string' ? data.length : ArrayBuffer.isView(data) ? data.byteLength : 0;
    if (!this.piscina || size < this.config.threshold_bytes) {
      this.counts.inline++;
      return checksumOf(data);
    }
    return this.run<ChecksumResult>({ kind: 'checksum', data }, []);
  }

  /**
   * SHA-256 of a checksum job's `data` when the job keeps its input as JSON text: the pool thread
   * decodes it. Shared-memory text (what the pool makes) reaches the thread without a copy.
   */
  async checksumJson(json: Uint8Array): Promise<ChecksumResult> {
    if (!this.piscina || json.byteLength < this.config.threshold_bytes) {
      this.counts.inline++;
      return checksumOfJson(json);
    }
    return this.run<ChecksumResult>({ kind: 'checksum-json', json }, []);
  }

  private async run<T>(task: PoolTask, transferList: ArrayBuffer[]): Promise<T> {
    const piscina = this.piscina!;
    if (this.closed) throw new MailroomError('SYSTEM_STOPPED');
    // Checked here as well as by piscina, so the refusal is ours and costs no clone of the task.
    if (piscina.queueSize >= this.config.max_queue) throw this.overloaded();
    const started = performance.now();
    this.counts.pooled++;
    this.counts.inFlight++;
    try {
      return (await piscina.run(task, { transferList })) as T;
    } catch (error) {
      if (error instanceof Error && /queue is at limit/i.test(error.message)) throw this.overloaded();
      this.counts.failed++;
      throw toMailroomError(error);
    } finally {
      this.counts.inFlight--;
      this.latency.record(performance.now() - started);
    }
  }

  private overloaded(): MailroomError {
    this.counts.overloaded++;
    return new MailroomError(
      'OVERLOADED',
      `The payload pool is full (${this.config.max_queue} tasks waiting); retry later`,
    );
  }

  stats(): PoolStats {
    const piscina = this.piscina;
    return {
      enabled: piscina !== null,
      threads: piscina ? piscina.threads.length : 0,
      threshold_bytes: this.config.threshold_bytes,
      queue_depth: piscina ? piscina.queueSize : 0,
      max_queue: this.config.max_queue,
      utilization: piscina ? piscina.utilization : 0,
      inline: this.counts.inline,
      pooled: this.counts.pooled,
      overloaded: this.counts.overloaded,
      failed: this.counts.failed,
      in_flight: this.counts.inFlight,
      task_latency: this.latency.summary(),
    };
  }

  /** Ready while it takes work: running and its queue not full. */
  async ready(): Promise<void> {
    if (this.closed) throw new MailroomError('SYSTEM_STOPPED', 'The payload pool is closed');
    if (this.piscina && this.piscina.queueSize >= this.config.max_queue) {
      throw new MailroomError('OVERLOADED', 'The payload pool queue is full');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.piscina?.destroy();
  }
}

function copyToShared(bytes: Uint8Array): Uint8Array {
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  shared.set(bytes);
  return shared;
}

function ownsWholeBuffer(bytes: Uint8Array): boolean {
  return (
    bytes.buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength
  );
}
