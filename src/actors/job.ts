/**
 * The job actor: one job's whole lifecycle (SPEC §2). waiting → delayed → pending → running →
 * completed | failed | cancelled, with leases that fence off stale results, per-attempt timeouts,
 * retries with backoff, retention expiry, and one event per transition.
 */
import { MailroomError } from '../errors.js';
import type { ActorContext } from '../runtime/actor.js';
import { defineActor } from '../runtime/actor.js';
import { isoAt, type JobError } from '../schemas/common.js';
import type { DistributiveOmit, EventDraft } from '../schemas/events.js';
import { isTerminalJobStatus } from '../schemas/job.js';
import type { DispatcherMsg } from './dispatcher-messages.js';
import { DISPATCHER } from './dispatcher-messages.js';
import { eventId } from './ids.js';
import { backoffDelay, type JobLogicOptions, type JobMsg, type JobState, type NewJob } from './job-state.js';
import type { NeededResources } from './requirements.js';
import type { WorkflowMsg } from './workflow-messages.js';
import { workflowRef } from './workflow-state.js';

export type { JobLogicOptions, JobMsg, JobState, NewJob } from './job-state.js';
export { backoffDelay, JOB_KIND, jobRef } from './job-state.js';

type Ctx = ActorContext<JobMsg>;
type Job = JobState | null;

/**
 * A job is busy for moments and then read rarely: it leaves memory after 10 s idle, not the
 * system's 60 s. At 14k jobs/s on Redis the longer stay held half a million finished jobs and a
 * gigabyte of heap within 40 s, and throughput fell by a quarter. Reading one back is a store load.
 */
const JOB_IDLE_MS = 10_000;

export function createJobLogic(options: JobLogicOptions) {
  return defineActor<Job, JobMsg>({
    initial: () => null,
    passivateAfterMs: JOB_IDLE_MS,
    index: (job) => {
      if (!job) return { live: false };
      return {
        // In progress is `status:waiting|delayed|pending|running`; recovery reads those.
        live: false,
        tags: [
          `status:${job.status}`,
          `type:${job.type}`,
          'all',
          ...(job.workflowId ? [`workflow:${job.workflowId}`] : []),
        ],
        score: job.createdAt,
      };
    },
    receive(job, msg, ctx) {
      if (msg.type === 'create') return create(job, msg.job, ctx);
      if (!job) {
        if (msg.type === 'get' || msg.type === 'cancel' || msg.type === 'retry') {
          ctx.replyError(new MailroomError('NOT_FOUND', `job ${ctx.self.id} not found`));
        }
        if (msg.type === 'progress' || msg.type === 'complete' || msg.type === 'fail') {
          // Removed by retention (or never here): no lease of it is current any more.
          ctx.replyError(new MailroomError('LEASE_STALE', `job ${ctx.self.id} no longer exists`));
        }
        // The queue entry of a job removed by retention (cancelled while queued) can still be
        // leased: give the slot back, or the lease held a worker slot until the ack timeout and
        // was then requeued, again and again.
        if (msg.type === 'lease') {
          ctx.tell(DISPATCHER, {
            type: 'lease_refused',
            jobId: ctx.self.id,
            lease: msg.lease,
          } satisfies DispatcherMsg);
        }
        return job;
      }
      switch (msg.type) {
        case 'get':
          ctx.reply(job);
          return job;
        case 'release':
          return release(job, msg.input, msg.needs, ctx);
        case 'rewait':
          return rewait(job, ctx);
        case 'lease':
          return lease(job, msg.lease, msg.workerId, ctx);
        case 'progress':
          return progress(job, msg, ctx);
        case 'complete':
          return complete(job, msg, ctx, options);
        case 'fail':
          if (!holdsLease(job, msg.lease, ctx)) return job;
          return attemptFailed(job, msg.error, ctx, options);
        case 'attempt_timeout':
          if (job.status !== 'running' || job.lease !== msg.lease) return job;
          ctx.tell(DISPATCHER, {
            type: 'cancel_execution',
            jobId: job.id,
            lease: msg.lease,
            reason: 'timeout',
          });
          return attemptFailed(
            job,
            { code: 'TIMEOUT', message: `attempt exceeded ${job.timeoutMs} ms`, retryable: true },
            ctx,
            options,
          );
        case 'lease_lost':
          return leaseLost(job, msg.lease, ctx);
        case 'cancel':
          return cancel(job, msg.reason ?? null, ctx, options);
        case 'retry':
          return retry(job, ctx);
        case 'unresolvable':
          if (job.status !== 'waiting') return job;
          return finish(job, 'failed', { error: msg.error }, ctx, options);
        case 'requeue':
          return requeue(job, ctx);
        case 'due':
          if (job.status !== 'delayed') return job;
          return toPending(job, ctx);
        case 'expire':
          if (isTerminalJobStatus(job.status)) ctx.remove();
          return job;
      }
    },
  });
}

function create(existing: Job, spec: NewJob, ctx: Ctx): Job {
  // Creation is idempotent: a resubmission (same idempotency key, or a workflow redelivering) sees the first.
  if (existing) {
    ctx.reply(existing);
    return existing;
  }
  // Every field spelled out: rest/spread copies of a 30-field object yield slow (dictionary-mode)
  // objects in V8, and this state is read on every later turn of the job.
  let job: JobState = {
    id: spec.id,
    type: spec.type,
    status: 'waiting',
    priority: spec.priority,
    input: spec.input,
    output: null,
    error: null,
    cost: null,
    progress: 0,
    attempts: 0,
    maxAttempts: spec.maxAttempts,
    timeoutMs: spec.timeoutMs,
    backoff: spec.backoff,
    needs: spec.needs,
    workerId: null,
    lease: null,
    workflowId: spec.workflowId,
    step: spec.step,
    idempotencyKey: spec.idempotencyKey,
    metadata: spec.metadata,
    webhookUrl: spec.webhookUrl,
    traceId: spec.traceId,
    createdAt: spec.createdAt,
    runAt: null,
    delayMs: spec.delayMs,
    startedAt: null,
    completedAt: null,
    enqueuedAt: ctx.now,
    cancelReason: null,
  };
  if (!spec.waiting)
    job = spec.delayMs > 0 ? toDelayed(job, ctx.now + spec.delayMs, ctx) : toPending(job, ctx);
  emit(ctx, job, { type: 'job_submitted', status: job.status });
  ctx.reply(job);
  return job;
}

function release(job: JobState, input: unknown, needs: NeededResources, ctx: Ctx): JobState {
  if (job.status !== 'waiting') return job;
  const released = { ...job, input, needs };
  // A step's `delay_ms` counts from its release (snapshots from before the field read as none).
  if (job.delayMs > 0) return toDelayed(released, ctx.now + job.delayMs, ctx);
  // Queued before this write is durable: the workflow's outbox keeps the release until the write
  // confirms it. Should the write fail, the job is `waiting` again, refuses the lease, and the
  // release comes again; meanwhile a fast step can be released, run and finished in one write.
  return toPending(released, ctx, true);
}

/** A workflow re-run: the step waits for its dependencies again. */
function rewait(job: JobState, ctx: Ctx): JobState {
  if (job.status !== 'failed' && job.status !== 'cancelled') return job;
  ctx.cancelTimer('expire');
  return {
    ...job,
    status: 'waiting',
    attempts: 0,
    error: null,
    output: null,
    cost: null,
    progress: 0,
    startedAt: null,
    completedAt: null,
    cancelReason: null,
  };
}

function toDelayed(job: JobState, at: number, ctx: Ctx): JobState {
  ctx.setTimer('due', at, { type: 'due' });
  return { ...job, status: 'delayed', runAt: at, workerId: null, lease: null };
}

function toPending(job: JobState, ctx: Ctx, queueNow = false): JobState {
  const next: JobState = {
    ...job,
    status: 'pending',
    runAt: null,
    workerId: null,
    lease: null,
    enqueuedAt: ctx.now,
  };
  enqueue(next, ctx, queueNow);
  return next;
}

function enqueue(job: JobState, ctx: Ctx, now = false): void {
  const msg: DispatcherMsg = {
    type: 'enqueue',
    jobId: job.id,
    jobType: job.type,
    priority: job.priority,
    enqueuedAt: job.enqueuedAt,
    needs: job.needs,
  };
  if (now) ctx.tellNow(DISPATCHER, msg);
  else ctx.tell(DISPATCHER, msg);
}

function lease(job: JobState, token: string, workerId: string, ctx: Ctx): JobState {
  if (job.status !== 'pending') {
    // Cancelled or already leased meanwhile: give the slot back.
    ctx.tell(DISPATCHER, { type: 'lease_refused', jobId: job.id, lease: token } satisfies DispatcherMsg);
    return job;
  }
  const attempts = job.attempts + 1;
  const deadline = job.timeoutMs === null ? null : ctx.now + job.timeoutMs;
  if (deadline !== null) ctx.setTimer('attempt', deadline, { type: 'attempt_timeout', lease: token });
  const next: JobState = {
    ...job,
    status: 'running',
    attempts,
    lease: token,
    workerId,
    progress: 0,
    startedAt: ctx.now,
  };
  // Execution starts now rather than after the `running` write: delivery is at-least-once anyway,
  // and a job that finishes quickly then has its start and its end in one write. Should that write
  // fail, the state falls back to `pending` and the gated `lease_accepted` never comes, so the
  // dispatcher's ack timeout cancels the execution and requeues the job.
  ctx.tellNow(DISPATCHER, {
    type: 'lease_start',
    assignment: {
      jobId: job.id,
      type: job.type,
      input: job.input,
      attempt: attempts,
      lease: token,
      timeoutMs: job.timeoutMs,
      deadline,
      workerId,
    },
  } satisfies DispatcherMsg);
  ctx.tell(DISPATCHER, { type: 'lease_accepted', jobId: job.id, lease: token } satisfies DispatcherMsg);
  if (job.workflowId !== null) {
    ctx.tell(workflowRef(job.workflowId), {
      type: 'step_started',
      step: job.step!,
      attempts,
      startedAt: ctx.now,
    } satisfies WorkflowMsg);
  }
  emit(ctx, next, { type: 'job_started', attempt: attempts, worker_id: workerId });
  return next;
}

function holdsLease(job: JobState, token: string, ctx: Ctx): boolean {
  if (job.status === 'running' && job.lease === token) return true;
  ctx.replyError(
    new MailroomError('LEASE_STALE', `lease ${token} is not the current lease of job ${job.id}`),
  );
  return false;
}

function progress(job: JobState, msg: Extract<JobMsg, { type: 'progress' }>, ctx: Ctx): JobState {
  if (!holdsLease(job, msg.lease, ctx)) return job;
  const value = Math.max(0, Math.min(100, msg.progress));
  const next = { ...job, progress: value };
  emit(ctx, next, { type: 'job_progress', progress: value, message: msg.message ?? null });
  return next;
}

function complete(
  job: JobState,
  msg: Extract<JobMsg, { type: 'complete' }>,
  ctx: Ctx,
  options: JobLogicOptions,
): Job {
  if (!holdsLease(job, msg.lease, ctx)) return job;
  return finish(
    job,
    'completed',
    { output: msg.output, cost: msg.cost ?? null, progress: 100 },
    ctx,
    options,
  );
}

function attemptFailed(job: JobState, error: JobError, ctx: Ctx, options: JobLogicOptions): JobState {
  releaseSlot(job, ctx);
  if (error.retryable && job.attempts < job.maxAttempts) {
    const at = ctx.now + backoffDelay(job.backoff, job.attempts);
    ctx.cancelTimer('attempt');
    const next = toDelayed({ ...job, error }, at, ctx);
    emit(ctx, next, {
      type: 'job_retrying',
      error,
      attempt: job.attempts,
      retry_at: new Date(at).toISOString(),
    });
    return next;
  }
  return finish(job, 'failed', { error }, ctx, options, false);
}

function leaseLost(job: JobState, token: string, ctx: Ctx): JobState {
  if (job.status !== 'running' || job.lease !== token) return job;
  ctx.cancelTimer('attempt');
  // The worker vanished, not the job's fault: the attempt does not count.
  return toPending({ ...job, attempts: job.attempts - 1, progress: 0 }, ctx);
}

function cancel(job: JobState, reason: string | null, ctx: Ctx, options: JobLogicOptions): JobState {
  if (isTerminalJobStatus(job.status)) {
    ctx.replyError(new MailroomError('INVALID_STATE', `cannot cancel job in status: ${job.status}`));
    return job;
  }
  if (job.status === 'running') {
    ctx.tell(DISPATCHER, {
      type: 'cancel_execution',
      jobId: job.id,
      lease: job.lease!,
      reason: reason ?? 'cancelled',
    } satisfies DispatcherMsg);
    releaseSlot(job, ctx);
  }
  return finish(job, 'cancelled', { cancelReason: reason }, ctx, options, false);
}

function retry(job: JobState, ctx: Ctx): JobState {
  if (job.status !== 'failed' && job.status !== 'cancelled') {
    ctx.replyError(
      new MailroomError('INVALID_STATE', `only failed or cancelled jobs can be retried, not ${job.status}`),
    );
    return job;
  }
  ctx.cancelTimer('expire');
  const reset: JobState = {
    ...job,
    attempts: 0,
    error: null,
    output: null,
    cost: null,
    progress: 0,
    startedAt: null,
    completedAt: null,
    cancelReason: null,
  };
  const next = toPending(reset, ctx);
  emit(ctx, next, { type: 'job_submitted', status: next.status });
  ctx.reply(next);
  return next;
}

/** After a restart: pending jobs go back into the (rebuilt) queue; running ones lost their executor. */
function requeue(job: JobState, ctx: Ctx): JobState {
  if (job.status === 'pending') {
    enqueue(job, ctx);
    return job;
  }
  if (job.status === 'running') {
    ctx.cancelTimer('attempt');
    return toPending({ ...job, attempts: job.attempts - 1, progress: 0 }, ctx);
  }
  return job;
}

function releaseSlot(job: JobState, ctx: Ctx): void {
  if (job.status !== 'running' || job.lease === null) return;
  ctx.tell(DISPATCHER, {
    type: 'execution_ended',
    jobId: job.id,
    jobType: job.type,
    lease: job.lease,
    workerId: job.workerId,
  } satisfies DispatcherMsg);
}

function finish(
  job: JobState,
  status: 'completed' | 'failed' | 'cancelled',
  changes: Partial<JobState>,
  ctx: Ctx,
  options: JobLogicOptions,
  freeSlot = true,
): JobState {
  if (freeSlot) releaseSlot(job, ctx);
  ctx.cancelTimer('attempt');
  ctx.cancelTimer('due');
  ctx.setTimer('expire', ctx.now + options.retentionMs, { type: 'expire' });
  const next: JobState = { ...job, ...changes, status, completedAt: ctx.now, lease: null, runAt: null };
  if (next.workflowId !== null) {
    ctx.tellReliably(workflowRef(next.workflowId), {
      type: 'step_finished',
      step: next.step!,
      status,
      output: next.output,
      error: next.error,
      cost: next.cost,
      attempts: next.attempts,
      startedAt: next.startedAt,
      completedAt: ctx.now,
    } satisfies WorkflowMsg);
  }
  if (status === 'completed') {
    emit(ctx, next, { type: 'job_completed', output: next.output, cost: next.cost, attempts: next.attempts });
  } else if (status === 'failed') {
    emit(ctx, next, { type: 'job_failed', error: next.error!, attempts: next.attempts });
  } else {
    emit(ctx, next, { type: 'job_cancelled', reason: next.cancelReason });
  }
  ctx.reply(next);
  return next;
}

type JobEventBody = DistributiveOmit<
  Extract<EventDraft, { job_id: string }>,
  'id' | 'seq' | 'at' | 'trace_id' | 'job_id' | 'job_type' | 'workflow_id'
>;

function emit(ctx: Ctx, job: JobState, body: JobEventBody): void {
  // Common fields first and `seq` reserved: V8 copies a spread fast only when no new keys follow it.
  ctx.emit({
    id: eventId(),
    seq: 0,
    at: isoAt(ctx.now),
    trace_id: job.traceId,
    job_id: job.id,
    job_type: job.type,
    workflow_id: job.workflowId,
    ...body,
  });
}
