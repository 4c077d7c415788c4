/**
 * After a run: retry re-runs only failed and never-run steps (completed ones keep their outputs and
 * do not run again), a result that lands after the run ended neither changes the reported run nor
 * gets lost, costs add up, and an idempotent resubmit creates nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeRemote, rejection, startWorkflowApp, type WorkflowApp } from '../fixtures/workflow-app.js';

let h: WorkflowApp;
afterEach(async () => {
  await h?.close();
});

const OOM = { code: 'GPU_OOM', message: 'out of memory', retryable: false };

function terminals(h: WorkflowApp, id: string) {
  return h.events.filter(
    (e) =>
      (e.type === 'workflow_completed' || e.type === 'workflow_failed' || e.type === 'workflow_cancelled') &&
      e.workflow_id === id,
  );
}

describe('retrying a workflow', () => {
  it('re-runs only the failed and never-run steps; completed steps keep outputs and do not run again', async () => {
    h = await startWorkflowApp();
    const worker = new FakeRemote(h.app);
    const { workflow } = await h.app.submitWorkflow({
      name: 'retry',
      steps: [
        { name: 'a', type: 'echo', input: { a: 1 } },
        { name: 'r', type: 'render', depends_on: ['a'], input: { from: '{{ steps.a.output.a }}' } },
        { name: 'c', type: 'echo', depends_on: ['r'], input: '{{ steps.r.output }}' },
        { name: 'd', type: 'echo', input: { d: 1 } },
      ],
    });
    const id = workflow.id;
    const job = (i: number) => `${id}-${i}`;
    await h.settle();
    expect(worker.assigns.map((a) => [a.jobId, a.input])).toEqual([[job(1), { from: 1 }]]);
    expect((await rejection(h.app.retryWorkflow(id))).code).toBe('INVALID_STATE');
    worker.fail(job(1), OOM);
    await h.settle();

    const failed = await h.app.getWorkflow(id);
    expect(failed.status).toBe('failed');
    expect(failed.step_details.map((s) => s.status)).toEqual([
      'completed',
      'failed',
      'cancelled',
      'completed',
    ]);
    expect(failed.step_details[1]!.error).toEqual(OOM);
    const firstLease = worker.latest(job(1)).lease;

    const retried = await h.app.retryWorkflow(id);
    expect(retried.status).toBe('running');
    expect(retried.completed_at).toBeNull();
    expect(retried.step_details.map((s) => s.status)).toEqual([
      'completed',
      'pending',
      'waiting',
      'completed',
    ]);
    expect(retried.step_details.map((s) => s.error)).toEqual([null, null, null, null]);
    expect(retried.step_details[0]!.output).toEqual({ a: 1 });
    expect(retried.step_details[3]!.output).toEqual({ d: 1 });
    await h.settle();
    expect(worker.assigns.map((a) => [a.jobId, a.input, a.attempt])).toEqual([
      [job(1), { from: 1 }, 1],
      [job(1), { from: 1 }, 1],
    ]);
    // The first attempt's lease is stale: its late result changes nothing.
    h.app.workerSink.complete(job(1), firstLease, { stale: true }, 99);
    await h.settle();
    expect((await h.app.getJob(job(1))).status).toBe('running');

    worker.complete(job(1), { img: 'x.png' }, 2.5);
    await h.settle();
    const done = await h.app.getWorkflow(id);
    expect(done.status).toBe('completed');
    expect(done.cost).toBe(2.5);
    expect(done.step_details.map((s) => [s.status, s.attempts, s.output])).toEqual([
      ['completed', 1, { a: 1 }],
      ['completed', 1, { img: 'x.png' }],
      ['completed', 1, { img: 'x.png' }],
      ['completed', 1, { d: 1 }],
    ]);
    expect([0, 1, 2, 3].map((i) => h.starts(job(i)))).toEqual([1, 2, 1, 1]);
    expect(h.jobTypes(job(0))).toEqual(['job_submitted', 'job_started', 'job_completed']);
    expect(h.jobTypes(job(2))).toEqual(['job_submitted', 'job_cancelled', 'job_started', 'job_completed']);

    // One terminal event per run, each with the step_details of its run.
    const ends = terminals(h, id);
    expect(ends.map((e) => e.type)).toEqual(['workflow_failed', 'workflow_completed']);
    expect((ends[0] as { step_details: unknown }).step_details).toEqual(failed.step_details);
    expect((ends[1] as { step_details: unknown; cost: number }).step_details).toEqual(done.step_details);
    expect((ends[1] as { cost: number }).cost).toBe(2.5);
    expect((await rejection(h.app.retryWorkflow(id))).code).toBe('INVALID_STATE');
  });

  it('retries a cancelled workflow: the cancelled running step runs again, the completed one does not', async () => {
    h = await startWorkflowApp();
    const { workflow } = await h.app.submitWorkflow({
      name: 'retry-cancelled',
      steps: [
        { name: 'nap', type: 'sleep', input: { ms: 1_000 } },
        { name: 'other', type: 'echo', input: 1 },
      ],
    });
    const id = workflow.id;
    await h.settle(500);
    await h.app.cancelWorkflow(id);
    await h.settle(1_000);
    await h.app.retryWorkflow(id);
    await h.settle(1_000);
    const view = await h.app.getWorkflow(id);
    expect(view.status).toBe('completed');
    expect([h.starts(`${id}-0`), h.starts(`${id}-1`)]).toEqual([2, 1]);
    expect(terminals(h, id).map((e) => e.type)).toEqual(['workflow_cancelled', 'workflow_completed']);
  });

  it('keeps the ended run as reported when a cancelled step completes late, and reuses that result on retry', async () => {
    h = await startWorkflowApp();
    const worker = new FakeRemote(h.app);
    const { workflow } = await h.app.submitWorkflow({
      name: 'late',
      steps: [
        { name: 'x', type: 'render', input: { n: 1 } },
        { name: 'y', type: 'render', input: { n: 2 } },
        { name: 'z', type: 'echo', depends_on: ['x', 'y'], input: '{{ steps.x.output }}' },
      ],
    });
    const id = workflow.id;
    await h.settle();
    // Both results land together: y's failure ends the run while x's completion is on its way.
    worker.fail(`${id}-1`, OOM);
    worker.complete(`${id}-0`, { late: true }, 1.5);
    await h.settle();

    const view = await h.app.getWorkflow(id);
    expect(view.status).toBe('failed');
    expect((await h.app.getJob(`${id}-0`)).status).toBe('completed');
    const terminal = h.terminal(id);
    expect(terminal.step_details).toEqual(view.step_details);
    expect(terminal.cost).toBe(view.cost);

    await h.app.retryWorkflow(id);
    await h.settle();
    expect(worker.assigns.map((a) => a.jobId)).toEqual([`${id}-0`, `${id}-1`, `${id}-1`]);
    worker.complete(`${id}-1`, { n: 2 }, 1);
    await h.settle();
    const done = await h.app.getWorkflow(id);
    expect(done.status).toBe('completed');
    expect(done.step_details.map((s) => s.output)).toEqual([{ late: true }, { n: 2 }, { late: true }]);
    expect(done.cost).toBe(2.5);
    expect(h.starts(`${id}-0`)).toBe(1);
  });
});

describe('cost and idempotency', () => {
  it('sums the costs executors report into the workflow cost', async () => {
    h = await startWorkflowApp();
    const worker = new FakeRemote(h.app);
    const { workflow } = await h.app.submitWorkflow({
      name: 'costly',
      steps: [
        { name: 'x', type: 'render', input: { n: 1 } },
        { name: 'y', type: 'render', depends_on: ['x'] },
        { name: 'z', type: 'render' },
        { name: 'free', type: 'render' },
        { name: 'e', type: 'echo', depends_on: ['y', 'z', 'free'] },
      ],
    });
    const id = workflow.id;
    await h.settle();
    worker.complete(`${id}-0`, 'x', 1.25);
    worker.complete(`${id}-2`, 'z', 0.25);
    worker.complete(`${id}-3`, 'free');
    await h.settle();
    expect((await h.app.getWorkflow(id)).cost).toBe(1.5);
    worker.complete(`${id}-1`, 'y', 2.5);
    await h.settle();
    const view = await h.app.getWorkflow(id);
    expect(view.status).toBe('completed');
    expect(view.step_details.map((s) => s.cost)).toEqual([1.25, 2.5, 0.25, null, null]);
    expect(view.cost).toBe(4);
    const costs = h.events.flatMap((e) => (e.type === 'job_completed' ? [[e.job_id, e.cost]] : []));
    expect(costs).toEqual([
      [`${id}-0`, 1.25],
      [`${id}-2`, 0.25],
      [`${id}-3`, null],
      [`${id}-1`, 2.5],
      [`${id}-4`, null],
    ]);
    const terminal = h.terminal(id);
    expect(terminal).toMatchObject({ type: 'workflow_completed', cost: 4 });
    expect(terminal.step_details).toEqual(view.step_details);
  });

  it('returns the first workflow for a repeated idempotency key and creates nothing', async () => {
    h = await startWorkflowApp();
    const spec = {
      name: 'once',
      idempotency_key: 'key-1',
      steps: [{ type: 'echo', input: 1 }, { type: 'echo' }],
    };
    const first = await h.app.submitWorkflow(spec);
    expect(first.created).toBe(true);
    await h.settle();
    const before = h.events.length;
    const again = await h.app.submitWorkflow(spec);
    const different = await h.app.submitWorkflow({
      ...spec,
      name: 'other',
      steps: [{ type: 'sleep', input: { ms: 1 } }],
    });
    await h.settle();
    expect(again.created).toBe(false);
    expect(different.created).toBe(false);
    expect(again.workflow.id).toBe(first.workflow.id);
    expect(different.workflow).toEqual(await h.app.getWorkflow(first.workflow.id));
    expect(again.workflow.status).toBe('completed');
    expect(h.events.length).toBe(before);
    expect((await h.app.listWorkflows({})).items.map((w) => w.id)).toEqual([first.workflow.id]);
    expect((await h.app.listJobs({})).items).toHaveLength(2);
    expect(h.terminal(first.workflow.id).type).toBe('workflow_completed');
  });
});
