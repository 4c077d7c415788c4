/**
 * One job's life through the in-process API: submit, delay, run, complete, cancel, retry,
 * idempotent resubmission and retention expiry, with the exact states, timestamps and events.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BuiltinExecutor } from '../../src/actors/executors/builtin.js';
import { SimulatedClock } from '../../src/runtime/clock.js';
import { FakeWorker } from './support/fake-worker.js';
import { configWith, type Harness, iso, rejection, START, startApp } from './support/job-harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('job lifecycle', () => {
  it('completes an echo job with output = input, timestamps and exactly three events', async () => {
    h = await startApp();
    const input = { hello: 'world', list: [1, 2, 3], nested: { ok: true } };
    const { job, created } = await h.app.submitJob({ type: 'echo', input }, { traceId: 'trace-1' });
    expect(created).toBe(true);
    expect(job).toMatchObject({
      type: 'echo',
      status: 'pending',
      attempts: 0,
      priority: 50,
      max_attempts: 3,
    });
    await h.settle();

    expect(await h.app.getJob(job.id)).toEqual({
      ...job,
      status: 'completed',
      progress: 100,
      attempts: 1,
      output: input,
      error: null,
      cost: null,
      worker_id: 'builtin',
      run_at: null,
      created_at: iso(START),
      started_at: iso(START),
      completed_at: iso(START),
    });
    expect(h.events.forJob(job.id)).toMatchObject([
      { type: 'job_submitted', status: 'pending', job_type: 'echo', workflow_id: null },
      { type: 'job_started', attempt: 1, worker_id: 'builtin' },
      { type: 'job_completed', output: input, cost: null, attempts: 1 },
    ]);
    expect(h.events.events.every((e) => e.trace_id === 'trace-1' && e.at === iso(START))).toBe(true);
    h.events.expectContiguous();
  });

  it('keeps a sleep job running until its time is up, then records when it finished', async () => {
    h = await startApp();
    const { job } = await h.app.submitJob({ type: 'sleep', input: { ms: 2_500 } });
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({
      status: 'running',
      started_at: iso(START),
      attempts: 1,
    });
    await h.settle(2_499);
    expect((await h.app.getJob(job.id)).status).toBe('running');
    await h.settle(1);
    expect(await h.app.getJob(job.id)).toMatchObject({
      status: 'completed',
      output: { slept_ms: 2_500 },
      started_at: iso(START),
      completed_at: iso(START + 2_500),
    });
    expect(h.events.typesFor(job.id)).toEqual(['job_submitted', 'job_started', 'job_completed']);
    h.events.expectContiguous();
  });

  it('holds a delay_ms job as delayed with run_at, then runs it when the time comes', async () => {
    h = await startApp();
    const { job } = await h.app.submitJob({ type: 'echo', input: { x: 1 }, delay_ms: 5_000 });
    expect(job).toMatchObject({ status: 'delayed', run_at: iso(START + 5_000), started_at: null });
    await h.settle(4_999);
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'delayed', run_at: iso(START + 5_000) });
    expect(h.events.typesFor(job.id)).toEqual(['job_submitted']);
    await h.settle(1);
    expect(await h.app.getJob(job.id)).toMatchObject({
      status: 'completed',
      run_at: null,
      started_at: iso(START + 5_000),
      completed_at: iso(START + 5_000),
    });
    expect(h.events.forJob(job.id)).toMatchObject([
      { type: 'job_submitted', status: 'delayed' },
      { type: 'job_started', at: iso(START + 5_000) },
      { type: 'job_completed', at: iso(START + 5_000) },
    ]);
    h.events.expectContiguous();
  });

  it('turns a delayed job pending once due when no executor is free', async () => {
    h = await startApp();
    const { job } = await h.app.submitJob({ type: 'text-to-image', input: { prompt: 'a' }, delay_ms: 1_000 });
    expect(job.status).toBe('delayed');
    await h.settle(1_000);
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'pending', run_at: null, attempts: 0 });
    expect((await h.app.stats()).queue.queued['text-to-image']).toBe(1);
  });
});

describe('cancel and retry', () => {
  it('cancels a pending job with its reason; a terminal job cannot be cancelled again', async () => {
    h = await startApp();
    const { job } = await h.app.submitJob({ type: 'text-to-image', input: { prompt: 'p' } });
    await h.settle(10);
    const cancelled = await h.app.cancelJob(job.id, 'changed my mind');
    expect(cancelled).toMatchObject({ status: 'cancelled', completed_at: iso(START + 10), attempts: 0 });
    await h.settle();
    const again = await rejection(h.app.cancelJob(job.id));
    expect(again.code).toBe('INVALID_STATE');
    expect(again.message).toContain('cancelled');
    expect(h.events.forJob(job.id)).toMatchObject([
      { type: 'job_submitted', status: 'pending' },
      { type: 'job_cancelled', reason: 'changed my mind' },
    ]);
    // A worker connecting later must not get the cancelled job.
    const worker = FakeWorker.connect(h.app, { types: ['text-to-image'], gpuMemoryGb: 24 });
    await h.settle();
    expect(worker.assigns).toEqual([]);
    expect((await h.app.getJob(job.id)).status).toBe('cancelled');
    h.events.expectContiguous();
  });

  it('cancels a delayed job so that it never runs', async () => {
    h = await startApp();
    const { job } = await h.app.submitJob({ type: 'echo', delay_ms: 1_000 });
    const cancelled = await h.app.cancelJob(job.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', run_at: null });
    await h.settle(5_000);
    expect((await h.app.getJob(job.id)).status).toBe('cancelled');
    expect(h.events.forJob(job.id)).toMatchObject([
      { type: 'job_submitted', status: 'delayed' },
      { type: 'job_cancelled', reason: null },
    ]);
  });

  it('cancels a running sleep: the handler is stopped and the slot goes to the next job', async () => {
    const clock = new SimulatedClock(START);
    const builtin = new BuiltinExecutor(clock);
    const cancel = vi.spyOn(builtin, 'cancel');
    h = await startApp({ clock, builtinSlots: 1, executors: { builtin } });
    const { job: sleeper } = await h.app.submitJob({ type: 'sleep', input: { ms: 60_000 } });
    const { job: next } = await h.app.submitJob({ type: 'echo', input: 'after' });
    await h.settle(100);
    expect((await h.app.getJob(next.id)).status).toBe('pending');
    expect(await h.app.cancelJob(sleeper.id, 'stop')).toMatchObject({ status: 'cancelled', attempts: 1 });
    await h.settle();
    expect(cancel).toHaveBeenCalledTimes(1);
    expect(cancel.mock.calls[0]).toEqual([
      expect.objectContaining({ jobId: sleeper.id, workerId: 'builtin' }),
      'stop',
    ]);
    expect(await h.app.getJob(next.id)).toMatchObject({ status: 'completed', output: 'after' });
    await h.settle(120_000);
    expect(await h.app.getJob(sleeper.id)).toMatchObject({ status: 'cancelled', output: null });
    expect(h.events.typesFor(sleeper.id)).toEqual(['job_submitted', 'job_started', 'job_cancelled']);
    h.events.expectContiguous();
  });

  it('retries a failed job from scratch; a completed or pending job cannot be retried', async () => {
    h = await startApp();
    const { job } = await h.app.submitJob({ type: 'fail', input: { retryable: false } });
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'failed', attempts: 1 });
    const retried = await h.app.retryJob(job.id);
    expect(retried).toMatchObject({ status: 'pending', attempts: 0, error: null, completed_at: null });
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(h.events.typesFor(job.id)).toEqual([
      'job_submitted',
      'job_started',
      'job_failed',
      'job_submitted',
      'job_started',
      'job_failed',
    ]);

    const { job: done } = await h.app.submitJob({ type: 'echo' });
    await h.settle();
    expect((await rejection(h.app.retryJob(done.id))).code).toBe('INVALID_STATE');
    const { job: queued } = await h.app.submitJob({ type: 'text-to-image', input: { prompt: 'q' } });
    expect((await rejection(h.app.retryJob(queued.id))).code).toBe('INVALID_STATE');
    expect((await rejection(h.app.retryJob('no-such-job'))).code).toBe('NOT_FOUND');
    expect((await rejection(h.app.cancelJob('no-such-job'))).code).toBe('NOT_FOUND');
    h.events.expectContiguous();
  });

  it('retries a cancelled job, which then runs to completion', async () => {
    h = await startApp();
    const { job } = await h.app.submitJob({ type: 'echo', input: 7, delay_ms: 1_000 });
    await h.app.cancelJob(job.id);
    await h.settle(200);
    expect(await h.app.retryJob(job.id)).toMatchObject({ status: 'pending', run_at: null });
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({
      status: 'completed',
      output: 7,
      attempts: 1,
      started_at: iso(START + 200),
    });
    // The original delay timer was cancelled: nothing happens when it would have fired.
    await h.settle(5_000);
    expect(h.events.typesFor(job.id)).toEqual([
      'job_submitted',
      'job_cancelled',
      'job_submitted',
      'job_started',
      'job_completed',
    ]);
  });
});

describe('idempotency and retention', () => {
  it('returns the first job for a repeated idempotency_key and creates nothing', async () => {
    h = await startApp();
    const first = await h.app.submitJob({ type: 'echo', input: { n: 1 }, idempotency_key: 'order-42' });
    await h.settle();
    const second = await h.app.submitJob({ type: 'echo', input: { n: 2 }, idempotency_key: 'order-42' });
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.job).toMatchObject({ id: first.job.id, input: { n: 1 }, status: 'completed' });
    const other = await h.app.submitJob({ type: 'echo', input: { n: 3 }, idempotency_key: 'order-43' });
    expect(other.created).toBe(true);
    expect(other.job.id).not.toBe(first.job.id);
    await h.settle();
    const stats = await h.app.stats();
    expect(stats.jobs.by_type.echo).toBe(2);
    expect(stats.jobs.by_status.completed).toBe(2);
    expect((await h.app.listJobs({})).items).toHaveLength(2);
    expect(h.events.ofType('job_submitted')).toHaveLength(2);
  });

  it('creates one job for concurrent submits with the same key', async () => {
    h = await startApp();
    const results = await Promise.all(
      [1, 2, 3].map((n) =>
        h.app.submitJob({ type: 'text-to-image', input: { prompt: `${n}` }, idempotency_key: 'same' }),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.job.id)).size).toBe(1);
    await h.settle();
    expect((await h.app.stats()).jobs.by_status.pending).toBe(1);
    expect(h.events.ofType('job_submitted')).toHaveLength(1);
  });

  it('removes a terminal job after retention_ms, leaves live jobs, and frees its idempotency key', async () => {
    h = await startApp({ config: configWith([], { retention_ms: 60_000 }) });
    const { job } = await h.app.submitJob({ type: 'echo', idempotency_key: 'k' });
    const { job: live } = await h.app.submitJob({ type: 'text-to-image', input: { prompt: 'x' } });
    await h.settle();
    expect((await h.app.getJob(job.id)).completed_at).toBe(iso(START));
    await h.settle(59_999);
    expect((await h.app.getJob(job.id)).status).toBe('completed');
    await h.settle(1);
    expect((await rejection(h.app.getJob(job.id))).code).toBe('NOT_FOUND');
    expect((await h.app.listJobs({})).items.map((j) => j.id)).toEqual([live.id]);
    const stats = await h.app.stats();
    expect(stats.jobs.by_status.completed).toBe(0);
    expect(stats.jobs.by_type.echo).toBe(0);
    expect(stats.jobs.by_status.pending).toBe(1);
    expect((await h.app.getJob(live.id)).status).toBe('pending');
    const again = await h.app.submitJob({ type: 'echo', idempotency_key: 'k' });
    expect(again.created).toBe(true);
    expect(again.job.id).not.toBe(job.id);
  });
});
