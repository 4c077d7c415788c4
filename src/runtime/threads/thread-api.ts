/**
 * What crosses into a thread executor's thread: the job as its module's `handle(job, ctx)` sees
 * it, the progress callback it is given (a comlink proxy back to the event loop), and the host's
 * exposed API. Plain data only: everything here is structured-cloned.
 */

/** A `thread:` module's view of one attempt. */
export interface ThreadJob {
  id: string;
  type: string;
  input: unknown;
  attempt: number;
  /** Epoch ms when the attempt times out (the thread is terminated then), or null. */
  deadline: number | null;
}

/** The `ctx` a module's `handle` gets. Calls return promises (they cross threads); awaiting them is optional. */
export interface ThreadContext {
  progress(progress: number, message?: string): Promise<void>;
}

/** The host API each thread exposes through comlink. */
export interface ThreadHostApi {
  /** Loads the module and runs its `setup()` once; rejects if either fails. */
  setup(): Promise<void>;
  handle(job: ThreadJob, ctx: ThreadContext): Promise<unknown>;
}

/** The module a `thread:<module>` type names. */
export interface ThreadModule {
  setup?: () => unknown;
  handle: (job: ThreadJob, ctx: ThreadContext) => unknown;
}
