/**
 * The job actor: one job's whole lifecycle (SPEC §2). waiting → delayed → pending → running →
 * completed | failed | cancelled, with leases that fence off stale results, per-attempt timeouts,
 * retries with backoff, retention expiry, and one event per transition. Here: creation, release,
 * cancel, retry and recovery; the attempts themselves (queue, lease, results, finish) are in
 * job-attempts.ts.
 */
import { MailroomError } from '../errors.js';
import type { ActorContext } from '../runtime/actor.js';
import { defineActor } from '../runtime/actor.js';
import { isTerminalJobStatus, JobStatus } from '../schemas/job.js';
import type { DispatcherMsg } from './dispatcher-messages.js';
import { DISPATCHER } from './dispatcher-messages.js';
import {
  answerLeaseCheck,
  attemptFailed,
  complete,
  emit,
  enqueue,
  finish,
  holdsLease,
  lease,
  leaseLost,
  progress,
  releaseSlot,
  reportStep,
  requeueLostAttempt,
  toDelayed,
  toPending,
} from './job-attempts.js';
import { jobSnapshot } from './job-snapshot.js';
import {
  copyJob,
  type JobLogicOptions,
  type JobMsg,
  type JobState,
  type NewJob,
  type StepRelease,
} from './job-state.js';
import type { NeededResources } from './requirements.js';
import { RETENTION_TIMERS } from './retention.js';

export type { JobLogicOptions, JobMsg, JobState, NewJob, StepRelease } from './job-state.js';
export { backoffDelay, JOB_KIND, jobRef } from './job-state.js';

type Ctx = ActorContext<JobMsg>;
type Job = JobState | null;

/**
 * A job is busy for moments and then read rarely: it leaves memory after 10 s idle, not the
 * system's 60 s. At 14k jobs/s on Redis the longer stay held half a million finished jobs and a
 * gigabyte of heap within 40 s, and throughput fell by a quarter. Reading one back is a store load.
 */
const JOB_IDLE_MS = 10_000;

// The index is rebuilt on every write: its status and type tags are made once here, not per write.
const STATUS_TAGS = Object.fromEntries(
  JobStatus.options.map((status) => [status, `status:${status}`]),
) as Record<JobStatus, string>;
const TYPE_TAGS = new Map<string, string>();

function typeTag(type: string): string {
  let tag = TYPE_TAGS.get(type);
  if (tag === undefined) {
    tag = `type:${type}`;
    // Types come from the config, so this stays small; the cap guards against anything else.
    if (TYPE_TAGS.size < 1024) TYPE_TAGS.set(type, tag);
  }
  return tag;
}

export function createJobLogic(options: JobLogicOptions) {
  return defineActor<Job, JobMsg>({
    initial: () => null,
    passivateAfterMs: JOB_IDLE_MS,
    backgroundTimers: RETENTION_TIMERS,
    removalTimers: RETENTION_TIMERS,
    snapshot: jobSnapshot,
    finished: (job) => job !== null && isTerminalJobStatus(job.status),
    index: (job) => {
      if (!job) return { live: false };
      // In progress is `status:waiting|delayed|pending|running`; recovery reads those. A step job
      // is not filed by workflow (listJobs reads the workflow's record, which names it): that tag
      // was built and compared on every write, and made a sorted set per run in Redis. Nor under
      // one tag for all jobs: listing them all merges the status tags (listing.ts unionPage).
      return { live: false, tags: [STATUS_TAGS[job.status], typeTag(job.type)], score: job.createdAt };
    },
    receive(job, msg, ctx) {
      if (msg.type === 'create') return create(job, msg.job, msg.release, ctx);
      if (!job) {
        if (msg.type === 'get' || msg.type === 'cancel' || msg.type === 'retry') {
          ctx.replyError(new MailroomError('NOT_FOUND', `job ${ctx.self.id} not found`));
        }
        if (msg.type === 'progress' || msg.type === 'complete' || msg.type === 'fail') {
          // Removed by retention (or never here): no lease of it is current any more.
          ctx.replyError(new MailroomError('LEASE_STALE', `job ${ctx.self.id} no longer exists`));
        }
        if (msg.type === 'complete' || msg.type === 'fail') {
          // The execution of a job whose creating write failed after it was queued is over: its
          // slot is free now, not once the lease check finds the job missing (30 s or more).
          ctx.tell(DISPATCHER, {
            type: 'execution_ended',
            jobId: ctx.self.id,
            lease: msg.lease,
          } satisfies DispatcherMsg);
        }
        // The queue entry of a job removed by retention (cancelled while queued) can still be
        // leased: give the slot back, or the lease held a worker slot until the ack timeout and
        // was then requeued, again and again.
        if (msg.type === 'lease' || msg.type === 'lease_check') {
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
        case 'lease_check':
          return answerLeaseCheck(job, msg.lease, ctx);
        case 'report':
          return reportStep(job, ctx);
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

function create(existing: Job, spec: NewJob, stepRelease: StepRelease | undefined, ctx: Ctx): Job {
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
  // Queued before the creating write is durable, as a workflow's release is: the lease, the run and
  // the result can all come while that write is in flight, and the next write carries them (an echo
  // job on Redis: 2.15 → 1.59 writes). Should the first write fail, the job is gone again, the
  // submit is refused, and a lease for it is refused; a run already started reports to nobody.
  if (!spec.waiting)
    job = spec.delayMs > 0 ? toDelayed(job, ctx.now + spec.delayMs, ctx) : toPending(job, ctx, true);
  else if (stepRelease) job = release(job, stepRelease.input, stepRelease.needs, ctx);
  emit(ctx, job, { type: 'job_submitted', status: job.status });
  ctx.reply(job);
  return job;
}

function release(job: JobState, input: unknown, needs: NeededResources, ctx: Ctx): JobState {
  if (job.status !== 'waiting') return job;
  const released = copyJob(job);
  released.input = input;
  released.needs = needs;
  // A step's `delay_ms` counts from its release (snapshots from before the field read as none).
  if (job.delayMs > 0) return toDelayed(released, ctx.now + job.delayMs, ctx);
  // Queued before this write is durable. Should the write fail, the job is `waiting` again and
  // refuses the lease, and the workflow's watch finds it waiting and releases it again (see
  // reportStep); meanwhile a fast step can be released, run and finished in one write.
  return toPending(released, ctx, true);
}

/** A workflow re-run: the step waits for its dependencies again. */
function rewait(job: JobState, ctx: Ctx): JobState {
  if (job.status !== 'failed' && job.status !== 'cancelled') return job;
  ctx.cancelTimer('expire');
  const next = clearedAttempts(job);
  next.status = 'waiting';
  return next;
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
  const next = toPending(clearedAttempts(job), ctx);
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
    return requeueLostAttempt(job, ctx);
  }
  return job;
}

/** The job as before its first attempt, for a re-run. */
function clearedAttempts(job: JobState): JobState {
  const next = copyJob(job);
  next.attempts = 0;
  next.error = null;
  next.output = null;
  next.cost = null;
  next.progress = 0;
  next.startedAt = null;
  next.completedAt = null;
  next.cancelReason = null;
  return next;
}
