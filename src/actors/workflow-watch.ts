/**
 * A workflow's watch: the durable timer by which a run in progress asks its released, unfinished
 * steps to report again, so that a step end or a release lost on the way (both plain messages) is
 * recovered without an outbox. The workflow actor (workflow.ts) arms it, cancels it when the run
 * ends, and routes `watch` and `step_waiting` here.
 */
import type { ActorContext } from '../runtime/actor.js';
import type { JobError } from '../schemas/common.js';
import { isTerminalJobStatus } from '../schemas/job.js';
import type { WorkflowStatus } from '../schemas/workflow.js';
import type { JobMsg, StepRelease } from './job.js';
import { jobRef } from './job.js';
import type { StepState, WorkflowMsg, WorkflowState } from './workflow-state.js';

type Ctx = ActorContext<WorkflowMsg>;

/** How the workflow resolves a step's release (workflow.ts `resolveStep`). */
type ResolveStep = (
  wf: WorkflowState,
  steps: readonly StepState[],
  step: StepState,
) => StepRelease | { error: JobError };

/**
 * A step tells its end with a plain message once its job's state is durable; a crash (or a failed
 * write here) before this workflow's write may lose it. A release is a plain message too, lost if
 * the step's write fails. So while a run is in progress a `watch` timer asks the steps released
 * and not yet finished here to report again (job.ts `report`): a finished step tells its end
 * again, and one still waiting says so and is released again. The watch wakes 2 s after the run
 * starts, then at doubling intervals up to a minute; a run that ends first never wakes. Through
 * outboxes instead, each step end cost a confirmation and a write of its own, and each release a
 * confirmation and a place in the workflow's outbox.
 *
 * Not later than 2 s: a finished actor leaves memory at once only if the firings it leaves behind
 * come within the span departed-timers.ts remembers (2.5 s with the default redelivery); with a
 * first watch at 5 s every finished workflow stayed in memory until its idle sweep.
 */
export const WATCH_FIRST_MS = 2_000;
const WATCH_MAX_MS = 60_000;

/**
 * The watch of one workflow logic. `options` is the logic's own (read at each arming),
 * `terminal` its ended statuses and `resolveStep` its resolution, so a release sent again is the
 * one the workflow would send.
 */
export function createWorkflowWatch(
  options: { readonly watchSteps: boolean },
  terminal: ReadonlySet<WorkflowStatus>,
  resolveStep: ResolveStep,
) {
  function armWatch(afterMs: number, ctx: Ctx): void {
    if (options.watchSteps) ctx.setTimer('watch', ctx.now + afterMs, { type: 'watch', afterMs });
  }

  /** A step released here answered the watch that it still waits: its release was lost. */
  function stepWaiting(wf: WorkflowState, index: number, ctx: Ctx): WorkflowState {
    const step = wf.steps[index];
    if (step?.status !== 'pending' || terminal.has(wf.status)) return wf;
    // Resolved from the same completed outputs as the first time, so it is the same release.
    const resolved = resolveStep(wf, wf.steps, step);
    if (!('error' in resolved))
      ctx.tell(jobRef(step.jobId), { type: 'release', ...resolved } satisfies JobMsg);
    return wf;
  }

  /** Asks every step released and not finished here to report again (see WATCH_FIRST_MS). */
  function watch(wf: WorkflowState, afterMs: number, ctx: Ctx): WorkflowState {
    if (terminal.has(wf.status)) return wf;
    for (const step of wf.steps) {
      if (step.status === 'waiting' || isTerminalJobStatus(step.status)) continue;
      ctx.tell(jobRef(step.jobId), { type: 'report' } satisfies JobMsg);
    }
    armWatch(Math.min(afterMs * 2, WATCH_MAX_MS), ctx);
    return wf;
  }

  return { armWatch, stepWaiting, watch };
}
