/**
 * The dispatcher's state (queues, workers, leases, rate buckets) and the small functions over it
 * that need nothing else; the dispatcher's logic, which changes it turn by turn, is dispatcher.ts.
 */
import type { ActorContext } from '../runtime/actor.js';
import type { Queue } from '../runtime/mailbox.js';
import type { DispatcherMsg, DispatcherStats } from './dispatcher-messages.js';
import type { Executor, WorkerInfo } from './executors/executor.js';
import type { QueueEntry, TypeQueue } from './type-queue.js';

export interface Worker extends WorkerInfo {
  executor: Executor;
  running: number;
  /** Round-robin position over `types`, for fairness between types. */
  nextType: number;
}

export interface Lease {
  token: string;
  entry: QueueEntry;
  workerId: string;
  /** The job answered a lease check: it runs on this lease, durably. */
  accepted: boolean;
  /** Handed to the executor (which happens before any check). */
  started: boolean;
  issuedAt: number;
  /** When the job was asked about the lease, or null before. */
  checkedAt: number | null;
}

export interface RateBucket {
  tokens: number;
  capacity: number;
  perMs: number;
  updatedAt: number;
}

export interface DispatcherState {
  queues: Map<string, TypeQueue>;
  workers: Map<string, Worker>;
  leases: Map<string, Lease>;
  /** Leases in the order they were issued; checked or ended ones are dropped from the head lazily. */
  unaccepted: Queue<Lease>;
  /** Leases asked about, in the order they were; answered or ended ones are dropped lazily. */
  checked: Queue<Lease>;
  running: Map<string, number>;
  rates: Map<string, RateBucket>;
  tickAt: number;
  /** When accepted leases of in-process executions are next looked at (see recheckEndedExecutions). */
  recheckAt: number;
}

type Ctx = ActorContext<DispatcherMsg>;

/** The oldest lease of `queue` still open and unanswered, dropping settled ones on the way. */
export function oldestOpen(queue: Queue<Lease>, state: DispatcherState): Lease | undefined {
  for (;;) {
    const head = queue.peek();
    if (!head) return undefined;
    if (!head.accepted && state.leases.get(head.token) === head) return head;
    queue.shift();
  }
}

export function armTick(state: DispatcherState, ctx: Ctx, at: number): void {
  if (at >= state.tickAt) return;
  state.tickAt = at;
  ctx.setTimer('tick', at, { type: 'tick' });
}

/** Whether the lease's executor still runs it; undefined when the executor cannot tell (remote). */
export function isExecuting(state: DispatcherState, lease: Lease): boolean | undefined {
  const worker = state.workers.get(lease.workerId);
  return worker?.executor.isExecuting?.({
    jobId: lease.entry.jobId,
    lease: lease.token,
    workerId: lease.workerId,
  });
}

export function addWorker(state: DispatcherState, info: WorkerInfo, executor: Executor): void {
  state.workers.set(info.id, { ...info, executor, running: 0, nextType: 0 });
}

export function rateBucket(state: DispatcherState, type: string, rate: number, now: number): RateBucket {
  let bucket = state.rates.get(type);
  if (!bucket) {
    const capacity = Math.max(1, rate);
    bucket = { tokens: capacity, capacity, perMs: rate / 1000, updatedAt: now };
    state.rates.set(type, bucket);
  }
  bucket.tokens = Math.min(bucket.capacity, bucket.tokens + (now - bucket.updatedAt) * bucket.perMs);
  bucket.updatedAt = now;
  return bucket;
}

export function stats(state: DispatcherState): DispatcherStats {
  const queued: Record<string, number> = {};
  for (const [type, queue] of state.queues) queued[type] = queue.size;
  const byWorker: Record<string, number> = {};
  for (const worker of state.workers.values()) byWorker[worker.id] = worker.running;
  return {
    queued,
    running: Object.fromEntries(state.running),
    running_by_worker: byWorker,
    workers: state.workers.size,
  };
}
