/**
 * Lease bookkeeping at the edges: a lease the job accepts only after the dispatcher gave up on it,
 * queue entries of jobs that were cancelled or removed before a worker came, and the dispatcher's
 * counters after jobs leave by every route.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ControlledStore, settle as rounds } from '../unit/helpers.js';
import { FakeWorker } from './support/fake-worker.js';
import { configWith, type Harness, rejection, startApp } from './support/job-harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('lease hand-off', () => {
  it('does not strand a job whose lease acceptance arrives after the ack timeout', async () => {
    const store = new ControlledStore();
    h = await startApp({ store });
    const { job } = await h.app.submitJob({ type: 'echo', input: 'slow store' });
    // The job takes the lease, but its write hangs for longer than the dispatcher waits (30 s).
    store.hold();
    await rounds(10);
    h.clock.advance(30_000);
    await rounds(10);
    store.release();
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({
      status: 'completed',
      output: 'slow store',
      attempts: 1,
    });
    expect(h.events.ofType('job_completed')).toHaveLength(1);
    const stats = (await h.app.stats()).queue;
    expect(stats.running.echo ?? 0).toBe(0);
    expect(stats.queued.echo ?? 0).toBe(0);
  });

  it('hands a cancelled queued job to no worker and does not hold a slot for it', async () => {
    h = await startApp();
    const { job: cancelled } = await h.app.submitJob({ type: 'text-to-image', input: { prompt: 'x' } });
    await h.app.cancelJob(cancelled.id);
    const { job: wanted } = await h.app.submitJob({ type: 'text-to-image', input: { prompt: 'y' } });
    const worker = FakeWorker.connect(h.app, { types: ['text-to-image'], gpuMemoryGb: 8, slots: 1 });
    await h.settle();
    expect(worker.assigns.map((a) => a.jobId)).toEqual([wanted.id]);
    expect((await h.app.getJob(cancelled.id)).status).toBe('cancelled');
  });

  it('does not let the queue entry of a job removed by retention occupy a worker slot', async () => {
    h = await startApp({ config: configWith([], { retention_ms: 1_000 }) });
    const { job: gone } = await h.app.submitJob({ type: 'text-to-image', input: { prompt: 'x' } });
    await h.app.cancelJob(gone.id);
    await h.settle(1_000);
    expect((await rejection(h.app.getJob(gone.id))).code).toBe('NOT_FOUND');

    const worker = FakeWorker.connect(h.app, { types: ['text-to-image'], gpuMemoryGb: 8, slots: 1 });
    await h.settle();
    const { job: wanted } = await h.app.submitJob({ type: 'text-to-image', input: { prompt: 'y' } });
    await h.settle();
    expect(worker.assigns.map((a) => a.jobId)).toEqual([wanted.id]);
    worker.complete(wanted.id);
    await h.settle(60_000);
    // Nothing of the removed job comes back later either.
    expect(worker.assigns.map((a) => a.jobId)).toEqual([wanted.id]);
    expect((await h.app.stats()).queue.running['text-to-image'] ?? 0).toBe(0);
  });

  it('retries a cancelled queued job exactly once even though its old queue entry remains', async () => {
    h = await startApp();
    const { job } = await h.app.submitJob({ type: 'text-to-image', input: { prompt: 'x' }, priority: 5 });
    await h.app.cancelJob(job.id);
    await h.app.retryJob(job.id);
    await h.settle();
    const worker = FakeWorker.connect(h.app, { types: ['text-to-image'], gpuMemoryGb: 8, slots: 3 });
    await h.settle();
    expect(worker.assigns.map((a) => a.jobId)).toEqual([job.id]);
    worker.complete(job.id, 'done');
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'completed', output: 'done', attempts: 1 });
    expect(worker.assigns).toHaveLength(1);
  });
});
