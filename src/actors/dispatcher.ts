/**
 * The dispatcher: per-type priority queues (higher first, FIFO within a priority), capability
 * matching, credit-based assignment to workers with free slots, per-type concurrency and rate
 * limits, and round-robin fairness across types. It is ephemeral: after a restart its queues are
 * rebuilt from the store's indexes (pending and running jobs are told to `requeue`).
 *
 * Its effects on executors are port calls (start, cancel); everything else goes through messages.
 */
import type { ActorContext } from '../runtime/actor.js';
import { defineActor } from '../runtime/actor.js';
import { Queue } from '../runtime/mailbox.js';
import type { DispatcherMsg } from './dispatcher-messages.js';
import {
  addWorker,
  armTick,
  type DispatcherState,
  isExecuting,
  type Lease,
  oldestOpen,
  rateBucket,
  stats,
  type Worker,
} from './dispatcher-state.js';
import type { ExecutionSink, Executor } from './executors/executor.js';
import { newLease } from './ids.js';
import type { JobMsg } from './job.js';
import { jobRef } from './job.js';
import type { NeededResources } from './requirements.js';
import { workerSatisfies } from './requirements.js';
import { type QueueEntry, TypeQueue } from './type-queue.js';

export type { DispatcherState } from './dispatcher-state.js';

export interface DispatchTypeLimits {
  name: string;
  /** `builtin` for in-process handlers, `remote` for WebSocket workers, else the adapter's name. */
  executor: string;
  concurrency?: number;
  rate?: number;
}

export interface DispatcherOptions {
  types: readonly DispatchTypeLimits[];
  executors: Readonly<Record<string, Executor>>;
  /** Where executors report progress and results (to the job actors, by system tell). */
  sink: ExecutionSink;
  /** Jobs the in-process builtin executor runs at once. */
  builtinSlots: number;
  /**
   * A lease still open after this time is checked with its job; one the job neither accepts nor
   * refuses within as long again is given up (the execution cancelled, the job requeued).
   */
  leaseAckTimeoutMs?: number;
}

type Ctx = ActorContext<DispatcherMsg>;

export function createDispatcherLogic(options: DispatcherOptions) {
  const limits = new Map(options.types.map((type) => [type.name, type]));
  const leaseAckTimeoutMs = options.leaseAckTimeoutMs ?? 30_000;

  function initial(): DispatcherState {
    const state: DispatcherState = {
      queues: new Map(),
      workers: new Map(),
      leases: new Map(),
      unaccepted: new Queue(),
      checked: new Queue(),
      running: new Map(),
      rates: new Map(),
      tickAt: Number.POSITIVE_INFINITY,
      recheckAt: Number.POSITIVE_INFINITY,
    };
    const builtinTypes = options.types.filter((type) => type.executor === 'builtin').map((type) => type.name);
    const builtin = options.executors.builtin;
    if (builtin && builtinTypes.length > 0) {
      addWorker(
        state,
        {
          id: 'builtin',
          name: 'builtin',
          types: builtinTypes,
          gpuMemoryGb: 0,
          labels: [],
          slots: options.builtinSlots,
        },
        builtin,
      );
    }
    for (const type of options.types) {
      if (type.executor === 'builtin' || type.executor === 'remote') continue;
      const executor = options.executors[type.executor];
      if (!executor) continue;
      const id = `executor:${type.executor}`;
      const existing = state.workers.get(id);
      if (existing) existing.types = [...existing.types, type.name];
      else
        addWorker(
          state,
          {
            id,
            name: type.executor,
            types: [type.name],
            gpuMemoryGb: 0,
            labels: [],
            slots: options.builtinSlots,
          },
          executor,
        );
    }
    return state;
  }

  function receive(state: DispatcherState, msg: DispatcherMsg, ctx: Ctx): DispatcherState {
    switch (msg.type) {
      case 'enqueue':
        queueFor(state, msg.jobType).push(msg.jobId, msg.priority, msg.enqueuedAt, msg.needs);
        break;
      case 'lease_start': {
        const lease = state.leases.get(msg.assignment.lease);
        const worker = lease ? state.workers.get(lease.workerId) : undefined;
        if (!lease || !worker) {
          // Given up meanwhile (not accepted within leaseAckTimeoutMs, entry requeued) or the worker
          // left: the job is running on a lease nobody executes. Without this it stayed `running`.
          ctx.tell(jobRef(msg.assignment.jobId), {
            type: 'lease_lost',
            lease: msg.assignment.lease,
          } satisfies JobMsg);
          break;
        }
        lease.started = true;
        worker.executor.start(msg.assignment, options.sink);
        return state;
      }
      case 'lease_accepted': {
        const lease = state.leases.get(msg.lease);
        if (!lease) {
          // Given up before the job's answer came: the job must not stay `running` on it.
          ctx.tell(jobRef(msg.jobId), { type: 'lease_lost', lease: msg.lease } satisfies JobMsg);
          break;
        }
        const executing = lease.started ? isExecuting(state, lease) : undefined;
        if (executing === false) {
          // The execution is over, yet the job still runs on it: the write that took its result
          // failed. Left alone it stayed `running` for good (builtin types have no timeout).
          endLease(state, msg.lease);
          ctx.tell(jobRef(msg.jobId), { type: 'lease_lost', lease: msg.lease } satisfies JobMsg);
          break;
        }
        lease.accepted = true;
        // Still running in this process: looked at again later, should its end be lost the same way.
        if (executing === true) scheduleRecheck(state, ctx);
        return state;
      }
      case 'lease_refused': {
        const lease = endLease(state, msg.lease);
        // Refused after it started: the answer to a check, the job's running write having failed.
        if (lease?.started) cancelExecution(state, lease, 'lease refused');
        break;
      }
      case 'execution_ended':
        endLease(state, msg.lease);
        break;
      case 'cancel_execution': {
        const lease = state.leases.get(msg.lease);
        if (lease) cancelExecution(state, lease, msg.reason);
        return state;
      }
      case 'worker_joined': {
        const executor = options.executors.remote;
        if (executor) addWorker(state, msg.worker, executor);
        break;
      }
      case 'worker_slots': {
        const worker = state.workers.get(msg.workerId);
        if (worker) worker.slots = msg.slots;
        break;
      }
      case 'worker_left':
        removeWorker(state, msg.workerId, ctx);
        break;
      case 'tick':
        state.tickAt = Number.POSITIVE_INFINITY;
        checkOpenLeases(state, ctx);
        expireUncheckedLeases(state, ctx.now);
        // Ticks also come for other leases' deadlines: the pass over every open lease only when due.
        if (ctx.now >= state.recheckAt) {
          state.recheckAt = Number.POSITIVE_INFINITY;
          if (recheckEndedExecutions(state, ctx)) state.recheckAt = ctx.now + leaseAckTimeoutMs;
        }
        armTick(state, ctx, state.recheckAt);
        break;
      case 'stats':
        ctx.reply(stats(state));
        return state;
    }
    dispatch(state, ctx);
    return state;
  }

  function dispatch(state: DispatcherState, ctx: Ctx): void {
    let wakeAt = Number.POSITIVE_INFINITY;
    for (const worker of state.workers.values()) {
      while (worker.running < worker.slots) {
        const picked = pick(state, worker, ctx.now);
        if (picked.entry === null) {
          wakeAt = Math.min(wakeAt, picked.wakeAt);
          break;
        }
        grant(state, worker, picked.entry, ctx);
      }
    }
    const oldest = oldestOpen(state.unaccepted, state);
    if (oldest) wakeAt = Math.min(wakeAt, oldest.issuedAt + leaseAckTimeoutMs);
    const asked = oldestOpen(state.checked, state);
    if (asked) wakeAt = Math.min(wakeAt, asked.checkedAt! + leaseAckTimeoutMs);
    armTick(state, ctx, wakeAt);
  }

  function scheduleRecheck(state: DispatcherState, ctx: Ctx): void {
    state.recheckAt = Math.min(state.recheckAt, ctx.now + leaseAckTimeoutMs);
    armTick(state, ctx, state.recheckAt);
  }

  /**
   * Accepted leases whose in-process execution is over are asked about again: the job ends such a
   * lease within moments of the execution's end, unless the write that took the result failed.
   * True while accepted leases of in-process executions remain open (to look at again later).
   */
  function recheckEndedExecutions(state: DispatcherState, ctx: Ctx): boolean {
    let watching = false;
    for (const lease of state.leases.values()) {
      if (!lease.accepted || !lease.started) continue;
      const executing = isExecuting(state, lease);
      if (executing === undefined) continue;
      if (executing) {
        watching = true;
        continue;
      }
      lease.accepted = false;
      lease.checkedAt = ctx.now;
      state.checked.push(lease);
      ctx.tell(jobRef(lease.entry.jobId), { type: 'lease_check', lease: lease.token } satisfies JobMsg);
    }
    return watching;
  }

  /** The next job this worker may run, visiting its types round-robin. */
  function pick(
    state: DispatcherState,
    worker: Worker,
    now: number,
  ): { entry: QueueEntry | null; wakeAt: number } {
    let wakeAt = Number.POSITIVE_INFINITY;
    const count = worker.types.length;
    for (let step = 0; step < count; step++) {
      const type = worker.types[(worker.nextType + step) % count]!;
      const queue = state.queues.get(type);
      if (!queue || queue.size === 0) continue;
      const limit = limits.get(type);
      if (limit?.concurrency !== undefined && (state.running.get(type) ?? 0) >= limit.concurrency) continue;
      if (limit?.rate !== undefined) {
        const bucket = rateBucket(state, type, limit.rate, now);
        if (bucket.tokens < 1) {
          wakeAt = Math.min(wakeAt, now + Math.ceil((1 - bucket.tokens) / bucket.perMs));
          continue;
        }
      }
      const entry = queue.takeFirst((needs: NeededResources) => workerSatisfies(needs, worker));
      if (!entry) continue;
      worker.nextType = (worker.nextType + step + 1) % count;
      if (limit?.rate !== undefined) rateBucket(state, type, limit.rate, now).tokens -= 1;
      return { entry, wakeAt };
    }
    return { entry: null, wakeAt };
  }

  function grant(state: DispatcherState, worker: Worker, entry: QueueEntry, ctx: Ctx): void {
    const token = newLease();
    worker.running++;
    state.running.set(entry.jobType, (state.running.get(entry.jobType) ?? 0) + 1);
    const lease: Lease = {
      token,
      entry,
      workerId: worker.id,
      accepted: false,
      started: false,
      issuedAt: ctx.now,
      checkedAt: null,
    };
    state.leases.set(token, lease);
    state.unaccepted.push(lease);
    ctx.tell(jobRef(entry.jobId), { type: 'lease', lease: token, workerId: worker.id } satisfies JobMsg);
  }

  function endLease(state: DispatcherState, token: string): Lease | undefined {
    const lease = state.leases.get(token);
    if (!lease) return undefined;
    state.leases.delete(token);
    const worker = state.workers.get(lease.workerId);
    if (worker) worker.running--;
    const type = lease.entry.jobType;
    state.running.set(type, Math.max(0, (state.running.get(type) ?? 1) - 1));
    return lease;
  }

  function removeWorker(state: DispatcherState, workerId: string, ctx: Ctx): void {
    if (!state.workers.delete(workerId)) return;
    for (const [token, lease] of [...state.leases]) {
      if (lease.workerId !== workerId) continue;
      endLease(state, token);
      // The job decides: if it is still running on this lease it goes back to pending and re-enqueues.
      ctx.tell(jobRef(lease.entry.jobId), { type: 'lease_lost', lease: token } satisfies JobMsg);
    }
  }

  /** Asks the job of every lease open for the ack timeout whether it runs on it. */
  function checkOpenLeases(state: DispatcherState, ctx: Ctx): void {
    for (;;) {
      const lease = oldestOpen(state.unaccepted, state);
      if (!lease || ctx.now - lease.issuedAt < leaseAckTimeoutMs) return;
      state.unaccepted.shift();
      lease.checkedAt = ctx.now;
      state.checked.push(lease);
      ctx.tell(jobRef(lease.entry.jobId), { type: 'lease_check', lease: lease.token } satisfies JobMsg);
    }
  }

  /** Gives up leases whose job did not answer the check (its cell could not load, say). */
  function expireUncheckedLeases(state: DispatcherState, now: number): void {
    for (;;) {
      const lease = oldestOpen(state.checked, state);
      if (!lease || now - lease.checkedAt! < leaseAckTimeoutMs) return;
      state.checked.shift();
      if (lease.started) cancelExecution(state, lease, 'lease expired');
      endLease(state, lease.token);
      const entry = lease.entry;
      queueFor(state, entry.jobType).push(entry.jobId, entry.priority, entry.enqueuedAt, entry.needs);
    }
  }

  function cancelExecution(state: DispatcherState, lease: Lease, reason: string): void {
    const worker = state.workers.get(lease.workerId);
    worker?.executor.cancel({ jobId: lease.entry.jobId, lease: lease.token, workerId: worker.id }, reason);
  }

  function queueFor(state: DispatcherState, type: string): TypeQueue {
    let queue = state.queues.get(type);
    if (!queue) {
      queue = new TypeQueue(type);
      state.queues.set(type, queue);
    }
    return queue;
  }

  return defineActor<DispatcherState, DispatcherMsg>({ initial, receive, ephemeral: true });
}
