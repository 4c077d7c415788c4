/**
 * Workflow submission is validated as a whole before anything is created, and every problem comes
 * back as a field-level detail (`steps.N.depends_on.M`, `steps.N.input`, …) under VALIDATION_FAILED.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ErrorDetail } from '../../src/errors.js';
import { rejection, startWorkflowApp, type WorkflowApp } from '../fixtures/workflow-app.js';

let h: WorkflowApp;
afterEach(async () => {
  await h?.close();
});

async function problems(spec: unknown): Promise<ErrorDetail[]> {
  const error = await rejection(h.app.submitWorkflow(spec));
  expect(error.code).toBe('VALIDATION_FAILED');
  expect(error.status).toBe(400);
  for (const detail of error.details ?? [])
    expect(error.message).toContain(`${detail.path}: ${detail.message}`);
  return error.details ?? [];
}

const echo = (name: string, extra: Record<string, unknown> = {}) => ({ name, type: 'echo', ...extra });

describe('workflow validation', () => {
  it('reports exactly the steps on a cycle, not the steps that merely depend on it', async () => {
    h = await startWorkflowApp();
    expect(
      await problems({
        name: 'cycle',
        steps: [
          echo('a', { depends_on: ['c'] }),
          echo('b', { depends_on: ['a'] }),
          echo('c', { depends_on: [1] }),
          echo('downstream', { depends_on: ['b'] }),
          echo('free'),
        ],
      }),
    ).toEqual([
      { path: 'steps.0.depends_on', message: 'dependency cycle through "a"' },
      { path: 'steps.1.depends_on', message: 'dependency cycle through "b"' },
      { path: 'steps.2.depends_on', message: 'dependency cycle through "c"' },
    ]);
  });

  it('reports unknown step names and indices, and self-dependency, at each depends_on entry', async () => {
    h = await startWorkflowApp();
    expect(
      await problems({
        name: 'refs',
        steps: [
          echo('a', { depends_on: ['a'] }),
          echo('b', { depends_on: ['a', 'ghost', 9, 1] }),
          echo('c', { depends_on: [2, 'b'] }),
        ],
      }),
    ).toEqual([
      { path: 'steps.0.depends_on.0', message: 'a step cannot depend on itself' },
      { path: 'steps.1.depends_on.1', message: 'no step named "ghost"' },
      { path: 'steps.1.depends_on.2', message: 'no step at index 9' },
      { path: 'steps.1.depends_on.3', message: 'a step cannot depend on itself' },
      { path: 'steps.2.depends_on.0', message: 'a step cannot depend on itself' },
    ]);
    expect(await problems({ name: 'neg', steps: [echo('a', { depends_on: [-1] })] })).toEqual([
      { path: 'steps.0.depends_on.0', message: expect.any(String) },
    ]);
  });

  it('reports duplicate names, including a clash with a default name, and undeclared types', async () => {
    h = await startWorkflowApp();
    expect(
      await problems({
        name: 'dupes',
        steps: [echo('step-1'), { type: 'echo' }, echo('x'), echo('x'), { name: 'y', type: 'teleport' }],
      }),
    ).toEqual([
      { path: 'steps.1.name', message: 'duplicate step name "step-1"' },
      { path: 'steps.3.name', message: 'duplicate step name "x"' },
      { path: 'steps.4.type', message: 'unknown job type "teleport"' },
    ]);
    expect(await problems({ name: 'bad-name', steps: [echo('has space')] })).toEqual([
      { path: 'steps.0.name', message: expect.stringContaining('letters, digits') },
    ]);
  });

  it('reports templates naming unknown steps, non-ancestors, the step itself, or malformed references', async () => {
    h = await startWorkflowApp();
    expect(
      await problems({
        name: 'templates',
        steps: [
          echo('a'),
          echo('b', { depends_on: ['a'], input: { x: '{{ steps.nobody.output.x }}' } }),
          echo('c', { depends_on: ['a'], input: { fromSibling: 'v={{ steps.b.output }}' } }),
          echo('d', { depends_on: ['c'], input: ['{{ steps.d.output }}'] }),
          echo('e', { input: { deep: { list: ['{{ input..x }}'] } } }),
          echo('f', { input: '{{ steps.a }}' }),
        ],
      }),
    ).toEqual([
      { path: 'steps.1.input', message: 'template references unknown step "nobody"' },
      {
        path: 'steps.2.input',
        message: 'template references step "b", which is not among this step\'s dependencies',
      },
      {
        path: 'steps.3.input',
        message: 'template references step "d", which is not among this step\'s dependencies',
      },
      { path: 'steps.4.input', message: 'malformed reference "input..x"' },
      { path: 'steps.5.input', message: expect.stringContaining('unknown reference "steps.a"') },
    ]);
  });

  it('accepts references to any ancestor, not only direct parents', async () => {
    h = await startWorkflowApp();
    const { workflow } = await h.app.submitWorkflow({
      name: 'ancestors',
      input: { k: 'v' },
      steps: [
        echo('a', { input: { n: 1 } }),
        echo('b', { depends_on: ['a'] }),
        echo('c', { depends_on: ['b'], input: { n: '{{ steps.a.output.n }}', k: '{{ input.k }}' } }),
      ],
    });
    await h.settle();
    expect((await h.app.getWorkflow(workflow.id)).step_details[2]!.output).toEqual({ n: 1, k: 'v' });
  });

  it('requires a name and 1 to 200 steps', async () => {
    h = await startWorkflowApp();
    expect(await problems({ steps: [echo('a')] })).toEqual([{ path: 'name', message: expect.any(String) }]);
    expect(await problems({ name: '', steps: [echo('a')] })).toEqual([
      { path: 'name', message: expect.any(String) },
    ]);
    expect(await problems({ name: 'empty', steps: [] })).toEqual([
      { path: 'steps', message: expect.any(String) },
    ]);
    expect(await problems({ name: 'none' })).toEqual([{ path: 'steps', message: expect.any(String) }]);
    const many = (n: number) =>
      Array.from({ length: n }, (_, i) => echo(`s${i}`, i > 0 ? { depends_on: [i - 1] } : {}));
    expect(await problems({ name: 'too-many', steps: many(201) })).toEqual([
      { path: 'steps', message: expect.any(String) },
    ]);
    expect(await problems({ name: 'wrong-policy', steps: [echo('a')], on_failure: 'shrug' })).toEqual([
      { path: 'on_failure', message: expect.any(String) },
    ]);

    // Nothing was created by any of the rejected submissions.
    expect(h.events).toEqual([]);
    expect((await h.app.listWorkflows({})).items).toEqual([]);

    const { workflow } = await h.app.submitWorkflow({ name: 'max', steps: many(200) });
    expect(workflow.total_steps).toBe(200);
    await h.settle();
    const view = await h.app.getWorkflow(workflow.id);
    expect(view.status).toBe('completed');
    expect(view.completed_steps).toBe(200);
  });
});
