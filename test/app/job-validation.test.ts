/**
 * Submit validation: unknown types, inputs failing the type's JSON Schema and bad options are
 * refused with VALIDATION_FAILED and field-level details, and nothing is created (batches too).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { configWith, type Harness, rejection, startApp } from './support/job-harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function expectNothingCreated(): Promise<void> {
  await h.settle();
  expect((await h.app.listJobs({})).items).toEqual([]);
  const stats = await h.app.stats();
  expect(Object.values(stats.jobs.by_status).every((n) => n === 0)).toBe(true);
  expect(h.events.events).toEqual([]);
}

describe('submit validation', () => {
  it('refuses an unknown type', async () => {
    h = await startApp();
    const error = await rejection(h.app.submitJob({ type: 'nope', input: {} }));
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
    expect(error.details).toEqual([{ path: 'type', message: 'unknown job type "nope"' }]);
    await expectNothingCreated();
  });

  it('checks the input against the type’s JSON Schema, naming the field', async () => {
    h = await startApp();
    const missing = await rejection(h.app.submitJob({ type: 'text-to-image' }));
    expect(missing.details).toEqual([{ path: 'input.prompt', message: expect.stringContaining('prompt') }]);
    const empty = await rejection(h.app.submitJob({ type: 'text-to-image', input: { prompt: '' } }));
    expect(empty.details).toEqual([{ path: 'input.prompt', message: expect.stringContaining('1') }]);
    const wrongType = await rejection(h.app.submitJob({ type: 'sleep', input: { ms: 'soon' } }));
    expect(wrongType.details).toEqual([{ path: 'input.ms', message: 'must be integer' }]);
    const nested = await rejection(
      h.app.submitJob({ type: 'text-to-image', input: { prompt: 'ok', parameters: 'hq' } }),
    );
    expect(nested.details).toEqual([{ path: 'input.parameters', message: 'must be object' }]);
    expect(missing.message).toContain('input.prompt');
    await expectNothingCreated();
  });

  it('refuses bad job options with their paths, including unknown fields', async () => {
    h = await startApp();
    const priority = await rejection(h.app.submitJob({ type: 'echo', priority: 101 }));
    expect(priority.details?.map((d) => d.path)).toEqual(['priority']);
    const backoff = await rejection(
      h.app.submitJob({ type: 'echo', backoff: { type: 'fixed', delay_ms: 5_000, max_delay_ms: 10 } }),
    );
    expect(backoff.details?.map((d) => d.path)).toEqual(['backoff.max_delay_ms']);
    const attempts = await rejection(h.app.submitJob({ type: 'echo', max_attempts: 0 }));
    expect(attempts.details?.map((d) => d.path)).toEqual(['max_attempts']);
    const unknown = await rejection(h.app.submitJob({ type: 'echo', colour: 'blue' }));
    expect(unknown.details?.map((d) => d.path)).toEqual(['colour']);
    const noType = await rejection(h.app.submitJob({ input: 1 }));
    expect(noType.details?.map((d) => d.path)).toEqual(['type']);
    await expectNothingCreated();
  });
});

describe('batch submit', () => {
  it('creates every job of a valid batch, in order', async () => {
    h = await startApp();
    const { items } = await h.app.submitBatch({
      jobs: [
        { type: 'echo', input: 1 },
        { type: 'echo', input: 2, delay_ms: 100 },
        { type: 'text-to-image', input: { prompt: 'p' } },
      ],
    });
    expect(items.map((j) => [j.type, j.status, j.input])).toEqual([
      ['echo', 'pending', 1],
      ['echo', 'delayed', 2],
      ['text-to-image', 'pending', { prompt: 'p' }],
    ]);
    await h.settle(100);
    expect(await h.app.getJob(items[1]!.id)).toMatchObject({ status: 'completed', output: 2 });
    expect(h.events.ofType('job_submitted')).toHaveLength(3);
  });

  it('refuses the whole batch when one job is bad, with jobs.N paths, and creates nothing', async () => {
    h = await startApp();
    const error = await rejection(
      h.app.submitBatch({
        jobs: [
          { type: 'echo', input: 'fine' },
          { type: 'text-to-image', input: {} },
          { type: 'echo' },
          { type: 'mystery' },
        ],
      }),
    );
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details).toEqual([
      { path: 'jobs.1.input.prompt', message: expect.any(String) },
      { path: 'jobs.3.type', message: 'unknown job type "mystery"' },
    ]);
    const options = await rejection(
      h.app.submitBatch({ jobs: [{ type: 'echo' }, { type: 'echo', priority: -1, extra: true }] }),
    );
    expect(options.details?.map((d) => d.path).sort()).toEqual(['jobs.1.extra', 'jobs.1.priority']);
    const empty = await rejection(h.app.submitBatch({ jobs: [] }));
    expect(empty.details?.map((d) => d.path)).toEqual(['jobs']);
    await expectNothingCreated();
  });
});

describe('types without an executor in this server', () => {
  it('refuses jobs and workflows of a thread: type before its adapter exists, creating nothing', async () => {
    h = await startApp({ config: configWith([{ name: 'render-local', executor: 'thread:./render.js' }]) });
    const job = await rejection(h.app.submitJob({ type: 'render-local', input: {} }));
    expect(job).toMatchObject({ code: 'EXECUTOR_UNAVAILABLE', status: 501 });
    expect(job.message).toContain('"render-local" (thread:./render.js)');
    const workflow = await rejection(
      h.app.submitWorkflow({
        name: 'w',
        steps: [{ type: 'echo' }, { type: 'render-local', depends_on: [0] }],
      }),
    );
    expect(workflow).toMatchObject({ code: 'EXECUTOR_UNAVAILABLE' });
    await expectNothingCreated();
    // Types that have an executor are unaffected.
    await expect(h.app.submitJob({ type: 'echo', input: 1 })).resolves.toMatchObject({ created: true });
  });
});
