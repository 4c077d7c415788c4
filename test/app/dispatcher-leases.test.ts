/**
 * Lease bookkeeping at the edges: a lease the job accepts only after the dispatcher gave up on it,
 * queue entries of jobs that were cancelled or removed before a worker came, and the dispatcher's
 * counters after jobs leave by every route.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JobState } from '../../src/actors/job.js';
import type { CommitEntry } from '../../src/runtime/store/snapshot-store.js';
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

  it('gives up a lease whose job does not answer its check, and still completes the job once', async () => {
    const store = new ControlledStore();
    h = await startApp({ store });
    const { job } = await h.app.submitJob({ type: 'echo', input: 'slower store' });
    // The running write hangs past the check (30 s) and past the wait for its answer (30 s more).
    store.hold();
    await rounds(10);
    h.clock.advance(30_000);
    await rounds(10);
    h.clock.advance(30_000);
    await rounds(10);
    store.release();
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'completed', output: 'slower store' });
    expect(h.events.ofType('job_completed')).toHaveLength(1);
    const stats = (await h.app.stats()).queue;
    expect(stats.running.echo ?? 0).toBe(0);
    expect(stats.queued.echo ?? 0).toBe(0);
  });

  it('keeps a long execution on its lease: the job accepts the check, nothing is cancelled or re-sent', async () => {
    h = await startApp();
    const worker = FakeWorker.connect(h.app, { types: ['text-to-image'], gpuMemoryGb: 8, slots: 1 });
    await h.settle();
    const { job } = await h.app.submitJob({ type: 'text-to-image', input: { prompt: 'long' } });
    await h.settle();
    // Three ack timeouts: checked once at the first, never given up.
    await h.settle(30_000);
    await h.settle(30_000);
    await h.settle(30_000);
    expect(worker.assigns.map((a) => a.jobId)).toEqual([job.id]);
    expect(worker.cancels).toEqual([]);
    expect((await h.app.stats()).queue.running['text-to-image']).toBe(1);
    worker.complete(job.id, 'done');
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'completed', output: 'done', attempts: 1 });
    expect((await h.app.stats()).queue.running['text-to-image'] ?? 0).toBe(0);
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

describe('execution started before the running write', () => {
  const runningWrite = (entry: CommitEntry) =>
    entry.kind === 'job' && (entry.record?.state as JobState | null)?.status === 'running';
  /** The job's writes, in order. */
  const writesOf = (store: ControlledStore, jobId: string) =>
    store.commits.flat().filter((entry) => entry.kind === 'job' && entry.id === jobId);
  const statusOf = (entry: CommitEntry) => (entry.record?.state as JobState | undefined)?.status;

  it('writes a fast job once when queued and once when done: its start and its end share a write', async () => {
    const store = new ControlledStore();
    // Start and end share a write when they fall in one scheduler turn; a turn cut short by its
    // time budget (a slow or busy machine) would write them apart, so the budget is lifted here.
    h = await startApp({ store, scheduler: { turnMicros: Number.POSITIVE_INFINITY } });
    // The server's first job: the dispatcher wakes up for it in a turn of its own, after the
    // creating write has gone out (the next test has the later jobs, written once).
    const { job } = await h.app.submitJob({ type: 'echo', input: 'quick' });
    await h.settle();
    expect(writesOf(store, job.id).map(statusOf)).toEqual(['pending', 'completed']);
    // Both transitions are still published, each once, in order, from the durable log.
    expect(h.events.forJob(job.id).map((event) => event.type)).toEqual([
      'job_submitted',
      'job_started',
      'job_completed',
    ]);
  });

  it('runs a fast job while its creating write is in flight: one write carries its whole life', async () => {
    const store = new ControlledStore();
    h = await startApp({ store, scheduler: { turnMicros: Number.POSITIVE_INFINITY } });
    // The first job also wakes the dispatcher, which takes a turn of its own.
    await h.app.submitJob({ type: 'echo', input: 'warm-up' });
    await h.settle();
    const { job } = await h.app.submitJob({ type: 'echo', input: 'quick' });
    // The submit was answered with the job as created, though the write it waited for holds its end.
    expect(job.status).toBe('pending');
    await h.settle();
    const writes = writesOf(store, job.id);
    expect(writes.map(statusOf)).toEqual(['completed']);
    expect(writes[0]!.events.map((event) => (event as { type: string }).type)).toEqual([
      'job_submitted',
      'job_started',
      'job_completed',
    ]);
    expect(h.events.forJob(job.id).map((event) => event.type)).toEqual([
      'job_submitted',
      'job_started',
      'job_completed',
    ]);
  });

  it('refuses a submit whose creating write fails though its run began; its report frees the slot at once', async () => {
    const store = new ControlledStore();
    h = await startApp({ store });
    const worker = FakeWorker.connect(h.app, { types: ['text-to-image'], gpuMemoryGb: 8, slots: 1 });
    await h.settle();
    store.failCommits((entry) => entry.kind === 'job');
    const failed = await rejection(h.app.submitJob({ type: 'text-to-image', input: { prompt: 'x' } }));
    expect(failed.code).toBe('STORE_UNAVAILABLE');
    await h.settle();
    // The worker was handed the job before the write failed; its report lands nowhere.
    const [lost] = worker.assigns;
    expect(lost).toBeDefined();
    worker.complete(lost!, 'from a job that never was');
    await h.settle();
    expect((await rejection(h.app.getJob(lost!.jobId))).code).toBe('NOT_FOUND');
    expect(h.events.forJob(lost!.jobId)).toEqual([]);

    // The report ended the execution: the slot is free at once, nothing is cancelled.
    expect((await h.app.stats()).queue.running['text-to-image'] ?? 0).toBe(0);
    const { job } = await h.app.submitJob({ type: 'text-to-image', input: { prompt: 'y' } });
    await h.settle();
    expect(worker.assigns.map((a) => a.jobId)).toEqual([lost!.jobId, job.id]);
    await h.settle(60_000);
    expect(worker.cancels).toEqual([]);
  });

  it('frees the slot of a job whose creating write failed once a worker that never reports is checked', async () => {
    const store = new ControlledStore();
    h = await startApp({ store });
    const worker = FakeWorker.connect(h.app, { types: ['text-to-image'], gpuMemoryGb: 8, slots: 1 });
    await h.settle();
    store.failCommits((entry) => entry.kind === 'job');
    await rejection(h.app.submitJob({ type: 'text-to-image', input: { prompt: 'x' } }));
    await h.settle();
    const [lost] = worker.assigns;
    expect((await h.app.stats()).queue.running['text-to-image']).toBe(1);
    // The lease is checked after the ack timeout; the job, not there, refuses it.
    await h.settle(30_000);
    expect(worker.cancels.map((c) => c.lease)).toEqual([lost!.lease]);
    expect((await h.app.stats()).queue.running['text-to-image'] ?? 0).toBe(0);
  });

  it('cancels the execution and requeues the job when its running write fails', async () => {
    const store = new ControlledStore();
    h = await startApp({ store });
    // Created (and durable) before a worker comes: otherwise the job may run while its creating
    // write is in flight, and one write carries both.
    const { job } = await h.app.submitJob({ type: 'text-to-image', input: { prompt: 'x' } });
    await h.settle();
    store.failCommits(runningWrite);
    const first = FakeWorker.connect(h.app, { types: ['text-to-image'], gpuMemoryGb: 8, slots: 1 });
    await h.settle();
    // The worker got the job before the write that failed; the job itself is back to pending.
    expect(first.assigns.map((a) => a.jobId)).toEqual([job.id]);
    expect((await h.app.getJob(job.id)).status).toBe('pending');
    expect(h.events.ofType('job_started')).toHaveLength(0);

    // A report on the reverted lease changes nothing.
    first.complete(job.id, 'from the reverted attempt');
    await h.settle();
    expect((await h.app.getJob(job.id)).status).toBe('pending');

    // After the ack timeout the job, asked about the lease, refuses it: the worker is told to stop
    // and the job is leased again.
    await h.settle(30_000);
    expect(first.cancels.map((c) => c.lease)).toEqual([first.assigns[0]!.lease]);
    expect(first.assigns.map((a) => a.jobId)).toEqual([job.id, job.id]);
    first.complete(first.assigns[1]!, 'second');
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'completed', output: 'second', attempts: 1 });
    expect(h.events.ofType('job_started')).toHaveLength(1);
    expect(h.events.ofType('job_completed')).toHaveLength(1);
    expect((await h.app.stats()).queue.running['text-to-image'] ?? 0).toBe(0);
  });
});

describe('a result lost with a failed write', () => {
  it('runs an in-process job again when its completed write failed; the lease check finds it', async () => {
    const store = new ControlledStore();
    h = await startApp({ store });
    const { job } = await h.app.submitJob({ type: 'sleep', input: { ms: 10 } });
    await h.settle();
    expect((await h.app.getJob(job.id)).status).toBe('running');
    store.failCommits(
      (entry) => entry.kind === 'job' && (entry.record?.state as JobState | null)?.status === 'completed',
    );
    await h.settle(10);
    // The sleep is over, and its result went with the write: the job is still running on the lease.
    expect((await h.app.getJob(job.id)).status).toBe('running');
    expect(h.events.ofType('job_completed')).toHaveLength(0);

    // The lease check: the job still runs on the lease, the executor no longer does. Run it again.
    await h.settle(30_000);
    await h.settle(10);
    expect(await h.app.getJob(job.id)).toMatchObject({
      status: 'completed',
      output: { slept_ms: 10 },
      attempts: 1,
    });
    expect(h.events.typesFor(job.id)).toEqual([
      'job_submitted',
      'job_started',
      'job_started',
      'job_completed',
    ]);
    expect((await h.app.stats()).queue.running.sleep ?? 0).toBe(0);
  });

  it('finds a result lost after the lease was checked: the next look runs the job again', async () => {
    const store = new ControlledStore();
    h = await startApp({ store });
    const { job } = await h.app.submitJob({ type: 'sleep', input: { ms: 45_000 } });
    await h.settle();
    await h.settle(5_000);
    // Another lease, whose own check (at 35 s) comes between this one's check and its next look.
    const { job: other } = await h.app.submitJob({ type: 'sleep', input: { ms: 200_000 } });
    await h.settle();
    // Checked at 30 s and accepted: the sleep still runs.
    await h.settle(25_000);
    store.failCommits(
      (entry) => entry.kind === 'job' && (entry.record?.state as JobState | null)?.status === 'completed',
    );
    await h.settle(5_000);
    // It ends at 45 s, and its result goes with the failed write.
    await h.settle(10_000);
    expect((await h.app.getJob(job.id)).status).toBe('running');
    // The next look (60 s) finds the lease open and the sleep over: the job runs again.
    await h.settle(15_000);
    await h.settle(45_000);
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'completed', attempts: 1 });
    expect(h.events.typesFor(job.id)).toEqual([
      'job_submitted',
      'job_started',
      'job_started',
      'job_completed',
    ]);
    // The other one still sleeps, on its first lease.
    expect(h.events.typesFor(other.id)).toEqual(['job_submitted', 'job_started']);
    expect((await h.app.stats()).queue.running.sleep).toBe(1);
  });

  it('leaves a lease alone while its in-process execution still runs', async () => {
    h = await startApp();
    const { job } = await h.app.submitJob({ type: 'sleep', input: { ms: 90_000 } });
    await h.settle();
    await h.settle(30_000);
    await h.settle(30_000);
    expect((await h.app.getJob(job.id)).status).toBe('running');
    await h.settle(30_000);
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'completed', attempts: 1 });
    expect(h.events.typesFor(job.id)).toEqual(['job_submitted', 'job_started', 'job_completed']);
  });
});
