/**
 * In-process handlers for the builtin job types: echo, sleep, fail and checksum. Each runs on the
 * event loop (checksum hashes inline until the worker-pool issue moves it off), reports through
 * the sink with the lease it was given, and honours cancel (sleep stops its timer).
 */
import { createHash } from 'node:crypto';
import type { Clock, ClockTimer } from '../../runtime/clock.js';
import type { Assignment, CancelTarget, ExecutionSink, Executor } from './executor.js';

type Handler = (assignment: Assignment, sink: ExecutionSink, running: Running) => void;

interface Running {
  timer: ClockTimer | null;
  cancelled: boolean;
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
  ) {
    this.handlers = {
      echo: (a, sink) => sink.complete(a.jobId, a.lease, a.input),
      sleep: (a, sink, running) => {
        const ms = Number((a.input as { ms?: unknown } | null)?.ms ?? 0);
        running.timer = this.clock.setTimeout(() => {
          this.running.delete(key(a));
          if (!running.cancelled) sink.complete(a.jobId, a.lease, { slept_ms: ms });
        }, ms);
      },
      fail: (a, sink) => {
        const input = (a.input ?? {}) as { retryable?: unknown; message?: unknown };
        sink.fail(a.jobId, a.lease, {
          code: 'JOB_FAILED',
          message: typeof input.message === 'string' ? input.message : 'the fail job always fails',
          retryable: input.retryable !== false,
        });
      },
      checksum: (a, sink) => {
        const data = (a.input as { data?: unknown } | null)?.data;
        const text = typeof data === 'string' ? data : JSON.stringify(data ?? null);
        const sha256 = createHash('sha256').update(text).digest('hex');
        sink.complete(a.jobId, a.lease, { sha256, bytes: Buffer.byteLength(text) });
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
    const running: Running = { timer: null, cancelled: false };
    this.running.set(key(assignment), running);
    try {
      handler(assignment, sink, running);
    } catch (error) {
      sink.fail(assignment.jobId, assignment.lease, {
        code: 'HANDLER_THREW',
        message: error instanceof Error ? error.message : String(error),
        retryable: true,
      });
    } finally {
      if (running.timer === null) this.running.delete(key(assignment));
    }
  }

  cancel(target: CancelTarget): void {
    const running = this.running.get(`${target.jobId}\0${target.lease}`);
    if (!running) return;
    running.cancelled = true;
    if (running.timer) this.clock.clearTimeout(running.timer);
    this.running.delete(`${target.jobId}\0${target.lease}`);
  }
}

function key(assignment: Assignment): string {
  return `${assignment.jobId}\0${assignment.lease}`;
}
