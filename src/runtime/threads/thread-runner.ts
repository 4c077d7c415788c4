/**
 * The threads of one `thread:` job type: `threads` long-lived worker threads, each driven through
 * comlink and running one job at a time. Aborting a job (its timeout or a cancel) terminates its
 * thread, which really stops CPU-bound code, and starts a replacement. A thread that exits or
 * crashes mid-job fails only that job, as retryable; one whose `setup()` fails is replaced when
 * the next job needs it, so a broken module does not spin.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import type { Logger } from '../../logger.js';
import { LatencyWindow } from '../pool/latency-window.js';
import { workerEntry } from '../pool/worker-entry.js';
import { nodeEndpoint } from './node-endpoint.js';
import type { ThreadContext, ThreadHostApi, ThreadJob } from './thread-api.js';

/** Why a job did not complete: a job failure code from the registry, always retryable. */
export class ThreadFailure extends Error {
  constructor(
    readonly code: 'HANDLER_THREW' | 'THREAD_EXITED' | 'THREAD_SETUP_FAILED',
    message: string,
  ) {
    super(message);
    this.name = 'ThreadFailure';
  }
}

export interface ThreadRun {
  /** Resolves with the module's return value; rejects with a ThreadFailure. Never settles once aborted. */
  result: Promise<unknown>;
  /** Terminates the thread running it (or drops it from the queue) and replaces the thread. */
  abort(): void;
}

export interface ThreadRunnerOptions {
  type: string;
  /** Absolute path of the module (`setup()`, `handle(job, ctx)`). */
  modulePath: string;
  threads: number;
  logger?: Logger | undefined;
}

export interface ThreadStats {
  type: string;
  threads: number;
  busy: number;
  queued: number;
  completed: number;
  failed: number;
  aborted: number;
  /** Threads started to replace one that was terminated, exited or failed its setup. */
  restarts: number;
  task_latency: ReturnType<LatencyWindow['summary']>;
}

interface Task {
  job: ThreadJob;
  onProgress: (progress: number, message?: string) => void;
  resolve: (value: unknown) => void;
  reject: (error: ThreadFailure) => void;
  aborted: boolean;
  thread: Thread | null;
  started: number;
}

interface Thread {
  worker: Worker;
  remote: Comlink.Remote<ThreadHostApi>;
  ready: Promise<void>;
  task: Task | null;
  /** Set when we terminate it on purpose: its exit is then no failure. */
  retired: boolean;
  /** Why it died, once it did (an uncaught error's message). */
  crash: string | null;
}

export class ThreadRunner {
  private readonly slots: Array<Thread | null>;
  private readonly queue: Task[] = [];
  private readonly latency = new LatencyWindow();
  private readonly counts = { completed: 0, failed: 0, aborted: 0, restarts: 0 };
  private closed = false;

  constructor(private readonly options: ThreadRunnerOptions) {
    this.slots = Array.from({ length: options.threads }, () => null);
    // Started now, so setup() (loading models, warming caches) is done before the first job.
    for (let i = 0; i < this.slots.length; i++) this.slots[i] = this.spawn(i);
  }

  run(job: ThreadJob, onProgress: (progress: number, message?: string) => void): ThreadRun {
    let resolve!: (value: unknown) => void;
    let reject!: (error: ThreadFailure) => void;
    const result = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const task: Task = { job, onProgress, resolve, reject, aborted: false, thread: null, started: 0 };
    if (this.closed) reject(new ThreadFailure('THREAD_EXITED', `thread executor for ${job.type} is closed`));
    else {
      this.queue.push(task);
      this.pump();
    }
    return { result, abort: () => this.abort(task) };
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const index = this.slots.findIndex((thread) => thread === null || thread.task === null);
      if (index < 0) return;
      let thread = this.slots[index];
      if (!thread) {
        this.counts.restarts++;
        thread = this.spawn(index);
        this.slots[index] = thread;
      }
      this.execute(thread, index, this.queue.shift()!);
    }
  }

  private execute(thread: Thread, index: number, task: Task): void {
    thread.task = task;
    task.thread = thread;
    task.started = performance.now();
    const progress = Comlink.proxy({
      progress: (value: number, message?: string) => {
        if (!task.aborted && thread.task === task) task.onProgress(value, message);
      },
    }) as unknown as ThreadContext;
    thread.ready.then(
      () =>
        thread.remote.handle(task.job, progress).then(
          (output) => this.finish(thread, task, null, output),
          (error: unknown) => this.finish(thread, task, new ThreadFailure('HANDLER_THREW', messageOf(error))),
        ),
      (error: unknown) => {
        // The module would fail the same way for the next job: retire this thread, and let the
        // next job that needs one start it afresh.
        if (task.aborted || thread.task !== task) return;
        this.retire(thread, index, false);
        this.counts.failed++;
        task.reject(
          new ThreadFailure(
            'THREAD_SETUP_FAILED',
            `setup of ${this.options.modulePath} failed: ${messageOf(error)}`,
          ),
        );
      },
    );
  }

  /** Reports a job's outcome unless it was aborted or its thread died meanwhile; true when it did. */
  private finish(thread: Thread, task: Task, failure: ThreadFailure | null, output?: unknown): boolean {
    if (task.aborted || thread.task !== task) return false;
    thread.task = null;
    this.latency.record(performance.now() - task.started);
    if (failure) {
      this.counts.failed++;
      task.reject(failure);
    } else {
      this.counts.completed++;
      task.resolve(output);
    }
    this.pump();
    return true;
  }

  private abort(task: Task): void {
    if (task.aborted) return;
    task.aborted = true;
    this.counts.aborted++;
    const queued = this.queue.indexOf(task);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      return;
    }
    const thread = task.thread;
    if (!thread || thread.task !== task) return;
    const index = this.slots.indexOf(thread);
    if (index >= 0) this.retire(thread, index, true);
  }

  /** Terminates a thread on purpose; `replace` starts its successor at once. */
  private retire(thread: Thread, index: number, replace: boolean): void {
    thread.retired = true;
    thread.task = null;
    void thread.worker.terminate();
    if (this.slots[index] !== thread) return;
    this.slots[index] = null;
    if (replace && !this.closed) {
      this.counts.restarts++;
      this.slots[index] = this.spawn(index);
    }
    this.pump();
  }

  private spawn(index: number): Thread {
    const entry = workerEntry(import.meta.url, 'thread-host');
    const modulePath = this.options.modulePath;
    const name = `mailroom:${this.options.type}:${index}`;
    const worker = entry.execArgv
      ? new Worker(fileURLToPath(new URL('./source-entry.cjs', import.meta.url)), {
          name,
          execArgv: entry.execArgv,
          workerData: { modulePath, sourceEntry: entry.filename },
        })
      : new Worker(entry.filename, { name, workerData: { modulePath } });
    const remote = Comlink.wrap<ThreadHostApi>(nodeEndpoint(worker));
    const thread: Thread = { worker, remote, ready: remote.setup(), task: null, retired: false, crash: null };
    // Until a job waits on it, a failed setup is only logged (the job that needs it reports it).
    thread.ready.catch((error: unknown) =>
      this.options.logger?.warn({ type: this.options.type, err: error }, 'thread executor setup failed'),
    );
    worker.on('error', (error) => {
      thread.crash = messageOf(error);
    });
    worker.on('exit', (code) => this.onExit(thread, index, code));
    return thread;
  }

  /** A thread that ended without being retired: fail its job (retryable) and replace it. */
  private onExit(thread: Thread, index: number, code: number): void {
    if (thread.retired) return;
    thread.retired = true;
    const task = thread.task;
    thread.task = null;
    const reason = thread.crash ?? `exit code ${code}`;
    this.options.logger?.warn({ type: this.options.type, code, reason }, 'thread executor thread exited');
    if (this.slots[index] === thread) {
      this.slots[index] = null;
      if (!this.closed) {
        this.counts.restarts++;
        this.slots[index] = this.spawn(index);
      }
    }
    if (task && !task.aborted) {
      this.counts.failed++;
      task.reject(new ThreadFailure('THREAD_EXITED', `the thread running the job exited (${reason})`));
    }
    this.pump();
  }

  stats(): ThreadStats {
    return {
      type: this.options.type,
      threads: this.slots.filter((thread) => thread !== null).length,
      busy: this.slots.filter((thread) => thread?.task).length,
      queued: this.queue.length,
      completed: this.counts.completed,
      failed: this.counts.failed,
      aborted: this.counts.aborted,
      restarts: this.counts.restarts,
      task_latency: this.latency.summary(),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) {
      task.reject(new ThreadFailure('THREAD_EXITED', 'the thread executor is shutting down'));
    }
    await Promise.all(
      this.slots.map((thread) => {
        if (!thread) return undefined;
        thread.retired = true;
        thread.remote[Comlink.releaseProxy]();
        return thread.worker.terminate();
      }),
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
