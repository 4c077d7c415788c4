/**
 * The thread executor adapter: jobs of `thread:<module>` types run in that type's long-lived worker
 * threads (src/runtime/threads, driven through comlink; this file only sees the port below). A
 * cancel, or the attempt's timeout, aborts the run, which terminates the thread: a hard stop even
 * for CPU-bound code. A handler that throws, or a thread that exits, fails the attempt as retryable.
 */
import type { Assignment, CancelTarget, ExecutionSink, Executor } from './executor.js';

/** One attempt as the thread's module sees it. */
export interface ThreadJobSpec {
  id: string;
  type: string;
  input: unknown;
  attempt: number;
  deadline: number | null;
}

/** The port a type's threads implement (ThreadRunner). Rejections carry a job failure `code`. */
export interface ThreadHost {
  run(
    job: ThreadJobSpec,
    onProgress: (progress: number, message?: string) => void,
  ): { result: Promise<unknown>; abort(): void };
}

export class ThreadExecutor implements Executor {
  readonly name = 'thread';
  private readonly running = new Map<string, { abort(): void }>();

  /** `hosts`: job type → the threads that run it. */
  constructor(private readonly hosts: ReadonlyMap<string, ThreadHost>) {}

  start(a: Assignment, sink: ExecutionSink): void {
    const host = this.hosts.get(a.type);
    if (!host) {
      sink.fail(a.jobId, a.lease, {
        code: 'NO_HANDLER',
        message: `no threads for type "${a.type}"`,
        retryable: false,
      });
      return;
    }
    const key = `${a.jobId}\0${a.lease}`;
    const run = host.run(
      { id: a.jobId, type: a.type, input: a.input, attempt: a.attempt, deadline: a.deadline },
      (progress, message) => sink.progress(a.jobId, a.lease, clampProgress(progress), message),
    );
    this.running.set(key, run);
    run.result.then(
      (output) => {
        if (this.running.delete(key)) sink.complete(a.jobId, a.lease, output === undefined ? null : output);
      },
      (error: unknown) => {
        if (!this.running.delete(key)) return;
        const code = (error as { code?: unknown }).code;
        sink.fail(a.jobId, a.lease, {
          code: typeof code === 'string' ? code : 'HANDLER_THREW',
          message: error instanceof Error ? error.message : String(error),
          retryable: true,
        });
      },
    );
  }

  isExecuting(target: CancelTarget): boolean {
    return this.running.has(`${target.jobId}\0${target.lease}`);
  }

  /** The job has already moved on (cancelled, or failed with TIMEOUT): stop the thread, report nothing. */
  cancel(target: CancelTarget): void {
    const key = `${target.jobId}\0${target.lease}`;
    const run = this.running.get(key);
    if (!run) return;
    this.running.delete(key);
    run.abort();
  }
}

function clampProgress(value: number): number {
  return Number.isFinite(value) ? Math.min(100, Math.max(0, value)) : 0;
}
