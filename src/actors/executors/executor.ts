/**
 * The one port every executor adapter implements (builtin, remote, thread, http). The dispatcher
 * decides what runs where; an adapter only starts, cancels, and reports back through the sink
 * with the lease it was given, so a late report from an old attempt is fenced off by the job.
 */
import type { JobError } from '../../schemas/common.js';

export interface Assignment {
  jobId: string;
  type: string;
  input: unknown;
  attempt: number;
  lease: string;
  timeoutMs: number | null;
  /** Epoch ms after which the attempt is timed out. */
  deadline: number | null;
  /** Which worker (slot owner) runs it; `builtin` for in-process handlers. */
  workerId: string;
}

export interface ExecutionSink {
  progress(jobId: string, lease: string, progress: number, message?: string): void;
  complete(jobId: string, lease: string, output: unknown, cost?: number): void;
  fail(jobId: string, lease: string, error: JobError): void;
}

export interface WorkerInfo {
  id: string;
  name: string;
  types: readonly string[];
  gpuMemoryGb: number;
  labels: readonly string[];
  slots: number;
}

export interface CancelTarget {
  jobId: string;
  lease: string;
  workerId: string;
}

export interface Executor {
  readonly name: string;
  start(assignment: Assignment, sink: ExecutionSink): void;
  /** Best effort: stop work for this lease (timeout or cancel). */
  cancel(target: CancelTarget, reason: string): void;
  /**
   * Whether the execution of this lease is still in this executor's hands. In-process executors
   * know; a remote worker's executions are known only to the worker, so `remote` does not say.
   * A job still running on a lease whose execution is over lost its result (the write that took
   * it failed): the dispatcher's lease check asks this and runs the job again.
   */
  isExecuting?(target: CancelTarget): boolean;
}
