/**
 * The workflow actor: a DAG of step jobs. It creates every step's job up front (waiting, or
 * pending for roots), releases a step once all its dependencies completed (resolving templates
 * then), applies `on_failure`, and emits exactly one terminal event per run with `step_details`.
 * Everything it tells its jobs, and everything they tell it back, travels reliably.
 */
import { MailroomError } from '../errors.js';
import type { ActorContext } from '../runtime/actor.js';
import { defineActor } from '../runtime/actor.js';
import { isoAt, type JobError } from '../schemas/common.js';
import type { DistributiveOmit, EventDraft } from '../schemas/events.js';
import { isTerminalJobStatus } from '../schemas/job.js';
import type { WorkflowStatus } from '../schemas/workflow.js';
import { descendants } from './dag.js';
import { eventId } from './ids.js';
import type { JobMsg, StepRelease } from './job.js';
import { jobRef } from './job.js';
import type { JobFactory } from './job-factory.js';
import { RETENTION_TIMERS } from './retention.js';
import { buildStepDetails, totalCost } from './step-details.js';
import { resolveTemplates, TemplateError } from './templates.js';
import type { StepFinished } from './workflow-messages.js';
import { workflowSnapshot } from './workflow-snapshot.js';
import type { NewWorkflow, StepState, WorkflowMsg, WorkflowState } from './workflow-state.js';
import { stepJobId } from './workflow-state.js';
import { createWorkflowWatch, WATCH_FIRST_MS } from './workflow-watch.js';

export type { NewWorkflow, StepState, WorkflowMsg, WorkflowState } from './workflow-state.js';
export { stepJobId, WORKFLOW_KIND, workflowRef } from './workflow-state.js';

export interface WorkflowLogicOptions {
  factory: JobFactory;
  retentionMs: number;
  /**
   * Whether a run in progress keeps a `watch` (WATCH_FIRST_MS). Only a durable store needs one:
   * in the embedded store a step's end is lost only with the whole process.
   */
  watchSteps: boolean;
}

type Ctx = ActorContext<WorkflowMsg>;
type Workflow = WorkflowState | null;

const TERMINAL: ReadonlySet<WorkflowStatus> = new Set(['completed', 'failed', 'cancelled']);

export function createWorkflowLogic(options: WorkflowLogicOptions) {
  const { factory } = options;
  const { armWatch, stepWaiting, watch } = createWorkflowWatch(options, TERMINAL, resolveStep);

  function create(existing: Workflow, spec: NewWorkflow, fresh: boolean, ctx: Ctx): Workflow {
    if (existing) {
      ctx.reply(existing);
      return existing;
    }
    const steps: StepState[] = spec.steps.map((step, index) => ({
      index,
      name: spec.plan[index]!.name,
      dependsOn: spec.plan[index]!.dependsOn,
      spec: step,
      jobId: stepJobId(spec.id, index),
      status: 'waiting',
      attempts: 0,
      output: null,
      error: null,
      cost: null,
      startedAt: null,
      completedAt: null,
    }));
    let wf: WorkflowState = {
      id: spec.id,
      name: spec.name,
      definition: spec.definition,
      version: spec.version,
      status: 'running',
      onFailure: spec.onFailure,
      input: spec.input === undefined ? null : spec.input,
      steps,
      webhookUrl: spec.webhookUrl,
      idempotencyKey: spec.idempotencyKey,
      metadata: spec.metadata,
      traceId: spec.traceId,
      createdAt: spec.createdAt,
      completedAt: null,
    };
    emit(ctx, wf, { type: 'workflow_submitted', total_steps: steps.length });
    // Every step's job exists from the start (so it can be listed and fetched). A root whose input
    // resolves is created released: one message, one confirmation and one job write fewer than a
    // separate release. A root that cannot resolve is failed by releaseReady below.
    const releasedRoots: number[] = [];
    for (const step of steps) {
      const resolved = step.dependsOn.length === 0 ? resolveStep(wf, steps, step) : null;
      const release = resolved && !('error' in resolved) ? resolved : undefined;
      if (release) releasedRoots.push(step.index);
      const job = factory.build({
        id: step.jobId,
        type: step.spec.type,
        options: step.spec,
        input: step.dependsOn.length === 0 ? null : step.spec.input,
        waiting: true,
        workflowId: wf.id,
        step: step.index,
        traceId: wf.traceId,
        now: ctx.now,
      });
      ctx.tellReliably(jobRef(step.jobId), { type: 'create', job, release } satisfies JobMsg, { fresh });
    }
    if (releasedRoots.length > 0) {
      let released = wf.steps;
      for (const index of releasedRoots) released = replaceStep(released, index, { status: 'pending' });
      wf = { ...wf, steps: released };
    }
    armWatch(WATCH_FIRST_MS, ctx);
    wf = releaseReady(wf, ctx);
    ctx.reply(wf);
    return wf;
  }

  /** Releases every waiting step whose dependencies all completed; a template that cannot resolve fails the step. */
  function releaseReady(wf: WorkflowState, ctx: Ctx): WorkflowState {
    if (TERMINAL.has(wf.status)) return wf;
    let steps = wf.steps;
    const failures: number[] = [];
    for (const step of wf.steps) {
      if (step.status !== 'waiting') continue;
      if (!step.dependsOn.every((dep) => steps[dep]!.status === 'completed')) continue;
      const resolved = resolveStep(wf, steps, step);
      if ('error' in resolved) {
        ctx.tellReliably(jobRef(step.jobId), {
          type: 'unresolvable',
          error: resolved.error,
        } satisfies JobMsg);
        steps = replaceStep(steps, step.index, {
          status: 'failed',
          error: resolved.error,
          completedAt: ctx.now,
        });
        failures.push(step.index);
        continue;
      }
      // A plain message: a release lost with the step's write is sent again when the watch finds
      // the step still waiting (stepWaiting).
      ctx.tell(jobRef(step.jobId), { type: 'release', ...resolved } satisfies JobMsg);
      steps = replaceStep(steps, step.index, { status: 'pending' });
    }
    let next = steps === wf.steps ? wf : { ...wf, steps };
    for (const index of failures) next = applyFailurePolicy(next, index, ctx);
    return settle(next, ctx);
  }

  /** A step's input with its templates resolved and checked, and what it needs; or why it cannot run. */
  function resolveStep(
    wf: WorkflowState,
    steps: readonly StepState[],
    step: StepState,
  ): StepRelease | { error: JobError } {
    let input: unknown;
    try {
      input = resolveTemplates(step.spec.input, { input: wf.input, outputs: outputsByName(steps) });
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      return { error: { code: 'TEMPLATE_UNRESOLVED', message: error.message, retryable: false } };
    }
    const problems = factory.validateInput(step.spec.type, input);
    if (problems.length > 0) {
      const message = `resolved input is invalid: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`;
      return { error: { code: 'VALIDATION_FAILED', message, retryable: false } };
    }
    const needs = factory.needsFor(step.spec.type, input, step.spec.requirements);
    // A step without input resolved to undefined, which left `input`/`output` missing from the
    // job and step_details (JSON drops undefined); absent input is null everywhere else.
    return { input: input === undefined ? null : input, needs };
  }

  function stepFinished(wf: WorkflowState, msg: StepFinished, ctx: Ctx): WorkflowState {
    const step = wf.steps[msg.step];
    if (!step) return wf;
    const outcome: Partial<StepState> = {
      status: msg.status,
      output: msg.output,
      error: msg.error,
      cost: msg.cost,
      attempts: msg.attempts,
      startedAt: msg.startedAt,
      completedAt: msg.completedAt,
    };
    if (TERMINAL.has(wf.status) || isTerminalJobStatus(step.status)) {
      if (msg.status !== 'completed' || step.status === 'completed') return wf;
      // After the run ended its step_details were published in the terminal event; changing them
      // now made the resource disagree with that event (SPEC: one canonical array). The result is
      // kept aside instead, so a retry reuses it rather than waiting on a job that already finished.
      if (TERMINAL.has(wf.status))
        return { ...wf, steps: replaceStep(wf.steps, step.index, { late: outcome }) };
      return { ...wf, steps: replaceStep(wf.steps, step.index, outcome) };
    }
    let next: WorkflowState = { ...wf, steps: replaceStep(wf.steps, step.index, outcome) };
    if (msg.status === 'completed') {
      const completed = next.steps.filter((s) => s.status === 'completed').length;
      emit(ctx, next, {
        type: 'workflow_step_completed',
        step_index: step.index,
        step_name: step.name,
        job_id: step.jobId,
        completed_steps: completed,
        total_steps: next.steps.length,
      });
      return releaseReady(next, ctx);
    }
    next = applyFailurePolicy(next, step.index, ctx);
    return settle(next, ctx);
  }

  /** A failed (or externally cancelled) step: fail_fast cancels the rest; continue cancels only what depended on it. */
  function applyFailurePolicy(wf: WorkflowState, failed: number, ctx: Ctx): WorkflowState {
    const doomed =
      wf.onFailure === 'fail_fast'
        ? new Set(wf.steps.map((s) => s.index))
        : descendants(
            wf.steps.map((s) => ({ index: s.index, name: s.name, dependsOn: s.dependsOn })),
            failed,
          );
    let steps = wf.steps;
    for (const index of doomed) {
      const step = steps[index]!;
      if (index === failed || isTerminalJobStatus(step.status)) continue;
      ctx.tellReliably(jobRef(step.jobId), {
        type: 'cancel',
        reason: `workflow step "${wf.steps[failed]!.name}" failed`,
      } satisfies JobMsg);
      steps = replaceStep(steps, index, { status: 'cancelled', completedAt: ctx.now });
    }
    return steps === wf.steps ? wf : { ...wf, steps };
  }

  /** Ends the run once every step is terminal: exactly one terminal event. */
  function settle(wf: WorkflowState, ctx: Ctx): WorkflowState {
    if (TERMINAL.has(wf.status)) return wf;
    if (!wf.steps.every((step) => isTerminalJobStatus(step.status))) return wf;
    const failedStep =
      wf.steps.find((step) => step.status === 'failed') ??
      wf.steps.find((step) => step.status === 'cancelled');
    const next: WorkflowState = { ...wf, status: failedStep ? 'failed' : 'completed', completedAt: ctx.now };
    ctx.cancelTimer('watch');
    ctx.setTimer('expire', ctx.now + options.retentionMs, { type: 'expire' });
    const details = buildStepDetails(next);
    const cost = totalCost(next);
    if (failedStep) {
      const error: JobError = failedStep.error ?? {
        code: 'STEP_CANCELLED',
        message: `step "${failedStep.name}" was cancelled`,
        retryable: true,
      };
      emit(ctx, next, { type: 'workflow_failed', step_details: details, cost, error });
    } else {
      emit(ctx, next, { type: 'workflow_completed', step_details: details, cost });
    }
    return next;
  }

  function cancel(wf: WorkflowState, reason: string | null, ctx: Ctx): WorkflowState {
    if (TERMINAL.has(wf.status)) {
      ctx.replyError(new MailroomError('INVALID_STATE', `cannot cancel workflow in status: ${wf.status}`));
      return wf;
    }
    let steps = wf.steps;
    for (const step of wf.steps) {
      if (isTerminalJobStatus(step.status)) continue;
      ctx.tellReliably(jobRef(step.jobId), {
        type: 'cancel',
        reason: reason ?? 'workflow cancelled',
      } satisfies JobMsg);
      steps = replaceStep(steps, step.index, { status: 'cancelled', completedAt: ctx.now });
    }
    const next: WorkflowState = { ...wf, steps, status: 'cancelled', completedAt: ctx.now };
    ctx.cancelTimer('watch');
    ctx.setTimer('expire', ctx.now + options.retentionMs, { type: 'expire' });
    emit(ctx, next, {
      type: 'workflow_cancelled',
      step_details: buildStepDetails(next),
      cost: totalCost(next),
      reason,
    });
    ctx.reply(next);
    return next;
  }

  /** Re-runs only failed and never-run steps; completed steps keep their outputs. */
  function retry(wf: WorkflowState, ctx: Ctx): WorkflowState {
    if (wf.status !== 'failed' && wf.status !== 'cancelled') {
      ctx.replyError(
        new MailroomError(
          'INVALID_STATE',
          `only failed or cancelled workflows can be retried, not ${wf.status}`,
        ),
      );
      return wf;
    }
    ctx.cancelTimer('expire');
    let steps = wf.steps;
    for (const step of wf.steps) {
      if (step.status === 'completed') continue;
      if (step.late) {
        steps = replaceStep(steps, step.index, { ...step.late, late: null });
        continue;
      }
      ctx.tellReliably(jobRef(step.jobId), { type: 'rewait' } satisfies JobMsg);
      steps = replaceStep(steps, step.index, {
        status: 'waiting',
        error: null,
        output: null,
        cost: null,
        attempts: 0,
        startedAt: null,
        completedAt: null,
      });
    }
    armWatch(WATCH_FIRST_MS, ctx);
    const next = releaseReady({ ...wf, steps, status: 'running', completedAt: null }, ctx);
    ctx.reply(next);
    return next;
  }

  return defineActor<Workflow, WorkflowMsg>({
    initial: () => null,
    backgroundTimers: RETENTION_TIMERS,
    removalTimers: RETENTION_TIMERS,
    snapshot: workflowSnapshot,
    finished: (wf) => wf !== null && TERMINAL.has(wf.status),
    index: (wf) => {
      if (!wf) return { live: false };
      return {
        // In progress is `status:running`.
        live: false,
        tags: [`status:${wf.status}`, `name:${wf.name}`],
        score: wf.createdAt,
      };
    },
    receive(wf, msg, ctx) {
      if (msg.type === 'create') return create(wf, msg.workflow, msg.fresh === true, ctx);
      if (!wf) {
        if (msg.type === 'get' || msg.type === 'cancel' || msg.type === 'retry') {
          ctx.replyError(new MailroomError('NOT_FOUND', `workflow ${ctx.self.id} not found`));
        }
        return wf;
      }
      switch (msg.type) {
        case 'get':
          ctx.reply(wf);
          return wf;
        case 'step_started': {
          const step = wf.steps[msg.step];
          if (!step || isTerminalJobStatus(step.status) || TERMINAL.has(wf.status)) return wf;
          // Informational (step_finished brings attempts and start time again): no write of its own.
          ctx.deferWrite();
          return {
            ...wf,
            steps: replaceStep(wf.steps, step.index, {
              status: 'running',
              attempts: msg.attempts,
              startedAt: msg.startedAt,
            }),
          };
        }
        case 'step_finished':
          return stepFinished(wf, msg, ctx);
        case 'step_waiting':
          return stepWaiting(wf, msg.step, ctx);
        case 'cancel':
          return cancel(wf, msg.reason ?? null, ctx);
        case 'retry':
          return retry(wf, ctx);
        case 'expire':
          if (TERMINAL.has(wf.status)) ctx.remove();
          return wf;
        case 'watch':
          return watch(wf, msg.afterMs, ctx);
      }
    },
  });
}

function outputsByName(steps: readonly StepState[]): Map<string, unknown> {
  const outputs = new Map<string, unknown>();
  for (const step of steps) if (step.status === 'completed') outputs.set(step.name, step.output);
  return outputs;
}

function replaceStep(steps: StepState[], index: number, changes: Partial<StepState>): StepState[] {
  const copy = steps.slice();
  copy[index] = { ...steps[index]!, ...changes };
  return copy;
}

type WorkflowEventBody = DistributiveOmit<
  Extract<EventDraft, { workflow_name: string }>,
  'id' | 'seq' | 'at' | 'trace_id' | 'workflow_id' | 'workflow_name'
>;

function emit(ctx: Ctx, wf: WorkflowState, body: WorkflowEventBody): void {
  // Common fields first and `seq` reserved: V8 copies a spread fast only when no new keys follow it.
  ctx.emit({
    id: eventId(),
    seq: 0,
    at: isoAt(ctx.now),
    trace_id: wf.traceId,
    workflow_id: wf.id,
    workflow_name: wf.name,
    ...body,
  });
}
