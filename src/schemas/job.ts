/**
 * Jobs: what a submitter sends (JobSpec) and what every API returns (JobView).
 */
import { z } from 'zod';
import { JobError, Metadata, Priority } from './common.js';
import { Backoff, Requirements } from './config.js';

export const JOB_STATUSES = [
  'waiting',
  'delayed',
  'pending',
  'running',
  'completed',
  'failed',
  'cancelled',
] as const;
export const JobStatus = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatus>;

export const TERMINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled']);

export function isTerminalJobStatus(status: JobStatus): boolean {
  return TERMINAL_JOB_STATUSES.has(status);
}

/** Options a job or a workflow step may set; unset ones come from the job type's config. */
export const JobOptions = z.strictObject({
  priority: Priority.optional(),
  delay_ms: z
    .number()
    .int()
    .min(0)
    .max(365 * 24 * 3_600_000)
    .optional(),
  timeout_ms: z
    .number()
    .int()
    .positive()
    .max(7 * 24 * 3_600_000)
    .optional(),
  max_attempts: z.number().int().min(1).max(100).optional(),
  backoff: Backoff.optional(),
  requirements: Requirements.optional(),
  webhook_url: z.url().optional(),
  metadata: Metadata.optional(),
});
export type JobOptions = z.infer<typeof JobOptions>;

export const JobSpec = JobOptions.extend({
  type: z.string().min(1).max(128),
  input: z.unknown().optional(),
  idempotency_key: z.string().min(1).max(512).optional(),
});
export type JobSpec = z.infer<typeof JobSpec>;

export const BatchSpec = z.strictObject({
  jobs: z.array(JobSpec).min(1).max(1_000),
});

export const JobView = z.object({
  id: z.string(),
  type: z.string(),
  status: JobStatus,
  priority: z.number(),
  progress: z.number(),
  attempts: z.number(),
  max_attempts: z.number(),
  input: z.unknown(),
  output: z.unknown(),
  error: JobError.nullable(),
  cost: z.number().nullable(),
  worker_id: z.string().nullable(),
  workflow_id: z.string().nullable(),
  step: z.number().nullable(),
  idempotency_key: z.string().nullable(),
  metadata: Metadata.nullable(),
  run_at: z.string().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
});
export type JobView = z.infer<typeof JobView>;
