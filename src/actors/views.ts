/**
 * The public shapes of jobs and workflows (what HTTP, WebSocket and the SDK return), built from
 * actor state in exactly one place each.
 */
import { EncodedInput, SPLICED_JSON, type SplicedJson } from '../runtime/pool/encoded-input.js';
import { isoTime } from '../schemas/common.js';
import type { JobView } from '../schemas/job.js';
import type { WorkflowView } from '../schemas/workflow.js';
import type { JobState } from './job.js';
import { buildStepDetails, totalCost } from './step-details.js';
import type { WorkflowState } from './workflow.js';

export function jobView(job: JobState): JobView {
  const encoded = job.input instanceof EncodedInput ? job.input : null;
  const view: JobView = {
    id: job.id,
    type: job.type,
    status: job.status,
    priority: job.priority,
    progress: job.progress,
    attempts: job.attempts,
    max_attempts: job.maxAttempts,
    input: encoded ? null : job.input,
    output: job.output,
    error: job.error,
    cost: job.cost,
    worker_id: job.workerId,
    workflow_id: job.workflowId,
    step: job.step,
    idempotency_key: job.idempotencyKey,
    metadata: job.metadata,
    run_at: isoTime(job.runAt),
    created_at: isoTime(job.createdAt)!,
    started_at: isoTime(job.startedAt),
    completed_at: isoTime(job.completedAt),
  };
  return encoded ? withEncodedInput(view, encoded) : view;
}

/**
 * A view of a job whose input is kept as JSON text: `input` reads as the value (decoded on each
 * read, for in-process callers), and the HTTP edge splices the text into its JSON reply instead
 * (SPLICED_JSON), so the reply never decodes or re-serializes the input.
 */
function withEncodedInput(template: JobView, encoded: EncodedInput): JobView {
  const view: JobView = { ...template };
  Object.defineProperty(view, 'input', { get: () => encoded.value(), enumerable: true, configurable: true });
  const spliced: SplicedJson = {
    template: template as unknown as Record<string, unknown>,
    key: 'input',
    json: encoded.json,
  };
  Object.defineProperty(view, SPLICED_JSON, { value: spliced });
  return view;
}

export function workflowView(wf: WorkflowState): WorkflowView {
  const completed = wf.steps.filter((step) => step.status === 'completed').length;
  return {
    id: wf.id,
    name: wf.name,
    definition: wf.definition,
    version: wf.version,
    status: wf.status,
    on_failure: wf.onFailure,
    total_steps: wf.steps.length,
    completed_steps: completed,
    progress_percentage: wf.steps.length === 0 ? 0 : Math.round((completed / wf.steps.length) * 100),
    cost: totalCost(wf),
    input: wf.input,
    step_details: buildStepDetails(wf),
    idempotency_key: wf.idempotencyKey,
    metadata: wf.metadata,
    created_at: isoTime(wf.createdAt)!,
    completed_at: isoTime(wf.completedAt),
  };
}

/**
 * `view`, remembered per state object: actor state is an immutable value, so the view of one
 * state never changes and is handed out frozen, the same object each time, until the state is
 * replaced. A job polled over HTTP is then built once per change, and the HTTP edge encodes a
 * frozen body once (exchange.ts), not once per request.
 */
export function frozenViews<S extends object, V extends object>(view: (state: S) => V): (state: S) => V {
  const views = new WeakMap<S, V>();
  return (state) => {
    let found = views.get(state);
    if (found === undefined) {
      found = Object.freeze(view(state));
      views.set(state, found);
    }
    return found;
  };
}
