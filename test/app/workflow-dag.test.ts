/**
 * Workflows as DAGs through the real in-process API: a diamond joins once with both outputs,
 * `depends_on` by name and by index, multi-parent joins wait for the slowest parent, and step
 * input templates resolve with their types (or fail the step with TEMPLATE_UNRESOLVED).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { iso, START, startWorkflowApp, type WorkflowApp } from '../fixtures/workflow-app.js';

let h: WorkflowApp;
afterEach(async () => {
  await h?.close();
});

describe('workflow DAGs', () => {
  it('holds a step for its delay_ms from the moment its dependencies complete', async () => {
    h = await startWorkflowApp();
    const { workflow } = await h.app.submitWorkflow({
      name: 'delayed-step',
      steps: [
        { name: 'a', type: 'echo', input: 1 },
        { name: 'b', type: 'echo', depends_on: ['a'], delay_ms: 5_000, input: 2 },
      ],
    });
    await h.settle(1_000);
    const b = (await h.app.getWorkflow(workflow.id)).step_details[1]!;
    expect((await h.app.getJob(b.job_id)).status).toBe('delayed');
    await h.settle(3_999);
    expect((await h.app.getJob(b.job_id)).status).toBe('delayed');
    await h.settle(1_001);
    expect((await h.app.getWorkflow(workflow.id)).status).toBe('completed');
  });

  it('runs a diamond a→b, a→c, b+c→d with d exactly once and both outputs', async () => {
    h = await startWorkflowApp();
    const { workflow, created } = await h.app.submitWorkflow({
      name: 'diamond',
      input: { x: 5 },
      steps: [
        { name: 'a', type: 'echo', input: { v: '{{ input.x }}' } },
        { name: 'b', type: 'echo', depends_on: ['a'], input: { fromA: '{{ steps.a.output.v }}' } },
        { name: 'c', type: 'echo', depends_on: [0], input: { s: 'a={{ steps.a.output.v }}' } },
        {
          name: 'd',
          type: 'echo',
          depends_on: ['b', 2],
          input: { b: '{{ steps.b.output }}', c: '{{ steps.c.output.s }}' },
        },
      ],
    });
    expect(created).toBe(true);
    expect(workflow.status).toBe('running');
    await h.settle();

    const id = workflow.id;
    const view = await h.app.getWorkflow(id);
    expect(view.status).toBe('completed');
    expect(view.completed_steps).toBe(4);
    expect(view.progress_percentage).toBe(100);
    const outputs = [{ v: 5 }, { fromA: 5 }, { s: 'a=5' }, { b: { fromA: 5 }, c: 'a=5' }];
    expect(view.step_details).toEqual(
      ['a', 'b', 'c', 'd'].map((name, i) => ({
        step_index: i,
        name,
        job_id: `${id}-${i}`,
        type: 'echo',
        status: 'completed',
        attempts: 1,
        output: outputs[i],
        error: null,
        cost: null,
        started_at: iso(START),
        completed_at: iso(START),
      })),
    );
    expect((await h.app.getJob(`${id}-3`)).input).toEqual({ b: { fromA: 5 }, c: 'a=5' });

    for (let i = 0; i < 4; i++) {
      expect(h.jobTypes(`${id}-${i}`)).toEqual(['job_submitted', 'job_started', 'job_completed']);
    }
    expect(h.workflowTypes(id)).toEqual([
      'workflow_submitted',
      'workflow_step_completed',
      'workflow_step_completed',
      'workflow_step_completed',
      'workflow_step_completed',
      'workflow_completed',
    ]);
    const stepOrder = h.events.flatMap((e) => (e.type === 'workflow_step_completed' ? [e.step_name] : []));
    expect(stepOrder[0]).toBe('a');
    expect(stepOrder[3]).toBe('d');
    expect(new Set(stepOrder)).toEqual(new Set(['a', 'b', 'c', 'd']));
    // d starts only after both of its parents were recorded complete by the workflow.
    const at = (pred: (e: (typeof h.events)[number]) => boolean) => h.events.findIndex(pred);
    const dStarted = at((e) => e.type === 'job_started' && e.job_id === `${id}-3`);
    for (const parent of ['b', 'c']) {
      expect(at((e) => e.type === 'workflow_step_completed' && e.step_name === parent)).toBeLessThan(
        dStarted,
      );
    }
    const terminal = h.terminal(id);
    expect(terminal.type).toBe('workflow_completed');
    expect(terminal.step_details).toEqual(view.step_details);
    expect(terminal.cost).toBe(0);
  });

  it('creates root steps runnable with their resolved input, and the rest waiting', async () => {
    h = await startWorkflowApp();
    const { workflow } = await h.app.submitWorkflow({
      name: 'roots',
      input: { x: 7 },
      steps: [
        { name: 'a', type: 'echo', input: { v: '{{ input.x }}' } },
        { name: 'b', type: 'echo', input: 'b' },
        { name: 'c', type: 'echo', depends_on: ['a', 'b'], input: '{{ steps.a.output.v }}' },
      ],
    });
    expect(workflow.step_details.map((s) => s.status)).toEqual(['pending', 'pending', 'waiting']);
    await h.settle();
    // A root's job is created released (submitted `pending`), not created waiting and then released.
    const statuses = new Map(
      h.events.flatMap((e) => (e.type === 'job_submitted' ? [[e.job_id, e.status] as const] : [])),
    );
    expect(statuses).toEqual(
      new Map([
        [`${workflow.id}-0`, 'pending'],
        [`${workflow.id}-1`, 'pending'],
        [`${workflow.id}-2`, 'waiting'],
      ]),
    );
    expect((await h.app.getJob(`${workflow.id}-0`)).input).toEqual({ v: 7 });
    expect((await h.app.getJob(`${workflow.id}-2`)).input).toBe(7);
    expect((await h.app.getWorkflow(workflow.id)).status).toBe('completed');
  });

  it('joins several parents only when the slowest finished, and dedupes a parent named twice', async () => {
    h = await startWorkflowApp();
    const { workflow } = await h.app.submitWorkflow({
      name: 'join',
      steps: [
        { name: 'p1', type: 'sleep', input: { ms: 100 } },
        { name: 'p2', type: 'sleep', input: { ms: 300 } },
        { name: 'p3', type: 'echo', input: { three: 3 } },
        {
          name: 'child',
          type: 'echo',
          depends_on: ['p1', 1, 'p3', 'p2', 0],
          input: {
            p1: '{{ steps.p1.output.slept_ms }}',
            p2: '{{ steps.p2.output }}',
            p3: '{{ steps.p3.output }}',
          },
        },
      ],
    });
    const child = `${workflow.id}-3`;
    await h.settle();
    expect((await h.app.getJob(child)).status).toBe('waiting');
    await h.settle(100);
    expect((await h.app.getJob(`${workflow.id}-0`)).status).toBe('completed');
    expect((await h.app.getJob(child)).status).toBe('waiting');
    await h.settle(199);
    expect((await h.app.getJob(child)).status).toBe('waiting');
    await h.settle(1);
    const job = await h.app.getJob(child);
    expect(job.status).toBe('completed');
    expect(job.output).toEqual({ p1: 100, p2: { slept_ms: 300 }, p3: { three: 3 } });
    expect(job.started_at).toBe(iso(START + 300));
    expect(h.starts(child)).toBe(1);
    expect((await h.app.getWorkflow(workflow.id)).status).toBe('completed');
  });

  it('follows a forward index dependency (a step may depend on a later one)', async () => {
    h = await startWorkflowApp();
    const { workflow } = await h.app.submitWorkflow({
      name: 'forward',
      steps: [
        { name: 'last', type: 'echo', depends_on: [2], input: { got: '{{ steps.first.output.n }}' } },
        { name: 'mid', type: 'echo', depends_on: ['first'] },
        { name: 'first', type: 'echo', input: { n: 7 } },
      ],
    });
    await h.settle();
    const view = await h.app.getWorkflow(workflow.id);
    expect(view.status).toBe('completed');
    expect(view.step_details.map((s) => s.output)).toEqual([{ got: 7 }, null, { n: 7 }]);
    expect((await h.app.getJob(`${workflow.id}-1`)).input).toBeNull();
    const order = h.events.flatMap((e) => (e.type === 'workflow_step_completed' ? [e.step_index] : []));
    expect(order[0]).toBe(2);
  });
});

describe('step input templates', () => {
  it('keeps the type of whole-string references and interpolates inside longer strings', async () => {
    h = await startWorkflowApp();
    const input = { n: 42, obj: { k: [1, 2] }, arr: [1, 'x'], flag: false, s: 'hi', nil: null };
    const { workflow } = await h.app.submitWorkflow({
      name: 'typed',
      input,
      steps: [
        {
          name: 'typed',
          type: 'echo',
          input: {
            n: '{{ input.n }}',
            obj: '{{input.obj}}',
            arr: '{{ input.arr }}',
            flag: '{{ input.flag }}',
            nil: '{{ input.nil }}',
            all: '{{ input }}',
            nested: ['{{ input.n }}', { deep: '{{ input.obj.k.1 }}' }, 3, true],
            text: 'n={{ input.n }} obj={{ input.obj }} flag={{input.flag}} s={{ input.s }}',
            padded: ' {{ input.n }}',
          },
        },
        {
          name: 'next',
          type: 'echo',
          depends_on: ['typed'],
          input: {
            k: '{{ steps.typed.output.obj.k }}',
            second: '{{ steps.typed.output.arr.1 }}',
            flag: '{{ steps.typed.output.flag }}',
            deep: '{{ steps.typed.output.nested.1.deep }}',
            text: '[{{ steps.typed.output.arr }}]',
          },
        },
      ],
    });
    await h.settle();
    const view = await h.app.getWorkflow(workflow.id);
    expect(view.status).toBe('completed');
    expect(view.step_details[0]!.output).toEqual({
      n: 42,
      obj: { k: [1, 2] },
      arr: [1, 'x'],
      flag: false,
      nil: null,
      all: input,
      nested: [42, { deep: 2 }, 3, true],
      text: 'n=42 obj={"k":[1,2]} flag=false s=hi',
      padded: ' 42',
    });
    expect(view.step_details[1]!.output).toEqual({
      k: [1, 2],
      second: 'x',
      flag: false,
      deep: 2,
      text: '[[1,"x"]]',
    });
  });

  it('fails a step whose reference has no value with TEMPLATE_UNRESOLVED, without running it', async () => {
    h = await startWorkflowApp();
    const { workflow } = await h.app.submitWorkflow({
      name: 'unresolved',
      steps: [
        { name: 'a', type: 'echo', input: { v: 1 } },
        { name: 'b', type: 'echo', depends_on: ['a'], input: { x: 'value: {{ steps.a.output.missing }}' } },
        { name: 'slow', type: 'sleep', input: { ms: 1_000 } },
        { name: 'c', type: 'echo', depends_on: ['b'] },
      ],
    });
    await h.settle();
    const id = workflow.id;
    const view = await h.app.getWorkflow(id);
    expect(view.status).toBe('failed');
    const b = view.step_details[1]!;
    expect(b.status).toBe('failed');
    expect(b.error).toEqual({
      code: 'TEMPLATE_UNRESOLVED',
      message: expect.stringContaining('missing'),
      retryable: false,
    });
    expect(b.attempts).toBe(0);
    expect(view.step_details.map((s) => s.status)).toEqual(['completed', 'failed', 'cancelled', 'cancelled']);
    expect(view.step_details.map((s) => s.error)).toEqual([null, b.error, null, null]);
    const job = await h.app.getJob(`${id}-1`);
    expect(job.status).toBe('failed');
    expect(job.error).toEqual(b.error);
    expect(h.jobTypes(`${id}-1`)).toEqual(['job_submitted', 'job_failed']);
    expect(h.jobTypes(`${id}-2`)).toEqual(['job_submitted', 'job_started', 'job_cancelled']);
    const terminal = h.terminal(id);
    expect(terminal).toMatchObject({ type: 'workflow_failed', error: b.error, cost: 0 });
    expect(terminal.step_details).toEqual(view.step_details);
    // The cancelled sleep never completes later.
    await h.settle(5_000);
    expect(h.jobTypes(`${id}-2`)).toEqual(['job_submitted', 'job_started', 'job_cancelled']);
    expect((await h.app.getWorkflow(id)).step_details).toEqual(view.step_details);
  });

  it('fails a root step at once when the workflow input lacks the path', async () => {
    h = await startWorkflowApp();
    const { workflow } = await h.app.submitWorkflow({
      name: 'root-missing',
      input: { present: 1 },
      steps: [{ name: 'root', type: 'echo', input: '{{ input.absent }}' }],
    });
    await h.settle();
    const view = await h.app.getWorkflow(workflow.id);
    expect(view.status).toBe('failed');
    expect(view.step_details[0]!.error?.code).toBe('TEMPLATE_UNRESOLVED');
    expect(h.starts(`${workflow.id}-0`)).toBe(0);
    expect(h.terminal(workflow.id).type).toBe('workflow_failed');
  });

  it('fails a step whose resolved input breaks its type schema with VALIDATION_FAILED', async () => {
    h = await startWorkflowApp();
    const { workflow } = await h.app.submitWorkflow({
      name: 'bad-resolved',
      input: { ms: 'soon' },
      steps: [{ name: 'nap', type: 'sleep', input: { ms: '{{ input.ms }}' } }],
    });
    await h.settle();
    const step = (await h.app.getWorkflow(workflow.id)).step_details[0]!;
    expect(step.status).toBe('failed');
    expect(step.error).toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
    expect(h.starts(`${workflow.id}-0`)).toBe(0);
  });
});
