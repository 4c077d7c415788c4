/**
 * Messages a workflow actor receives from its step jobs, sent once the job's state is durable.
 * None travels through the job's outbox: a crash between "job completed" and "workflow advanced"
 * is healed by the workflow, which asks its released steps to report again while its run is in
 * progress (workflow-watch.ts).
 */
import type { JobError } from '../schemas/common.js';

export type StepFinished = {
  type: 'step_finished';
  step: number;
  status: 'completed' | 'failed' | 'cancelled';
  output: unknown;
  error: JobError | null;
  cost: number | null;
  attempts: number;
  startedAt: number | null;
  completedAt: number;
};

export type WorkflowMsg =
  | StepFinished
  | { type: 'step_started'; step: number; attempts: number; startedAt: number }
  /** The answer of a step still waiting to the workflow's watch: its release did not arrive. */
  | { type: 'step_waiting'; step: number };
