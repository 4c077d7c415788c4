/**
 * In-process handlers for the builtin job types: echo, sleep, fail and checksum. Each reports
 * through the sink with the lease it was given and honours cancel (sleep stops its timer). The
 * checksum's hashing is CPU-heavy: it goes to the offload port (the payload pool) when one is
 * given, so a large input never blocks the event loop.
 */
import type { Clock, ClockTimer } from '../../runtime/clock.js';
import { type ChecksumResult, checksumOf, checksumOfJson } from '../../runtime/pool/checksum.js';
import { EncodedInput, plainInput } from '../../runtime/pool/encoded-input.js';
import type { Assignment, CancelTarget, ExecutionSink, Executor } from './executor.js';

type Handler = (assignment: Assignment, sink: ExecutionSink, running: Running) => void;

interface Running {
  timer: ClockTimer | null;
  /** Work in flight elsewhere (the pool): the entry stays until it settles. */
  pending: boolean;
  cancelled: boolean;
}

/** CPU-heavy builtin work done off the event loop; rejects with a registry error (e.g. OVERLOADED). */
export interface BuiltinOffload {
  checksum(data: unknown): Promise<ChecksumResult>;
  /** For an input kept as JSON text (encoded-input.ts): the pool decodes it, not the event loop. */
  checksumJson(json: Uint8Array): Promise<ChecksumResult>;
}

export class BuiltinExecutor implements Executor {
  readonly name = 'builtin';
  private readonly running = new Map<string, Running>();
  private readonly handlers: Record<string, Handler>;

  /**
   * `handlerOf` maps a job type to its handler (`builtin:<handler>` in the config). Without it the
   * handler was looked up by the type's own name, so a configured type such as
   * `{name: "flaky", executor: "builtin:fail"}` failed every attempt with NO_HANDLER.
   */
  constructor(
    private readonly clock: Clock,
    private readonly handlerOf: Readonly<Record<string, string>> = {},
    private readonly offload?: BuiltinOffload,
  ) {
    this.handlers = {
      echo: (a, sink) => sink.complete(a.jobId, a.lease, plainInput(a.input)),
      sleep: (a, sink, running) => {
        const ms = Number((plainInput(a.input) as { ms?: unknown } | null)?.ms ?? 0);
        running.timer = this.clock.setTimeout(() => {
          this.running.delete(key(a));
          if (!running.cancelled) sink.complete(a.jobId, a.lease, { slept_ms: ms });
        }, ms);
      },
      fail: (a, sink) => {
        const input = (plainInput(a.input) ?? {}) as { retryable?: unknown; message?: unknown };
        sink.fail(a.jobId, a.lease, {
          code: 'JOB_FAILED',
          message: typeof input.message === 'string' ? input.message : 'the fail job always fails',
          retryable: input.retryable !== false,
        });
      },
      checksum: (a, sink, running) => {
        const encoded = a.input instanceof EncodedInput ? a.input : null;
        if (!this.offload) {
          const result = encoded
            ? checksumOfJson(encoded.json)
            : checksumOf((a.input as { data?: unknown } | null)?.data);
          sink.complete(a.jobId, a.lease, result);
          return;
        }
        running.pending = true;
        const hashing = encoded
          ? this.offload.checksumJson(encoded.json)
          : this.offload.checksum((a.input as { data?: unknown } | null)?.data);
        hashing.then(
          (result) => {
            this.running.delete(key(a));
            if (!running.cancelled) sink.complete(a.jobId, a.lease, result);
          },
          (error: unknown) => {
            this.running.delete(key(a));
            if (running.cancelled) return;
            const code = (error as { code?: unknown }).code === 'OVERLOADED' ? 'OVERLOADED' : 'HANDLER_THREW';
            sink.fail(a.jobId, a.lease, {
              code,
              message: error instanceof Error ? error.message : String(error),
              retryable: true,
            });
          },
        );
      },
    };
  }

  start(assignment: Assignment, sink: ExecutionSink): void {
    const handler = this.handlers[this.handlerOf[assignment.type] ?? assignment.type];
    if (!handler) {
      sink.fail(assignment.jobId, assignment.lease, {
        code: 'NO_HANDLER',
        message: `no builtin handler for type "${assignment.type}"`,
        retryable: false,
      });
      return;
    }
    const running: Running = { timer: null, pending: false, cancelled: false };
    try {
      handler(assignment, sink, running);
    } catch (error) {
      if (running.timer) this.clock.clearTimeout(running.timer);
      running.cancelled = true;
      sink.fail(assignment.jobId, assignment.lease, {
        code: 'HANDLER_THREW',
        message: error instanceof Error ? error.message : String(error),
        retryable: true,
      });
      return;
    }
    // Only what is still running when the handler returns can be cancelled: a handler that
    // finished at once (echo, fail) is never registered, which spares a key and a map entry per job.
    if (running.timer !== null || running.pending) this.running.set(key(assignment), running);
  }

  /** Handlers that finish at once (echo, fail) are over by the time anyone asks. */
  isExecuting(target: CancelTarget): boolean {
    return this.running.has(key(target));
  }

  cancel(target: CancelTarget): void {
    const running = this.running.get(key(target));
    if (!running) return;
    running.cancelled = true;
    if (running.timer) this.clock.clearTimeout(running.timer);
    this.running.delete(key(target));
  }
}

/** One execution: a job on one lease. */
function key(execution: { jobId: string; lease: string }): string {
  return `${execution.jobId}\0${execution.lease}`;
}
