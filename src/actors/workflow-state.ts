/**
 * The workflow actor's contract: its state, the messages it takes and the ids of its step jobs.
 * Kept apart from the DAG logic (workflow.ts) so views and the API can depend on the shape alone.
 */
import type { ActorRef } from '../runtime/actor.js';
import type { JobError } from '../schemas/common.js';
import type { JobStatus } from '../schemas/job.js';
import type { OnFailure, StepSpec, WorkflowStatus } from '../schemas/workflow.js';
import type { PlannedStep } from './dag.js';
import type { WorkflowMsg as StepMsg } from './workflow-messages.js';

export interface StepState {
  index: number;
  name: string;
  dependsOn: number[];
  spec: StepSpec;
  jobId: string;
  status: JobStatus;
  attempts: number;
  output: unknown;
  error: JobError | null;
  cost: number | null;
  startedAt: number | null;
  completedAt: number | null;
  /** A completion that arrived after the run ended: kept out of the reported run, used by a retry. */
  late?: Partial<StepState> | null;
}

export interface WorkflowState {
  id: string;
  name: string;
  definition: string | null;
  version: number | null;
  status: WorkflowStatus;
  onFailure: OnFailure;
  input: unknown;
  steps: StepState[];
  webhookUrl: string | null;
  idempotencyKey: string | null;
  metadata: Record<string, unknown> | null;
  traceId: string | null;
  createdAt: number;
  completedAt: number | null;
}

export interface NewWorkflow {
  id: string;
  name: string;
  definition: string | null;
  version: number | null;
  onFailure: OnFailure;
  input: unknown;
  steps: StepSpec[];
  plan: PlannedStep[];
  webhookUrl: string | null;
  idempotencyKey: string | null;
  metadata: Record<string, unknown> | null;
  traceId: string | null;
  createdAt: number;
}

export type WorkflowMsg =
  | StepMsg
  /** `fresh`: the workflow's id was just generated, so its step jobs (ids derived from it) never existed. */
  | { type: 'create'; workflow: NewWorkflow; fresh?: boolean }
  | { type: 'get' }
  | { type: 'cancel'; reason?: string }
  | { type: 'retry' }
  | { type: 'expire' }
  /** The timer that asks released steps to report again; `afterMs` is how long it waited. */
  | { type: 'watch'; afterMs: number };

export const WORKFLOW_KIND = 'workflow';

export function workflowRef(id: string): ActorRef {
  return { kind: WORKFLOW_KIND, id };
}

export function stepJobId(workflowId: string, index: number): string {
  return `${workflowId}-${index}`;
}
