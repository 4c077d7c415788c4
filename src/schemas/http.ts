/**
 * Shapes that only the HTTP edge parses: query strings of the listing routes, small action
 * bodies, and the request bodies of the compatibility routes (the API this project replaces).
 * Job and workflow submissions themselves are JobSpec / WorkflowSpec.
 */
import { z } from 'zod';
import { Priority } from './common.js';
import { JobStatus } from './job.js';
import { WorkflowStatus } from './workflow.js';

/** Ids in paths: what ids look like (UUIDs, `<uuid>-<step>`), so odd bytes never reach an actor or a key. */
export const RESOURCE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

const Limit = z.coerce.number().int().min(1).max(500);
const Cursor = z.string().min(1).max(1_024);

export const ListJobsQuery = z.object({
  status: JobStatus.optional(),
  type: z.string().min(1).max(128).optional(),
  workflow_id: z.string().min(1).max(200).optional(),
  limit: Limit.optional(),
  cursor: Cursor.optional(),
});
export type ListJobsQuery = z.infer<typeof ListJobsQuery>;

export const ListWorkflowsQuery = z.object({
  status: WorkflowStatus.optional(),
  name: z.string().min(1).max(200).optional(),
  limit: Limit.optional(),
  cursor: Cursor.optional(),
});
export type ListWorkflowsQuery = z.infer<typeof ListWorkflowsQuery>;

/** `POST …/:id/cancel`; the body is optional altogether. */
export const CancelBody = z
  .strictObject({ reason: z.string().max(1_000).optional() })
  .nullish()
  .transform((body): { reason?: string | undefined } => body ?? {});

export const TIMEFRAMES = { hour: 3_600_000, day: 86_400_000, week: 604_800_000 } as const;
export type Timeframe = keyof typeof TIMEFRAMES;

// The replaced service's clients send explicit nulls for fields they leave out; null means absent.
const nullish = <T extends z.ZodType>(schema: T) => schema.nullish().transform((value) => value ?? undefined);

/** `POST /api/jobs/submit`. Unknown fields are ignored, as the replaced service did. */
export const CompatJobSubmit = z.object({
  type: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .min(1)
    .max(128),
  prompt: nullish(z.string().max(100_000)),
  parameters: nullish(z.record(z.string(), z.unknown())),
  priority: nullish(Priority),
  webhook_url: nullish(z.url()),
  workflow_id: nullish(z.string().min(1).max(200)),
  depends_on: nullish(z.array(z.string().min(1).max(200)).max(200)),
});
export type CompatJobSubmit = z.infer<typeof CompatJobSubmit>;

export const CompatStep = z.object({
  type: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .min(1)
    .max(128),
  prompt: nullish(z.string().max(100_000)),
  parameters: nullish(z.record(z.string(), z.unknown())),
  depends_on: nullish(z.array(z.number().int().min(0)).max(50)),
});

/** `POST /api/workflows`: 1–50 steps, each depending only on earlier ones (by index). */
export const CompatWorkflowSubmit = z
  .object({
    name: z
      .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
      .min(1, 'is required')
      .max(200),
    description: nullish(z.string().max(10_000)),
    steps: z
      .array(CompatStep, {
        error: (issue) => (issue.input === undefined ? 'is required' : 'must be an array'),
      })
      .min(1, 'must have at least 1 step')
      .max(50, 'must have at most 50 steps'),
    webhook_url: nullish(z.url()),
  })
  .superRefine((workflow, ctx) => {
    workflow.steps.forEach((step, index) => {
      step.depends_on?.forEach((dep, position) => {
        if (dep >= index) {
          ctx.addIssue({
            code: 'custom',
            path: ['steps', index, 'depends_on', position],
            message: `must reference an earlier step (an index below ${index})`,
          });
        }
      });
    });
  });
export type CompatWorkflowSubmit = z.infer<typeof CompatWorkflowSubmit>;

export const CompatCancelBody = z
  .object({ reason: nullish(z.string().max(1_000)) })
  .nullish()
  .transform((body): { reason?: string | undefined } => body ?? {});
