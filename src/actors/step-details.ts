/**
 * A workflow's steps as clients see them: `step_details` (SPEC §2) is built here and only here,
 * for the workflow resource, its terminal event and the compatibility routes alike.
 */
import { isoTime } from '../schemas/common.js';
import type { WorkflowState } from './workflow-state.js';

/** The canonical per-step view of SPEC §2. */
export function buildStepDetails(wf: WorkflowState) {
  return wf.steps.map((step) => ({
    step_index: step.index,
    name: step.name,
    job_id: step.jobId,
    type: step.spec.type,
    status: step.status,
    attempts: step.attempts,
    output: step.output,
    error: step.status === 'failed' || step.status === 'cancelled' ? step.error : null,
    cost: step.cost,
    started_at: isoTime(step.startedAt),
    completed_at: isoTime(step.completedAt),
  }));
}

export function totalCost(wf: WorkflowState): number {
  let sum = 0;
  for (const step of wf.steps) if (step.cost !== null) sum += step.cost;
  return sum;
}
