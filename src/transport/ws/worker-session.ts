/**
 * One `/ws/worker` remote worker (SPEC §6). It registers its types, capabilities and slots; the
 * dispatcher then sends `assign` only while it has free slots (credit-based), and its `progress`,
 * `complete` and `fail` reports carry the lease and are answered `ok` once durable, or `error`
 * (LEASE_STALE for an attempt that is no longer current). Any frame counts as a heartbeat; a worker
 * silent for two heartbeats, or gone, loses its leases and its jobs return to `pending`.
 */
import type { Assignment } from '../../actors/executors/executor.js';
import type { RemoteConnection } from '../../actors/executors/remote.js';
import type { Mailroom } from '../../app/mailroom.js';
import type { WorkReport } from '../../app/mailroom-api.js';
import { MailroomError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { isoTime } from '../../schemas/common.js';
import { type ServerWorkerFrame, WorkerFrame } from '../../schemas/ws.js';
import { decodeFrame, type Encoding, encodeFrame, wireError } from './codec.js';
import type { SocketWriter } from './socket-writer.js';

const WORKER_OPS: ReadonlySet<string> = new Set(WorkerFrame.options.map((option) => option.shape.op.value));

export interface WorkerSessionOptions {
  heartbeatMs: number;
  /** Job types declared with the `remote` executor: the only ones a worker may register for. */
  remoteTypes: ReadonlySet<string>;
  now: () => number;
}

export class WorkerSession implements RemoteConnection {
  private workerId: string | null = null;
  private lastFrameAt: number;
  private closed = false;

  constructor(
    private readonly app: Mailroom,
    private readonly writer: SocketWriter,
    private readonly encoding: Encoding,
    private readonly logger: Logger,
    private readonly options: WorkerSessionOptions,
  ) {
    this.lastFrameAt = options.now();
  }

  onMessage(message: ArrayBuffer, isBinary: boolean): void {
    this.alive();
    let frame: WorkerFrame;
    try {
      frame = decodeFrame(WorkerFrame, WORKER_OPS, message, isBinary, this.encoding);
    } catch (error) {
      this.send({ op: 'error', error: wireError(error, this.logger) });
      return;
    }
    if (frame.op === 'heartbeat') return;
    if (frame.op === 'ping') {
      this.send({ op: 'pong' });
      return;
    }
    if (frame.op === 'register') {
      this.register(frame);
      return;
    }
    if (this.workerId === null) {
      this.send({
        op: 'error',
        error: wireError(new MailroomError('INVALID_STATE', 'send "register" first'), this.logger),
      });
      return;
    }
    switch (frame.op) {
      case 'slots':
        this.app.setWorkerSlots(this.workerId, frame.slots);
        return;
      case 'progress':
        this.report(frame.job_id, {
          kind: 'progress',
          jobId: frame.job_id,
          lease: frame.lease,
          progress: frame.progress,
          message: frame.message,
        });
        return;
      case 'complete':
        this.report(frame.job_id, {
          kind: 'complete',
          jobId: frame.job_id,
          lease: frame.lease,
          output: frame.output,
          cost: frame.cost,
        });
        return;
      case 'fail':
        this.report(frame.job_id, {
          kind: 'fail',
          jobId: frame.job_id,
          lease: frame.lease,
          error: frame.error,
        });
        return;
    }
  }

  /** A WebSocket pong (or anything else the worker sends) proves it alive. */
  alive(): void {
    this.lastFrameAt = this.options.now();
    if (this.workerId !== null) this.app.touchWorker(this.workerId);
  }

  /** Silent for more than two heartbeats. */
  isSilent(now: number): boolean {
    return now - this.lastFrameAt > 2 * this.options.heartbeatMs;
  }

  /** The socket is gone (closed by either side): the worker's leases are released. */
  onClose(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.workerId !== null) this.app.disconnectWorker(this.workerId, reason);
  }

  assign(assignment: Assignment): void {
    this.send({
      op: 'assign',
      job: {
        id: assignment.jobId,
        type: assignment.type,
        input: assignment.input,
        attempt: assignment.attempt,
        lease: assignment.lease,
        timeout_ms: assignment.timeoutMs,
        deadline: isoTime(assignment.deadline),
      },
    });
  }

  cancel(jobId: string, lease: string, reason: string): void {
    this.send({ op: 'cancel', job_id: jobId, lease, reason });
  }

  private register(frame: Extract<WorkerFrame, { op: 'register' }>): void {
    if (this.workerId !== null) {
      this.send({
        op: 'error',
        error: wireError(
          new MailroomError('INVALID_STATE', `already registered as ${this.workerId}; open another socket`),
          this.logger,
        ),
      });
      return;
    }
    const unknown = frame.types
      .map((type, index) => ({ type, index }))
      .filter(({ type }) => !this.options.remoteTypes.has(type));
    if (unknown.length > 0) {
      const error = new MailroomError('VALIDATION_FAILED', 'a worker may only register remote job types', {
        details: unknown.map(({ type, index }) => ({
          path: `types.${index}`,
          message: `"${type}" is not a job type with the remote executor (remote types: ${[...this.options.remoteTypes].join(', ') || 'none'})`,
        })),
      });
      this.send({ op: 'error', error: wireError(error, this.logger) });
      return;
    }
    this.workerId = this.app.connectWorker(
      {
        name: frame.name,
        types: frame.types,
        gpuMemoryGb: frame.capabilities.gpu_memory_gb ?? 0,
        labels: frame.capabilities.labels ?? [],
        slots: frame.slots,
      },
      this,
    );
    // Sent before any assign can be: the dispatcher learns of the worker only through a later turn.
    this.send({ op: 'registered', worker_id: this.workerId, heartbeat_ms: this.options.heartbeatMs });
  }

  private report(jobId: string, report: WorkReport): void {
    this.app.report(report).then(
      () => this.send({ op: 'ok', job_id: jobId }),
      (error: unknown) => this.send({ op: 'error', job_id: jobId, error: wireError(error, this.logger) }),
    );
  }

  private send(frame: ServerWorkerFrame): void {
    if (this.closed) return;
    this.writer.send(encodeFrame(frame, this.encoding));
  }
}
