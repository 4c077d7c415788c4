/**
 * What the OpenAPI document says about each route: the named request and reply schemas (its
 * components) and one entry per route the router registers (transport/openapi.ts builds the
 * document from these; a test checks every registered route has its entry).
 */
import type { z } from 'zod';
import { MailroomEvent } from '../schemas/events.js';
import {
  CancelBody,
  CompatCancelBody,
  CompatJobSubmit,
  CompatWorkflowSubmit,
  ListJobsQuery,
  ListWorkflowsQuery,
} from '../schemas/http.js';
import { BatchSpec, JobSpec, JobView } from '../schemas/job.js';
import {
  CompatErrorBody,
  CompatJobStatsReply,
  CompatJobStatusReply,
  CompatMessageReply,
  CompatSubmitReply,
  CompatWorkflowCreated,
  CompatWorkflowStatsReply,
  CompatWorkflowStatusReply,
  ErrorBody,
  HealthBody,
  JobBatch,
  JobPage,
  ReadyBody,
  StatsBody,
  TimeframeQuery,
  WorkerList,
  WorkflowPage,
} from '../schemas/responses.js';
import { EventsQuery } from '../schemas/sse.js';
import { StepDetail, WorkflowSpec, WorkflowView } from '../schemas/workflow.js';

/** Named request schemas (components, described as accepted). */
export const INPUTS = {
  JobSpec,
  BatchSpec,
  WorkflowSpec,
  CancelBody,
  CompatJobSubmit,
  CompatWorkflowSubmit,
  CompatCancelBody,
} satisfies Record<string, z.ZodType>;

/** Named reply schemas (components, described as produced). */
export const OUTPUTS = {
  JobView,
  WorkflowView,
  StepDetail,
  JobPage,
  WorkflowPage,
  JobBatch,
  StatsBody,
  WorkerList,
  HealthBody,
  ReadyBody,
  MailroomEvent,
  Error: ErrorBody,
  CompatError: CompatErrorBody,
  CompatSubmitReply,
  CompatJobStatusReply,
  CompatMessageReply,
  CompatJobStatsReply,
  CompatWorkflowStatsReply,
  CompatWorkflowCreated,
  CompatWorkflowStatusReply,
} satisfies Record<string, z.ZodType>;

type InputName = keyof typeof INPUTS;
type OutputName = keyof typeof OUTPUTS;

export interface Reply {
  description: string;
  /** A component name, or a content type with an example schema for non-JSON replies. */
  schema?: OutputName;
  content?: { type: string; schema: Record<string, unknown> };
}

export interface Operation {
  method: string;
  /** As the router registers it (`/api/v1/jobs/:id`). */
  path: string;
  summary: string;
  tag: string;
  query?: z.ZodObject;
  body?: InputName;
  /** Body optional (cancel reasons). */
  bodyOptional?: boolean;
  replies: Record<string, Reply>;
  /** Open without an API key. */
  public?: boolean;
}

const job = (status: string, description: string): Record<string, Reply> => ({
  [status]: { description, schema: 'JobView' },
});
const workflow = (status: string, description: string): Record<string, Reply> => ({
  [status]: { description, schema: 'WorkflowView' },
});

export const OPERATIONS: readonly Operation[] = [
  {
    method: 'GET',
    path: '/health',
    tag: 'operations',
    summary: 'Liveness: the process answers (never touches the store)',
    replies: { 200: { description: 'Alive', schema: 'HealthBody' } },
    public: true,
  },
  {
    method: 'GET',
    path: '/health/ready',
    tag: 'operations',
    summary: 'Readiness: the store answers',
    replies: {
      200: { description: 'Ready', schema: 'ReadyBody' },
      503: { description: 'The store is unreachable (STORE_UNAVAILABLE)', schema: 'Error' },
    },
    public: true,
  },
  {
    method: 'GET',
    path: '/metrics',
    tag: 'operations',
    summary: 'Prometheus metrics (text exposition format)',
    replies: {
      200: {
        description: 'Metrics',
        content: { type: 'text/plain; version=0.0.4; charset=utf-8', schema: { type: 'string' } },
      },
    },
  },
  {
    method: 'GET',
    path: '/openapi.json',
    tag: 'operations',
    summary: 'This document',
    replies: {
      200: {
        description: 'OpenAPI 3.1 document',
        content: { type: 'application/json', schema: { type: 'object' } },
      },
    },
  },
  {
    method: 'POST',
    path: '/api/v1/jobs',
    tag: 'jobs',
    summary: 'Submit a job',
    body: 'JobSpec',
    replies: {
      ...job('202', 'Accepted (durable when the store is)'),
      ...job('200', 'An earlier job with the same idempotency_key'),
    },
  },
  {
    method: 'POST',
    path: '/api/v1/jobs/batch',
    tag: 'jobs',
    summary: 'Submit up to 1,000 jobs in one durable write',
    body: 'BatchSpec',
    replies: { 202: { description: 'Accepted, in request order', schema: 'JobBatch' } },
  },
  {
    method: 'GET',
    path: '/api/v1/jobs',
    tag: 'jobs',
    summary: 'List jobs, newest first',
    query: ListJobsQuery,
    replies: { 200: { description: 'A page of jobs', schema: 'JobPage' } },
  },
  {
    method: 'GET',
    path: '/api/v1/jobs/:id',
    tag: 'jobs',
    summary: 'Fetch a job',
    replies: job('200', 'The job'),
  },
  {
    method: 'POST',
    path: '/api/v1/jobs/:id/cancel',
    tag: 'jobs',
    summary: 'Cancel a waiting, delayed, pending or running job',
    body: 'CancelBody',
    bodyOptional: true,
    replies: job('200', 'The cancelled job'),
  },
  {
    method: 'POST',
    path: '/api/v1/jobs/:id/retry',
    tag: 'jobs',
    summary: 'Retry a failed or cancelled job',
    replies: job('200', 'The job, pending again'),
  },
  {
    method: 'POST',
    path: '/api/v1/workflows',
    tag: 'workflows',
    summary: 'Submit a workflow run (a DAG of steps)',
    body: 'WorkflowSpec',
    replies: {
      ...workflow('202', 'Accepted'),
      ...workflow('200', 'An earlier run with the same idempotency_key'),
    },
  },
  {
    method: 'GET',
    path: '/api/v1/workflows',
    tag: 'workflows',
    summary: 'List workflow runs, newest first',
    query: ListWorkflowsQuery,
    replies: { 200: { description: 'A page of runs', schema: 'WorkflowPage' } },
  },
  {
    method: 'GET',
    path: '/api/v1/workflows/:id',
    tag: 'workflows',
    summary: 'Fetch a workflow run with its step_details',
    replies: workflow('200', 'The run'),
  },
  {
    method: 'POST',
    path: '/api/v1/workflows/:id/cancel',
    tag: 'workflows',
    summary: 'Cancel a run and its unfinished steps',
    body: 'CancelBody',
    bodyOptional: true,
    replies: workflow('200', 'The cancelled run'),
  },
  {
    method: 'POST',
    path: '/api/v1/workflows/:id/retry',
    tag: 'workflows',
    summary: 'Re-run the failed and never-run steps of a failed run',
    replies: workflow('200', 'The run, running again'),
  },
  {
    method: 'GET',
    path: '/api/v1/stats',
    tag: 'operations',
    summary: "Counts by status and type, queue depth, the last minute's throughput and latency",
    replies: { 200: { description: 'Stats', schema: 'StatsBody' } },
  },
  {
    method: 'GET',
    path: '/api/v1/workers',
    tag: 'operations',
    summary: 'Connected remote workers',
    replies: { 200: { description: 'Workers', schema: 'WorkerList' } },
  },
  {
    method: 'GET',
    path: '/api/v1/events',
    tag: 'events',
    summary:
      'Server-Sent Events on topics, resumable with Last-Event-ID (header) or ?last_event_id= / ?since=; the key may come as ?key=',
    query: EventsQuery,
    replies: {
      200: {
        description:
          'text/event-stream: `id: <cursor>`, `event: <event type>`, `data: <MailroomEvent JSON>` frames; ' +
          '`event: reset` (`data: {"topic"}`) when the cursor cannot be resumed; `event: subscribed` ' +
          '(`data: {"cursor", "topics"}`) once live; `: ping` comments every 15 s',
        content: { type: 'text/event-stream', schema: { $ref: '#/components/schemas/MailroomEvent' } },
      },
    },
  },
  {
    method: 'POST',
    path: '/api/jobs/submit',
    tag: 'compatibility',
    summary: 'Submit a job (replaced service; prompt and parameters become the input)',
    body: 'CompatJobSubmit',
    replies: {
      200: { description: 'Submitted', schema: 'CompatSubmitReply' },
      400: { description: 'JOB_SUBMISSION_FAILED', schema: 'CompatError' },
    },
  },
  {
    method: 'GET',
    path: '/api/jobs/stats',
    tag: 'compatibility',
    summary: 'Job counts over a timeframe',
    query: TimeframeQuery,
    replies: {
      200: { description: 'Counts', schema: 'CompatJobStatsReply' },
      400: { description: 'INVALID_TIMEFRAME', schema: 'CompatError' },
    },
  },
  {
    method: 'GET',
    path: '/api/jobs/:id/status',
    tag: 'compatibility',
    summary: 'A job in the replaced service’s shape',
    replies: {
      200: { description: 'The job', schema: 'CompatJobStatusReply' },
      404: { description: 'JOB_NOT_FOUND', schema: 'CompatError' },
    },
  },
  {
    method: 'POST',
    path: '/api/jobs/:id/cancel',
    tag: 'compatibility',
    summary: 'Cancel a job that has not started',
    body: 'CompatCancelBody',
    bodyOptional: true,
    replies: {
      200: { description: 'Cancelled', schema: 'CompatMessageReply' },
      400: { description: 'Not cancellable in its status', schema: 'CompatMessageReply' },
      404: { description: 'JOB_NOT_FOUND', schema: 'CompatError' },
    },
  },
  {
    method: 'POST',
    path: '/api/workflows',
    tag: 'compatibility',
    summary: 'Create a workflow (steps by index, 1–50)',
    body: 'CompatWorkflowSubmit',
    replies: {
      200: { description: 'Created', schema: 'CompatWorkflowCreated' },
      400: { description: 'WORKFLOW_CREATION_FAILED', schema: 'CompatError' },
    },
  },
  {
    method: 'GET',
    path: '/api/workflows/stats',
    tag: 'compatibility',
    summary: 'Workflow counts over a timeframe',
    query: TimeframeQuery,
    replies: {
      200: { description: 'Counts', schema: 'CompatWorkflowStatsReply' },
      400: { description: 'INVALID_TIMEFRAME', schema: 'CompatError' },
    },
  },
  {
    method: 'GET',
    path: '/api/workflows/:id/status',
    tag: 'compatibility',
    summary: 'A workflow and its steps in the replaced service’s shape',
    replies: {
      200: { description: 'The workflow', schema: 'CompatWorkflowStatusReply' },
      404: { description: 'WORKFLOW_NOT_FOUND', schema: 'CompatError' },
    },
  },
  {
    method: 'POST',
    path: '/api/workflows/:id/cancel',
    tag: 'compatibility',
    summary: 'Cancel a workflow',
    replies: {
      200: { description: 'Cancelled (n/m jobs)', schema: 'CompatMessageReply' },
      400: { description: 'Already finished', schema: 'CompatMessageReply' },
      404: { description: 'WORKFLOW_NOT_FOUND', schema: 'CompatError' },
    },
  },
];
