/**
 * Messages to the dispatcher. Kept apart from its logic so job and workflow actors can speak to it
 * without importing it.
 */
import type { ActorRef } from '../runtime/actor.js';
import type { Assignment, WorkerInfo } from './executors/executor.js';
import type { NeededResources } from './requirements.js';

export const DISPATCHER_KIND = 'dispatcher';
export const DISPATCHER: ActorRef = { kind: DISPATCHER_KIND, id: 'main' };

export type DispatcherMsg =
  | {
      type: 'enqueue';
      jobId: string;
      jobType: string;
      priority: number;
      enqueuedAt: number;
      needs: NeededResources;
    }
  /** The job took the lease: start executing now, before the job's `running` write is durable. */
  | { type: 'lease_start'; assignment: Assignment }
  /** The answer to a lease check: the job runs on the lease, durably. */
  | { type: 'lease_accepted'; jobId: string; lease: string }
  /** The job does not take the lease (no longer pending), or, answering a check, does not run on it. */
  | { type: 'lease_refused'; jobId: string; lease: string }
  /** The execution on the lease is over: its slot is free. */
  | { type: 'execution_ended'; jobId: string; lease: string }
  | { type: 'cancel_execution'; jobId: string; lease: string; reason: string }
  | { type: 'worker_joined'; worker: WorkerInfo }
  | { type: 'worker_slots'; workerId: string; slots: number }
  | { type: 'worker_left'; workerId: string }
  | { type: 'tick' }
  | { type: 'stats' };

export interface DispatcherStats {
  queued: Record<string, number>;
  running: Record<string, number>;
  running_by_worker: Record<string, number>;
  workers: number;
}
