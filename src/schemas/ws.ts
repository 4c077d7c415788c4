/**
 * Frames of the two WebSocket protocols (SPEC §5 clients on `/ws`, §6 remote workers on
 * `/ws/worker`): what the server accepts, checked here, and what it sends, typed here.
 * Job and workflow bodies inside `submit_*` are checked later by the same code as the HTTP API.
 */
import { z } from 'zod';
import { JobError } from './common.js';
import type { MailroomEvent } from './events.js';
import type { JobView } from './job.js';
import type { WorkflowView } from './workflow.js';

/** Correlates a request with its `ack` or `error`; echoed as sent. */
const RequestId = z.union([z.string().max(200), z.number()]);
const Topic = z.string().min(1).max(300);
const Topics = z.array(Topic).min(1).max(1_000);
const Id = z.string().min(1).max(200);

export const ClientFrame = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('subscribe'),
    id: RequestId.optional(),
    topics: Topics,
    since: z.string().min(1).max(200).optional(),
  }),
  z.object({ op: z.literal('unsubscribe'), id: RequestId.optional(), topics: Topics }),
  z.object({ op: z.literal('submit_job'), id: RequestId, job: z.unknown() }),
  z.object({ op: z.literal('submit_workflow'), id: RequestId, workflow: z.unknown() }),
  z
    .object({
      op: z.literal('cancel'),
      id: RequestId,
      job_id: Id.optional(),
      workflow_id: Id.optional(),
      reason: z.string().max(1_000).optional(),
    })
    .refine((frame) => (frame.job_id === undefined) !== (frame.workflow_id === undefined), {
      message: 'give exactly one of job_id and workflow_id',
      path: ['job_id'],
    }),
  z.object({ op: z.literal('ping'), id: RequestId.optional() }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

export interface WireError {
  code: string;
  message: string;
  details?: { path: string; message: string }[];
}

export type ServerFrame =
  | { op: 'subscribed'; id?: string | number; cursor: string }
  | { op: 'unsubscribed'; id?: string | number; topics: string[] }
  | { op: 'event'; cursor: string; event: MailroomEvent }
  | { op: 'reset'; topic: string }
  | { op: 'ack'; id: string | number; job: JobView }
  | { op: 'ack'; id: string | number; workflow: WorkflowView }
  | { op: 'error'; id?: string | number; error: WireError }
  | { op: 'pong'; id?: string | number };

const Slots = z.number().int().min(0).max(10_000);

export const WorkerFrame = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('register'),
    name: z.string().min(1).max(200),
    types: z.array(z.string().min(1).max(128)).min(1).max(200),
    capabilities: z
      .object({
        gpu_memory_gb: z.number().min(0).max(100_000).optional(),
        labels: z.array(z.string().min(1).max(200)).max(200).optional(),
      })
      .default({}),
    slots: Slots.default(1),
  }),
  z.object({
    op: z.literal('progress'),
    job_id: Id,
    lease: z.string().min(1).max(200),
    progress: z.number().min(0).max(100),
    message: z.string().max(10_000).optional(),
  }),
  z.object({
    op: z.literal('complete'),
    job_id: Id,
    lease: z.string().min(1).max(200),
    output: z.unknown(),
    cost: z.number().min(0).optional(),
  }),
  z.object({ op: z.literal('fail'), job_id: Id, lease: z.string().min(1).max(200), error: JobError }),
  z.object({ op: z.literal('slots'), slots: Slots }),
  // Any frame proves the worker alive; these two exist for workers with nothing else to say.
  z.object({ op: z.literal('heartbeat') }),
  z.object({ op: z.literal('ping') }),
]);
export type WorkerFrame = z.infer<typeof WorkerFrame>;

export interface AssignedJob {
  id: string;
  type: string;
  input: unknown;
  attempt: number;
  lease: string;
  timeout_ms: number | null;
  /** ISO 8601; past it the attempt is timed out and the worker is sent `cancel`. */
  deadline: string | null;
}

export type ServerWorkerFrame =
  | { op: 'registered'; worker_id: string; heartbeat_ms: number }
  | { op: 'assign'; job: AssignedJob }
  | { op: 'cancel'; job_id: string; lease: string; reason: string }
  | { op: 'ok'; job_id?: string }
  | { op: 'error'; job_id?: string; error: WireError }
  | { op: 'pong' };
