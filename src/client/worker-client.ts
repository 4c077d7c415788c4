/**
 * A remote worker on `/ws/worker` (SPEC §6): registers, runs each assigned job through a handler,
 * reports progress and the result with the job's lease, sends heartbeats, and aborts a job the
 * server cancels. After a lost connection it reconnects and registers again; jobs it held are
 * requeued by the server meanwhile, so their late results are refused (LEASE_STALE) and dropped.
 * A result the server could not take for now (a retryable error: its store unreachable, say) is
 * sent again, backing off up to `REPORT_RETRY_MAX_MS`, until the server answers `ok`, refuses it
 * for good, or about five minutes have passed: otherwise the job stayed `running` until its attempt
 * timed out, or for good.
 */

import { ERROR_CODES } from '../errors.js';
import type { JobError } from '../schemas/common.js';
import type { AssignedJob, WireError } from '../schemas/ws.js';
import { MailroomConnectionError } from './http-client.js';
import { apiError, type ConnectionOptions, ReconnectingSocket } from './ws-connection.js';

export interface WorkerContext {
  /** Reports progress (0–100) with an optional message. */
  progress(progress: number, message?: string): void;
  /** Aborted when the server cancels the job (timeout, user cancel) or the connection is lost. */
  readonly signal: AbortSignal;
}

export interface WorkerResult {
  output: unknown;
  cost?: number;
}

/** Throw an error with `code` and `retryable` to control how the failure is recorded. */
export type WorkerHandler = (job: AssignedJob, ctx: WorkerContext) => Promise<WorkerResult>;

export interface WorkerClientOptions extends ConnectionOptions {
  name: string;
  types: readonly string[];
  capabilities?: { gpu_memory_gb?: number; labels?: string[] };
  slots?: number;
  handler: WorkerHandler;
  /** Told about each job's start and end, and about reports the server refused. */
  onActivity?: (activity: WorkerActivity) => void;
}

export type WorkerActivity =
  | { kind: 'registered'; workerId: string }
  | { kind: 'started'; job: AssignedJob }
  | { kind: 'completed'; job: AssignedJob; result: WorkerResult }
  | { kind: 'failed'; job: AssignedJob; error: JobError }
  | { kind: 'cancelled'; job: AssignedJob; reason: string }
  | { kind: 'refused'; jobId: string | undefined; error: WireError }
  | { kind: 'disconnected'; code: number; reason: string };

/** The first wait before a refused result is sent again; it doubles up to REPORT_RETRY_MAX_MS. */
const REPORT_RETRY_MS = 200;
const REPORT_RETRY_MAX_MS = 5_000;
/** About five minutes of tries: past that the refusal is reported and the attempt timeout decides. */
const REPORT_RETRIES = 60;

/** A result sent and not yet answered. */
interface Unanswered {
  frame: Record<string, unknown>;
  retries: number;
  timer: NodeJS.Timeout | null;
}

export class WorkerClient {
  private readonly socket: ReconnectingSocket;
  private readonly running = new Map<string, { job: AssignedJob; abort: AbortController }>();
  /** Results (complete, fail) sent and not yet answered `ok`, by job id. */
  private readonly unanswered = new Map<string, Unanswered>();
  /** Progress frames sent and not yet answered, by job id: a job's answers come in the order sent. */
  private readonly progressUnanswered = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | null = null;
  /** The first registration's outcome, awaited by start(). */
  private registration: { resolve(workerId: string): void; reject(error: Error): void } | null = null;
  workerId: string | null = null;

  private constructor(private readonly options: WorkerClientOptions) {
    this.socket = new ReconnectingSocket('/ws/worker', options, {
      onOpen: () => this.register(),
      onFrame: (frame) => this.onFrame(frame),
      onClose: (code, reason) => {
        this.stopHeartbeat();
        this.workerId = null;
        // The server requeues these the moment it sees the socket gone; their results would be refused.
        for (const { abort } of this.running.values()) abort.abort(new Error('connection lost'));
        this.running.clear();
        // Requeued as well: a result sent again would be refused.
        this.forgetUnanswered();
        options.onActivity?.({ kind: 'disconnected', code, reason });
      },
    });
  }

  /** Connects and registers; resolves with the worker id the server gave. */
  static async start(options: WorkerClientOptions): Promise<WorkerClient> {
    const worker = new WorkerClient(options);
    const registered = new Promise<string>((resolve, reject) => {
      worker.registration = { resolve, reject };
    });
    try {
      await worker.socket.start();
    } catch (error) {
      throw new MailroomConnectionError(options.url, error);
    }
    try {
      await registered;
    } catch (error) {
      worker.stop();
      throw error;
    }
    return worker;
  }

  /** Stops taking work and closes the connection; jobs still running go back to the queue. */
  stop(): void {
    this.stopHeartbeat();
    for (const { abort } of this.running.values()) abort.abort(new Error('worker stopping'));
    this.forgetUnanswered();
    this.socket.close();
  }

  /** Changes how many jobs may run at once; the server assigns accordingly. */
  setSlots(slots: number): void {
    this.socket.send({ op: 'slots', slots });
  }

  private register(): void {
    this.socket.send({
      op: 'register',
      name: this.options.name,
      types: this.options.types,
      capabilities: this.options.capabilities ?? {},
      slots: this.options.slots ?? 1,
    });
  }

  private onFrame(frame: Record<string, unknown>): void {
    switch (frame.op) {
      case 'registered': {
        this.workerId = frame.worker_id as string;
        this.startHeartbeat(frame.heartbeat_ms as number);
        this.options.onActivity?.({ kind: 'registered', workerId: this.workerId });
        this.registration?.resolve(this.workerId);
        this.registration = null;
        return;
      }
      case 'assign':
        this.run(frame.job as AssignedJob);
        return;
      case 'cancel': {
        const entry = this.running.get(frame.job_id as string);
        if (!entry || entry.job.lease !== frame.lease) return;
        this.running.delete(entry.job.id);
        entry.abort.abort(new Error(String(frame.reason)));
        this.options.onActivity?.({ kind: 'cancelled', job: entry.job, reason: String(frame.reason) });
        return;
      }
      case 'ok':
        if (!this.progressAnswered(frame.job_id as string | undefined)) this.answered(frame.job_id as string);
        return;
      case 'error':
        if (
          !this.progressAnswered(frame.job_id as string | undefined) &&
          this.retryReport(frame.job_id as string | undefined, frame.error as WireError)
        )
          return;
        if (this.workerId === null && this.registration) {
          // Refused before registering (a type that is not remote, bad slots): start() fails with it.
          this.registration.reject(apiError(frame.error as WireError));
          this.registration = null;
          return;
        }
        this.options.onActivity?.({
          kind: 'refused',
          jobId: frame.job_id as string | undefined,
          error: frame.error as WireError,
        });
        return;
    }
  }

  private run(job: AssignedJob): void {
    const abort = new AbortController();
    this.running.set(job.id, { job, abort });
    this.options.onActivity?.({ kind: 'started', job });
    const ctx: WorkerContext = {
      progress: (progress, message) => {
        if (abort.signal.aborted) return;
        this.socket.send({
          op: 'progress',
          job_id: job.id,
          lease: job.lease,
          progress,
          ...(message ? { message } : {}),
        });
        this.progressUnanswered.set(job.id, (this.progressUnanswered.get(job.id) ?? 0) + 1);
      },
      signal: abort.signal,
    };
    const settle = (report: Record<string, unknown>, activity: WorkerActivity): void => {
      // A cancelled or lost job's result would only be refused: the server moved on.
      if (abort.signal.aborted || this.running.get(job.id)?.abort !== abort) return;
      this.running.delete(job.id);
      this.socket.send(report);
      this.answered(job.id);
      this.unanswered.set(job.id, { frame: report, retries: 0, timer: null });
      this.options.onActivity?.(activity);
    };
    Promise.resolve()
      .then(() => {
        // Cancelled in the same burst of frames as its assignment: never started.
        if (abort.signal.aborted) throw abort.signal.reason;
        return this.options.handler(job, ctx);
      })
      .then(
        (result) =>
          settle(
            {
              op: 'complete',
              job_id: job.id,
              lease: job.lease,
              output: result.output ?? null,
              ...(result.cost === undefined ? {} : { cost: result.cost }),
            },
            { kind: 'completed', job, result },
          ),
        (thrown: unknown) => {
          const error = toJobError(thrown);
          settle({ op: 'fail', job_id: job.id, lease: job.lease, error }, { kind: 'failed', job, error });
        },
      );
  }

  /** True when this answer (`ok` or `error`) is one of the job's progress frames'. */
  private progressAnswered(jobId: string | undefined): boolean {
    if (jobId === undefined) return false;
    const count = this.progressUnanswered.get(jobId);
    if (count === undefined) return false;
    if (count <= 1) this.progressUnanswered.delete(jobId);
    else this.progressUnanswered.set(jobId, count - 1);
    return true;
  }

  /**
   * Sends a result again when the server refused it with a retryable error; false when the error
   * is not about a result waiting for an answer (or is final), so it is reported as refused.
   */
  private retryReport(jobId: string | undefined, error: WireError): boolean {
    const waiting = jobId === undefined ? undefined : this.unanswered.get(jobId);
    if (!waiting) return false;
    const retryable = (ERROR_CODES as Record<string, { retryable: boolean }>)[error.code]?.retryable === true;
    if (!retryable || waiting.retries >= REPORT_RETRIES) {
      this.answered(jobId);
      return false;
    }
    if (waiting.timer !== null) return true;
    const delay = Math.min(REPORT_RETRY_MAX_MS, REPORT_RETRY_MS * 2 ** waiting.retries);
    waiting.retries++;
    waiting.timer = setTimeout(() => {
      waiting.timer = null;
      if (this.unanswered.get(jobId!) === waiting) this.socket.send(waiting.frame);
    }, delay);
    waiting.timer.unref();
    return true;
  }

  private answered(jobId: string | undefined): void {
    if (jobId === undefined) return;
    const waiting = this.unanswered.get(jobId);
    if (!waiting) return;
    if (waiting.timer !== null) clearTimeout(waiting.timer);
    this.unanswered.delete(jobId);
  }

  private forgetUnanswered(): void {
    for (const waiting of this.unanswered.values()) if (waiting.timer !== null) clearTimeout(waiting.timer);
    this.unanswered.clear();
    this.progressUnanswered.clear();
  }

  private startHeartbeat(intervalMs: number): void {
    this.stopHeartbeat();
    // Twice per interval: the server drops a worker only after two silent intervals.
    this.heartbeat = setInterval(() => this.socket.send({ op: 'heartbeat' }), Math.max(50, intervalMs / 2));
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}

function toJobError(thrown: unknown): JobError {
  const fields = (thrown ?? {}) as { code?: unknown; message?: unknown; retryable?: unknown };
  return {
    code: typeof fields.code === 'string' && fields.code.length > 0 ? fields.code : 'HANDLER_THREW',
    message: typeof fields.message === 'string' ? fields.message : String(thrown),
    retryable: typeof fields.retryable === 'boolean' ? fields.retryable : true,
  };
}
