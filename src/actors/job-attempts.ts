/**
 * A job's attempts, from the queue to the end: queueing (now or after a delay), taking a lease and
 * starting the execution, progress, completion, a failed attempt and its retry, a lost lease, and
 * the finish with its one terminal event. The job actor (job.ts) routes its messages here.
 */
import { MailroomError } from '../errors.js';
import type { ActorContext } from '../runtime/actor.js';
import { isoAt, type JobError } from '../schemas/common.js';
import type { DistributiveOmit, EventDraft } from '../schemas/events.js';
import { isTerminalJobStatus } from '../schemas/job.js';
import type { DispatcherMsg } from './dispatcher-messages.js';
import { DISPATCHER } from './dispatcher-messages.js';
import { eventId } from './ids.js';
import { backoffDelay, copyJob, type JobLogicOptions, type JobMsg, type JobState } from './job-state.js';
import type { StepFinished, WorkflowMsg } from './workflow-messages.js';
import { workflowRef } from './workflow-state.js';

type Ctx = ActorContext<JobMsg>;

/** Every finished job keeps its expiry timer for the retention period: one message for all. */
const EXPIRE: JobMsg = Object.freeze({ type: 'expire' });

export function toDelayed(job: JobState, at: number, ctx: Ctx): JobState {
  ctx.setTimer('due', at, { type: 'due' });
  const next = copyJob(job);
  next.status = 'delayed';
  next.runAt = at;
  next.workerId = null;
  next.lease = null;
  return next;
}

export function toPending(job: JobState, ctx: Ctx, queueNow = false): JobState {
  const next = copyJob(job);
  next.status = 'pending';
  next.runAt = null;
  next.workerId = null;
  next.lease = null;
  next.enqueuedAt = ctx.now;
  enqueue(next, ctx, queueNow);
  return next;
}

export function enqueue(job: JobState, ctx: Ctx, now = false): void {
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

export function lease(job: JobState, token: string, workerId: string, ctx: Ctx): JobState {
  if (job.status !== 'pending') {
    // Cancelled or already leased meanwhile: give the slot back.
    ctx.tell(DISPATCHER, { type: 'lease_refused', jobId: job.id, lease: token } satisfies DispatcherMsg);
    return job;
  }
  const attempts = job.attempts + 1;
  const deadline = job.timeoutMs === null ? null : ctx.now + job.timeoutMs;
  if (deadline !== null) ctx.setTimer('attempt', deadline, { type: 'attempt_timeout', lease: token });
  const next = copyJob(job);
  next.status = 'running';
  next.attempts = attempts;
  next.lease = token;
  next.workerId = workerId;
  next.progress = 0;
  next.startedAt = ctx.now;
  // Execution starts now rather than after the `running` write: delivery is at-least-once anyway,
  // and a job that finishes quickly then has its start and its end in one write. Should that write
  // fail, the state falls back to `pending`; the dispatcher's lease check finds that out (see
  // answerLeaseCheck), cancels the execution and the job queues again. Nothing acknowledges the
  // lease on the way: most end within moments, and their end (`execution_ended`) settles them.
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

export function holdsLease(job: JobState, token: string, ctx: Ctx): boolean {
  if (job.status === 'running' && job.lease === token) return true;
  ctx.replyError(
    new MailroomError('LEASE_STALE', `lease ${token} is not the current lease of job ${job.id}`),
  );
  return false;
}

/**
 * The answer to a lease check, sent once this state is durable: a job running on the lease
 * accepts it; otherwise the dispatcher gives it up. A pending job holds no queue entry when its
 * running write failed, so it queues again (a duplicate entry is refused when leased).
 */
export function answerLeaseCheck(job: JobState, token: string, ctx: Ctx): JobState {
  if (job.status === 'running' && job.lease === token) {
    ctx.tell(DISPATCHER, { type: 'lease_accepted', jobId: job.id, lease: token } satisfies DispatcherMsg);
    return job;
  }
  ctx.tell(DISPATCHER, { type: 'lease_refused', jobId: job.id, lease: token } satisfies DispatcherMsg);
  if (job.status === 'pending') enqueue(job, ctx);
  return job;
}

export function progress(job: JobState, msg: Extract<JobMsg, { type: 'progress' }>, ctx: Ctx): JobState {
  if (!holdsLease(job, msg.lease, ctx)) return job;
  const value = Math.max(0, Math.min(100, msg.progress));
  const next = copyJob(job);
  next.progress = value;
  emit(ctx, next, { type: 'job_progress', progress: value, message: msg.message ?? null });
  return next;
}

export function complete(
  job: JobState,
  msg: Extract<JobMsg, { type: 'complete' }>,
  ctx: Ctx,
  options: JobLogicOptions,
): JobState {
  if (!holdsLease(job, msg.lease, ctx)) return job;
  return finish(
    job,
    'completed',
    { output: msg.output, cost: msg.cost ?? null, progress: 100 },
    ctx,
    options,
  );
}

export function attemptFailed(job: JobState, error: JobError, ctx: Ctx, options: JobLogicOptions): JobState {
  releaseSlot(job, ctx);
  if (error.retryable && job.attempts < job.maxAttempts) {
    const at = ctx.now + backoffDelay(job.backoff, job.attempts);
    ctx.cancelTimer('attempt');
    const failed = copyJob(job);
    failed.error = error;
    const next = toDelayed(failed, at, ctx);
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

export function leaseLost(job: JobState, token: string, ctx: Ctx): JobState {
  if (job.status !== 'running' || job.lease !== token) return job;
  // The worker vanished, not the job's fault: the attempt does not count.
  return requeueLostAttempt(job, ctx);
}

/** A running attempt nobody executes any more goes back to the queue, uncounted. */
export function requeueLostAttempt(job: JobState, ctx: Ctx): JobState {
  ctx.cancelTimer('attempt');
  const lost = copyJob(job);
  lost.attempts = job.attempts - 1;
  lost.progress = 0;
  return toPending(lost, ctx);
}

export function releaseSlot(job: JobState, ctx: Ctx): void {
  if (job.status !== 'running' || job.lease === null) return;
  ctx.tell(DISPATCHER, { type: 'execution_ended', jobId: job.id, lease: job.lease } satisfies DispatcherMsg);
}

export function finish(
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
  ctx.setTimer('expire', ctx.now + options.retentionMs, EXPIRE);
  const next = Object.assign(copyJob(job), changes);
  next.status = status;
  next.completedAt = ctx.now;
  next.lease = null;
  next.runAt = null;
  if (next.workflowId !== null) ctx.tell(workflowRef(next.workflowId), stepFinished(next));
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

/**
 * A workflow that may have missed this step's end, or whose release may not have arrived, asks
 * (its `watch`): a finished step tells its end once more, a step still waiting says so. The
 * workflow takes a step's end once, and a step takes its release once.
 */
export function reportStep(job: JobState, ctx: Ctx): JobState {
  if (job.workflowId === null) return job;
  if (isTerminalJobStatus(job.status)) ctx.tell(workflowRef(job.workflowId), stepFinished(job));
  else if (job.status === 'waiting') {
    ctx.tell(workflowRef(job.workflowId), { type: 'step_waiting', step: job.step! } satisfies WorkflowMsg);
  }
  return job;
}

/** What a finished step tells its workflow. */
function stepFinished(job: JobState): StepFinished {
  return {
    type: 'step_finished',
    step: job.step!,
    status: job.status as StepFinished['status'],
    output: job.output,
    error: job.error,
    cost: job.cost,
    attempts: job.attempts,
    startedAt: job.startedAt,
    completedAt: job.completedAt!,
  };
}

type JobEventBody = DistributiveOmit<
  Extract<EventDraft, { job_id: string }>,
  'id' | 'seq' | 'at' | 'trace_id' | 'job_id' | 'job_type' | 'workflow_id'
>;

export function emit(ctx: Ctx, job: JobState, body: JobEventBody): void {
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
