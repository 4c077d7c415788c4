/**
 * A step tells its workflow of its end, and a workflow releases a step, with plain messages; the
 * workflow's `watch` timer asks released steps to report again while its run is in progress.
 * Through the real in-process API on a store whose writes can be failed one by one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WORKFLOW_KIND } from '../../src/actors/workflow.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import type { SnapshotStore } from '../../src/runtime/store/snapshot-store.js';
import { FakeRemote, START, startWorkflowApp, type WorkflowApp } from '../fixtures/workflow-app.js';
import { ControlledStore } from '../unit/helpers.js';

let h: WorkflowApp;
afterEach(async () => {
  await h?.close();
});

const TWO_STEPS = {
  name: 'two-steps',
  steps: [
    { name: 'a', type: 'render', input: { frame: 1 } },
    { name: 'b', type: 'echo', depends_on: ['a'], input: { from: '{{ steps.a.output.frame }}' } },
  ],
};

async function watchTimers(store: SnapshotStore, workflowId: string): Promise<number[]> {
  const timers = await store.loadTimers(Number.POSITIVE_INFINITY);
  return timers
    .filter((t) => t.kind === WORKFLOW_KIND && t.id === workflowId && t.name === 'watch')
    .map((t) => t.at);
}

/** A two-step run on `store` whose first step (remote) runs on a fake worker and has not ended. */
async function startTwoSteps<S extends SnapshotStore>(store: S) {
  h = await startWorkflowApp({ store });
  const worker = new FakeRemote(h.app);
  const { workflow } = await h.app.submitWorkflow(TWO_STEPS);
  await h.settle();
  const [a, b] = (await h.app.getWorkflow(workflow.id)).step_details.map((s) => s.job_id);
  return { store, worker, id: workflow.id, a: a!, b: b! };
}

describe('workflow watch', () => {
  it('asks again for a step end lost with a failed workflow write, and the run completes once', async () => {
    const { store, worker, id, a, b } = await startTwoSteps(new ControlledStore());

    store.failCommits((entry) => entry.kind === WORKFLOW_KIND, 1);
    worker.complete(a, { frame: 7 });
    await h.settle();
    // The job is durably completed; its workflow lost the news with its failed write.
    expect((await h.app.getJob(a)).status).toBe('completed');
    const lost = await h.app.getWorkflow(id);
    expect(lost.status).toBe('running');
    expect(lost.step_details[0]!.status).not.toBe('completed');
    expect(h.events.filter((e) => e.type === 'workflow_step_completed')).toEqual([]);

    await h.settle(2_000);
    const view = await h.app.getWorkflow(id);
    expect(view.status).toBe('completed');
    expect(view.step_details.map((s) => [s.status, s.output])).toEqual([
      ['completed', { frame: 7 }],
      ['completed', { from: 7 }],
    ]);
    expect(h.terminal(id).type).toBe('workflow_completed');
    expect(h.events.filter((e) => e.type === 'workflow_step_completed')).toHaveLength(2);
    expect(h.starts(a)).toBe(1);
    expect(h.starts(b)).toBe(1);
  });

  it('releases again a step whose release was lost with its failed write, and it runs once', async () => {
    const { store, worker, id, a, b } = await startTwoSteps(new ControlledStore());

    store.failCommits((entry) => entry.kind === 'job' && entry.id === b, 1);
    worker.complete(a, { frame: 3 });
    await h.settle();
    // Released in the workflow's record; the step's write of it failed, so it still waits.
    expect((await h.app.getWorkflow(id)).step_details[1]!.status).toBe('pending');
    expect((await h.app.getJob(b)).status).toBe('waiting');

    await h.settle(2_000);
    const view = await h.app.getWorkflow(id);
    expect(view.status).toBe('completed');
    expect(view.step_details[1]!.output).toEqual({ from: 3 });
    expect(h.terminal(id).type).toBe('workflow_completed');
    expect(h.starts(b)).toBe(1);
    expect(h.jobTypes(b)).toEqual(['job_submitted', 'job_started', 'job_completed']);
  });

  it('wakes at doubling intervals up to a minute while a step runs, and not once the run ended', async () => {
    const { store, worker, id, a } = await startTwoSteps(new ControlledStore());
    let at = START + 2_000;
    expect(await watchTimers(store, id)).toEqual([at]);
    for (const wait of [4_000, 8_000, 16_000, 32_000, 60_000, 60_000]) {
      await h.settle(at - h.clock.now());
      at += wait;
      expect(await watchTimers(store, id)).toEqual([at]);
    }
    // Asked six times, the running step had nothing to report; it ran once and still runs.
    expect(h.starts(a)).toBe(1);
    expect((await h.app.getJob(a)).status).toBe('running');

    worker.complete(a, { frame: 1 });
    await h.settle();
    expect((await h.app.getWorkflow(id)).status).toBe('completed');
    expect(await watchTimers(store, id)).toEqual([]);
  });

  it('a run that ends before its first watch leaves no watch behind', async () => {
    const store = new ControlledStore();
    h = await startWorkflowApp({ store });
    const { workflow } = await h.app.submitWorkflow({
      name: 'quick',
      steps: [
        { name: 'a', type: 'echo', input: 1 },
        { name: 'b', type: 'echo', depends_on: ['a'], input: 2 },
      ],
    });
    await h.settle();
    expect((await h.app.getWorkflow(workflow.id)).status).toBe('completed');
    expect(await watchTimers(store, workflow.id)).toEqual([]);
  });

  it('is not kept with the embedded store, where a step end is lost only with the process', async () => {
    const { store, worker, id, a } = await startTwoSteps(new MemoryStore());
    expect(await watchTimers(store, id)).toEqual([]);
    worker.complete(a, { frame: 2 });
    await h.settle();
    expect((await h.app.getWorkflow(id)).status).toBe('completed');
  });
});
