/**
 * Reply shapes that routes assemble from domain values (listing pages, stats, workers, health and
 * the compatibility routes' replies) described as zod, so the OpenAPI document is generated from
 * schemas like everything else. Jobs and workflows themselves are JobView and WorkflowView.
 */
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../errors.js';
import { JobView } from './job.js';
import { WorkflowView } from './workflow.js';

/** The one error shape of every route: `{"error": {"code", "message", "details"?}}`. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

/** Compatibility routes add `success: false` beside the registry error. */
export const CompatErrorBody = ErrorBody.extend({ success: z.literal(false) });

export const JobPage = z.object({ items: z.array(JobView), next_cursor: z.string().nullable() });
export const WorkflowPage = z.object({ items: z.array(WorkflowView), next_cursor: z.string().nullable() });
export const JobBatch = z.object({ items: z.array(JobView) });

const Counts = z.record(z.string(), z.number());

export const StatsBody = z.object({
  jobs: z.object({ by_status: Counts, by_type: Counts }),
  workflows: z.object({ by_status: Counts }),
  queue: z.object({
    queued: Counts,
    running: Counts,
    running_by_worker: Counts,
    workers: z.number(),
  }),
  last_minute: z.object({
    window_seconds: z.number(),
    completed: z.number(),
    failed: z.number(),
    throughput_per_second: z.number(),
    latency_ms: z.object({
      p50: z.number(),
      p90: z.number(),
      p99: z.number(),
      p999: z.number(),
      max: z.number(),
      count: z.number(),
    }),
  }),
});

export const WorkerList = z.object({
  items: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      types: z.array(z.string()),
      capabilities: z.object({ gpu_memory_gb: z.number(), labels: z.array(z.string()) }),
      slots: z.number(),
      running: z.number(),
      connected_at: z.string(),
      last_seen: z.string(),
    }),
  ),
});

export const HealthBody = z.object({ status: z.literal('ok') });
export const ReadyBody = z.object({ status: z.literal('ready'), store: z.string() });

export const CompatSubmitReply = z.object({
  success: z.literal(true),
  job_id: z.string(),
  status: z.enum(['submitted', 'waiting']),
});

export const CompatJobStatusReply = z.object({
  success: z.literal(true),
  job: z.object({
    id: z.string(),
    type: z.string(),
    status: z.string(),
    progress: z.number(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
    result: z.unknown(),
    error: z.string().nullable(),
    worker_id: z.string().nullable(),
    machine_id: z.null(),
    workflow_id: z.string().nullable(),
  }),
});

/** A cancel that went through (`success: true`) or was refused for the resource's status (400). */
export const CompatMessageReply = z.object({ success: z.boolean(), message: z.string() });

const StatusTotals = {
  total: z.number(),
  pending: z.number(),
  running: z.number(),
  completed: z.number(),
  failed: z.number(),
  cancelled: z.number(),
};
const Timeframe = z.enum(['hour', 'day', 'week']);

export const CompatJobStatsReply = z.object({
  success: z.literal(true),
  stats: z.object({ ...StatusTotals, by_type: Counts }),
  timeframe: Timeframe,
});
export const CompatWorkflowStatsReply = z.object({
  success: z.literal(true),
  stats: z.object(StatusTotals),
  timeframe: Timeframe,
});

export const CompatWorkflowCreated = z.object({
  success: z.literal(true),
  workflow_id: z.string(),
  job_ids: z.array(z.string()),
});

export const CompatWorkflowStatusReply = z.object({
  success: z.literal(true),
  workflow: z.object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    status: z.string(),
    total_steps: z.number(),
    completed_steps: z.number(),
    progress_percentage: z.number(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
  }),
  steps: z.array(
    z.object({
      step_index: z.number(),
      job_id: z.string(),
      status: z.string(),
      progress: z.number(),
      result: z.unknown(),
      error: z.string().nullable(),
      started_at: z.string().nullable(),
      completed_at: z.string().nullable(),
    }),
  ),
});

/** `?timeframe=` of the compatibility stats routes. */
export const TimeframeQuery = z.object({ timeframe: Timeframe.optional() });
