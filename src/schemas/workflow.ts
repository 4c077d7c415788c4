/**
 * Workflows: DAGs of steps. `depends_on` names earlier-or-later steps by name or index; the graph
 * must be acyclic. Steps take job options plus an `input` that may hold templates.
 */
import { z } from 'zod';
import { JobError, Metadata } from './common.js';
import { JobOptions, JobStatus } from './job.js';

export const StepRef = z.union([z.string().min(1), z.number().int().min(0)]);

export const StepSpec = JobOptions.extend({
  name: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" and "-" only (names are used in templates)')
    .optional(),
  type: z.string().min(1).max(128),
  input: z.unknown().optional(),
  depends_on: z.array(StepRef).max(200).optional(),
});
export type StepSpec = z.infer<typeof StepSpec>;

export const ON_FAILURE = ['fail_fast', 'continue'] as const;
export const OnFailure = z.enum(ON_FAILURE);
export type OnFailure = z.infer<typeof OnFailure>;

export const WorkflowSpec = z.strictObject({
  name: z.string().min(1).max(200),
  steps: z.array(StepSpec).min(1).max(200),
  input: z.unknown().optional(),
  on_failure: OnFailure.default('fail_fast'),
  webhook_url: z.url().optional(),
  idempotency_key: z.string().min(1).max(512).optional(),
  metadata: Metadata.optional(),
});
export type WorkflowSpec = z.infer<typeof WorkflowSpec>;

export const WORKFLOW_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export const WorkflowStatus = z.enum(WORKFLOW_STATUSES);
export type WorkflowStatus = z.infer<typeof WorkflowStatus>;

/** The one canonical per-step view: the workflow resource, its terminal events and webhooks all carry it. */
export const StepDetail = z.object({
  step_index: z.number(),
  name: z.string(),
  job_id: z.string(),
  type: z.string(),
  status: JobStatus,
  attempts: z.number(),
  output: z.unknown(),
  error: JobError.nullable(),
  cost: z.number().nullable(),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
});
export type StepDetail = z.infer<typeof StepDetail>;

export const WorkflowView = z.object({
  id: z.string(),
  name: z.string(),
  definition: z.string().nullable(),
  version: z.number().nullable(),
  status: WorkflowStatus,
  on_failure: OnFailure,
  total_steps: z.number(),
  completed_steps: z.number(),
  progress_percentage: z.number(),
  cost: z.number(),
  input: z.unknown(),
  step_details: z.array(StepDetail),
  idempotency_key: z.string().nullable(),
  metadata: Metadata.nullable(),
  created_at: z.string(),
  completed_at: z.string().nullable(),
});
export type WorkflowView = z.infer<typeof WorkflowView>;
