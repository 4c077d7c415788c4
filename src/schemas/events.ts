/**
 * Every event, as one discriminated union: the same objects go to WebSocket and SSE subscribers,
 * webhooks, metrics and the durable event log. `id` is unique per event, `seq` is its position in
 * the log, `trace_id` ties it to the request that caused it.
 */
import { z } from 'zod';
import { JobError } from './common.js';
import { StepDetail } from './workflow.js';

const Base = z.object({
  id: z.string(),
  seq: z.number().int(),
  at: z.string(),
  trace_id: z.string().nullable(),
});

const JobSubject = Base.extend({
  job_id: z.string(),
  job_type: z.string(),
  workflow_id: z.string().nullable(),
});

const WorkflowSubject = Base.extend({
  workflow_id: z.string(),
  workflow_name: z.string(),
});

export const JobSubmitted = JobSubject.extend({ type: z.literal('job_submitted'), status: z.string() });
export const JobStarted = JobSubject.extend({
  type: z.literal('job_started'),
  attempt: z.number(),
  worker_id: z.string().nullable(),
});
export const JobProgress = JobSubject.extend({
  type: z.literal('job_progress'),
  progress: z.number(),
  message: z.string().nullable(),
});
export const JobCompleted = JobSubject.extend({
  type: z.literal('job_completed'),
  output: z.unknown(),
  cost: z.number().nullable(),
  attempts: z.number(),
});
export const JobFailed = JobSubject.extend({
  type: z.literal('job_failed'),
  error: JobError,
  attempts: z.number(),
});
export const JobRetrying = JobSubject.extend({
  type: z.literal('job_retrying'),
  error: JobError,
  attempt: z.number(),
  retry_at: z.string(),
});
export const JobCancelled = JobSubject.extend({
  type: z.literal('job_cancelled'),
  reason: z.string().nullable(),
});

export const WorkflowSubmitted = WorkflowSubject.extend({
  type: z.literal('workflow_submitted'),
  total_steps: z.number(),
});
export const WorkflowStepCompleted = WorkflowSubject.extend({
  type: z.literal('workflow_step_completed'),
  step_index: z.number(),
  step_name: z.string(),
  job_id: z.string(),
  completed_steps: z.number(),
  total_steps: z.number(),
});
export const WorkflowCompleted = WorkflowSubject.extend({
  type: z.literal('workflow_completed'),
  step_details: z.array(StepDetail),
  cost: z.number(),
});
export const WorkflowFailed = WorkflowSubject.extend({
  type: z.literal('workflow_failed'),
  step_details: z.array(StepDetail),
  cost: z.number(),
  error: JobError,
});
export const WorkflowCancelled = WorkflowSubject.extend({
  type: z.literal('workflow_cancelled'),
  step_details: z.array(StepDetail),
  cost: z.number(),
  reason: z.string().nullable(),
});

export const WorkerConnected = Base.extend({
  type: z.literal('worker_connected'),
  worker_id: z.string(),
  name: z.string(),
  types: z.array(z.string()),
});
export const WorkerDisconnected = Base.extend({
  type: z.literal('worker_disconnected'),
  worker_id: z.string(),
  name: z.string(),
  reason: z.string().nullable(),
});

export const MailroomEvent = z.discriminatedUnion('type', [
  JobSubmitted,
  JobStarted,
  JobProgress,
  JobCompleted,
  JobFailed,
  JobRetrying,
  JobCancelled,
  WorkflowSubmitted,
  WorkflowStepCompleted,
  WorkflowCompleted,
  WorkflowFailed,
  WorkflowCancelled,
  WorkerConnected,
  WorkerDisconnected,
]);
export type MailroomEvent = z.infer<typeof MailroomEvent>;
export type EventType = MailroomEvent['type'];

/** What an actor emits: the whole event with `seq: 0`; the log assigns the real `seq` on write. */
export type EventDraft = MailroomEvent;

/** Omit over each member of a union (plain Omit would collapse the union to its common keys). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
