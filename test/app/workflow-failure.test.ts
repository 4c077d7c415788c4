/**
 * What a failing or cancelled step does to its workflow: fail_fast cancels the rest, continue lets
 * independent branches finish and cancels only dependents, and a user cancel stops running steps.
 * Each run ends with exactly one terminal event whose step_details equal the workflow resource's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { iso, rejection, START, startWorkflowApp, type WorkflowApp } from '../fixtures/workflow-app.js';

let h: WorkflowApp;
afterEach(async () => {
  await h?.close();
});

const BOOM = { code: 'JOB_FAILED', message: 'kaput', retryable: false };

function detail(
  index: number,
  name: string,
  type: string,
  id: string,
  fields: {
    status: string;
    attempts: number;
    output?: unknown;
    error?: unknown;
    started?: number;
    done: number;
  },
) {
  return {
    step_index: index,
    name,
    job_id: `${id}-${index}`,
    type,
    status: fields.status,
    attempts: fields.attempts,
    output: fields.output ?? null,
    error: fields.error ?? null,
    cost: null,
    started_at: fields.started === undefined ? null : iso(fields.started),
    completed_at: iso(fields.done),
  };
}

describe('on_failure: fail_fast', () => {
  it('cancels everything still open when a step fails after a sibling completed', async () => {
    h = await startWorkflowApp();
    const { workflow } = await h.app.submitWorkflow({
      name: 'fail-fast',
      steps: [
        { name: 'quick', type: 'sleep', input: { ms: 50 } },
        { name: 'nap', type: 'sleep', input: { ms: 100 } },
        { name: 'boom', type: 'fail', depends_on: ['nap'], input: { retryable: false, message: 'kaput' } },
        { name: 'slow', type: 'sleep', input: { ms: 10_000 } },
        { name: 'after', type: 'echo', depends_on: ['slow'] },
        { name: 'tail', type: 'echo', depends_on: ['boom', 'quick'] },
      ],
    });
    const id = workflow.id;
    await h.settle(50);
    expect((await h.app.getWorkflow(id)).status).toBe('running');
    expect((await h.app.getJob(`${id}-0`)).status).toBe('completed');
    await h.settle(50);

    const view = await h.app.getWorkflow(id);
    expect(view.status).toBe('failed');
    expect(view.completed_at).toBe(iso(START + 100));
    const done = START + 100;
    expect(view.step_details).toEqual([
      detail(0, 'quick', 'sleep', id, {
        status: 'completed',
        attempts: 1,
        output: { slept_ms: 50 },
        started: START,
        done: START + 50,
      }),
      detail(1, 'nap', 'sleep', id, {
        status: 'completed',
        attempts: 1,
        output: { slept_ms: 100 },
        started: START,
        done,
      }),
      detail(2, 'boom', 'fail', id, { status: 'failed', attempts: 1, error: BOOM, started: done, done }),
      detail(3, 'slow', 'sleep', id, { status: 'cancelled', attempts: 1, started: START, done }),
      detail(4, 'after', 'echo', id, { status: 'cancelled', attempts: 0, done }),
      detail(5, 'tail', 'echo', id, { status: 'cancelled', attempts: 0, done }),
    ]);
    expect(h.jobTypes(`${id}-2`)).toEqual(['job_submitted', 'job_started', 'job_failed']);
    expect(h.jobTypes(`${id}-3`)).toEqual(['job_submitted', 'job_started', 'job_cancelled']);
    expect(h.jobTypes(`${id}-4`)).toEqual(['job_submitted', 'job_cancelled']);
    expect(h.jobTypes(`${id}-5`)).toEqual(['job_submitted', 'job_cancelled']);
    expect(h.workflowTypes(id)).toEqual([
      'workflow_submitted',
      'workflow_step_completed',
      'workflow_step_completed',
      'workflow_failed',
    ]);
    const terminal = h.terminal(id);
    expect(terminal).toMatchObject({ type: 'workflow_failed', error: BOOM, cost: 0 });
    expect(terminal.step_details).toEqual(view.step_details);
    for (const index of [3, 4, 5]) expect((await h.app.getJob(`${id}-${index}`)).status).toBe('cancelled');

    // The cancelled sleep's timer was stopped: nothing completes later, nothing else is emitted.
    const count = h.events.length;
    await h.settle(20_000);
    expect(h.events.length).toBe(count);
    expect((await h.app.getWorkflow(id)).step_details).toEqual(view.step_details);
  });
});

describe('on_failure: continue', () => {
  it('runs independent branches on, cancels only dependents, and fails the workflow at the end', async () => {
    h = await startWorkflowApp();
    const { workflow } = await h.app.submitWorkflow({
      name: 'continue',
      on_failure: 'continue',
      steps: [
        {
          name: 'left',
          type: 'fail',
          input: { retryable: true, message: 'flaky' },
          max_attempts: 2,
          backoff: { type: 'fixed', delay_ms: 500 },
        },
        { name: 'left-child', type: 'echo', depends_on: ['left'] },
        { name: 'right', type: 'sleep', input: { ms: 1_000 } },
        { name: 'right-child', type: 'echo', depends_on: [2], input: '{{ steps.right.output.slept_ms }}' },
        { name: 'join', type: 'echo', depends_on: ['left-child', 'right-child'] },
        { name: 'grand', type: 'echo', depends_on: ['join'] },
      ],
    });
    const id = workflow.id;
    await h.settle();
    expect(h.jobTypes(`${id}-0`)).toEqual(['job_submitted', 'job_started', 'job_retrying']);
    await h.settle(500);
    const failedError = { code: 'JOB_FAILED', message: 'flaky', retryable: true };
    let view = await h.app.getWorkflow(id);
    expect(view.status).toBe('running');
    expect(view.step_details.map((s) => s.status)).toEqual([
      'failed',
      'cancelled',
      'running',
      'waiting',
      'cancelled',
      'cancelled',
    ]);
    expect(h.workflowTypes(id)).toEqual(['workflow_submitted']);

    await h.settle(500);
    view = await h.app.getWorkflow(id);
    expect(view.status).toBe('failed');
    expect(view.completed_at).toBe(iso(START + 1_000));
    expect(view.step_details).toEqual([
      detail(0, 'left', 'fail', id, {
        status: 'failed',
        attempts: 2,
        error: failedError,
        started: START + 500,
        done: START + 500,
      }),
      detail(1, 'left-child', 'echo', id, { status: 'cancelled', attempts: 0, done: START + 500 }),
      detail(2, 'right', 'sleep', id, {
        status: 'completed',
        attempts: 1,
        output: { slept_ms: 1_000 },
        started: START,
        done: START + 1_000,
      }),
      detail(3, 'right-child', 'echo', id, {
        status: 'completed',
        attempts: 1,
        output: 1_000,
        started: START + 1_000,
        done: START + 1_000,
      }),
      detail(4, 'join', 'echo', id, { status: 'cancelled', attempts: 0, done: START + 500 }),
      detail(5, 'grand', 'echo', id, { status: 'cancelled', attempts: 0, done: START + 500 }),
    ]);
    expect(h.jobTypes(`${id}-0`)).toEqual([
      'job_submitted',
      'job_started',
      'job_retrying',
      'job_started',
      'job_failed',
    ]);
    expect(h.workflowTypes(id)).toEqual([
      'workflow_submitted',
      'workflow_step_completed',
      'workflow_step_completed',
      'workflow_failed',
    ]);
    const terminal = h.terminal(id);
    expect(terminal).toMatchObject({ type: 'workflow_failed', error: failedError, cost: 0 });
    expect(terminal.step_details).toEqual(view.step_details);
  });

  it('fails with STEP_CANCELLED when a step job is cancelled directly and nothing failed', async () => {
    h = await startWorkflowApp();
    const { workflow } = await h.app.submitWorkflow({
      name: 'job-cancelled',
      on_failure: 'continue',
      steps: [
        { name: 'long', type: 'sleep', input: { ms: 1_000 } },
        { name: 'after-long', type: 'echo', depends_on: ['long'] },
        { name: 'other', type: 'echo', input: 1 },
      ],
    });
    const id = workflow.id;
    await h.settle();
    await h.app.cancelJob(`${id}-0`, 'operator');
    await h.settle();
    const view = await h.app.getWorkflow(id);
    expect(view.status).toBe('failed');
    expect(view.step_details.map((s) => s.status)).toEqual(['cancelled', 'cancelled', 'completed']);
    const terminal = h.terminal(id);
    expect(terminal).toMatchObject({ type: 'workflow_failed', error: { code: 'STEP_CANCELLED' } });
    expect(terminal.step_details).toEqual(view.step_details);
  });
});

describe('cancelling a workflow', () => {
  it('cancels the running step once and refuses a second cancel with INVALID_STATE', async () => {
    h = await startWorkflowApp();
    const { workflow } = await h.app.submitWorkflow({
      name: 'to-cancel',
      steps: [
        { name: 'nap', type: 'sleep', input: { ms: 5_000 } },
        { name: 'next', type: 'echo', depends_on: ['nap'] },
        { name: 'other', type: 'echo', input: { o: 1 } },
      ],
    });
    const id = workflow.id;
    await h.settle(1_000);
    expect((await h.app.getJob(`${id}-0`)).status).toBe('running');

    const cancelled = await h.app.cancelWorkflow(id, 'user said stop');
    const at = START + 1_000;
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.completed_at).toBe(iso(at));
    expect(cancelled.step_details).toEqual([
      detail(0, 'nap', 'sleep', id, { status: 'cancelled', attempts: 1, started: START, done: at }),
      detail(1, 'next', 'echo', id, { status: 'cancelled', attempts: 0, done: at }),
      detail(2, 'other', 'echo', id, {
        status: 'completed',
        attempts: 1,
        output: { o: 1 },
        started: START,
        done: START,
      }),
    ]);
    await h.settle();
    expect(h.jobTypes(`${id}-0`)).toEqual(['job_submitted', 'job_started', 'job_cancelled']);
    expect(h.jobTypes(`${id}-1`)).toEqual(['job_submitted', 'job_cancelled']);
    const reasons = h.events.flatMap((e) => (e.type === 'job_cancelled' ? [e.reason] : []));
    expect(reasons).toEqual(['user said stop', 'user said stop']);

    expect((await rejection(h.app.cancelWorkflow(id))).code).toBe('INVALID_STATE');
    await h.settle(10_000);
    expect(h.jobTypes(`${id}-0`)).toEqual(['job_submitted', 'job_started', 'job_cancelled']);
    expect(h.workflowTypes(id)).toEqual([
      'workflow_submitted',
      'workflow_step_completed',
      'workflow_cancelled',
    ]);
    const terminal = h.terminal(id);
    expect(terminal).toMatchObject({ type: 'workflow_cancelled', reason: 'user said stop', cost: 0 });
    const view = await h.app.getWorkflow(id);
    expect(terminal.step_details).toEqual(view.step_details);
    expect(view.step_details).toEqual(cancelled.step_details);
  });

  it('refuses to cancel a completed workflow and reports unknown ids as NOT_FOUND', async () => {
    h = await startWorkflowApp();
    const { workflow } = await h.app.submitWorkflow({ name: 'done', steps: [{ type: 'echo' }] });
    await h.settle();
    expect((await rejection(h.app.cancelWorkflow(workflow.id))).code).toBe('INVALID_STATE');
    expect((await rejection(h.app.cancelWorkflow('no-such-workflow'))).code).toBe('NOT_FOUND');
    expect((await rejection(h.app.getWorkflow('no-such-workflow'))).code).toBe('NOT_FOUND');
    expect(h.terminal(workflow.id).type).toBe('workflow_completed');
  });
});
