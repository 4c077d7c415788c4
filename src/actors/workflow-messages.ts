/**
 * Messages a workflow actor receives from its step jobs. `step_finished` travels reliably (the
 * job's outbox) so a crash between "job completed" and "workflow advanced" heals.
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
  | { type: 'step_started'; step: number; attempts: number; startedAt: number };
