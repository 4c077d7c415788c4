/**
 * Remote workers: what an assignment carries, progress, results and failures reported with the
 * lease, lease fencing (a stale result never overwrites the outcome), cancel and timeout sent to
 * the worker, and jobs returning to pending when their worker disconnects.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeWorker } from './support/fake-worker.js';
import { type Harness, iso, START, startApp } from './support/job-harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const T2I = 'text-to-image';
const prompt = (p = 'a cat') => ({ type: T2I, input: { prompt: p } });

async function connect(name = 'w', slots = 1) {
  return FakeWorker.connect(h.app, { name, types: [T2I], gpuMemoryGb: 24, slots });
}

describe('assignments, progress and results', () => {
  it('assigns with lease, attempt and deadline, then records progress, output and cost', async () => {
    h = await startApp();
    const { job } = await h.app.submitJob(prompt());
    const worker = await connect();
    await h.settle(50);
    const a = worker.assignment(job.id);
    expect(a).toEqual({
      jobId: job.id,
      type: T2I,
      input: { prompt: 'a cat' },
      attempt: 1,
      lease: expect.any(String),
      timeoutMs: 600_000,
      deadline: START + 50 + 600_000,
      workerId: worker.id,
    });
    expect(await h.app.getJob(job.id)).toMatchObject({
      status: 'running',
      worker_id: worker.id,
      progress: 0,
    });

    worker.progress(job.id, 25, 'warming up');
    await h.settle();
    expect((await h.app.getJob(job.id)).progress).toBe(25);
    worker.progress(job.id, 160);
    await h.settle();
    expect((await h.app.getJob(job.id)).progress).toBe(100);
    worker.progress(job.id, 60);
    await h.settle(10);
    worker.complete(job.id, { url: 's3://out.png' }, 0.42);
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({
      status: 'completed',
      progress: 100,
      output: { url: 's3://out.png' },
      cost: 0.42,
      attempts: 1,
      worker_id: worker.id,
      started_at: iso(START + 50),
      completed_at: iso(START + 60),
    });
    expect(h.events.forJob(job.id)).toMatchObject([
      { type: 'job_submitted', status: 'pending' },
      { type: 'job_started', attempt: 1, worker_id: worker.id },
      { type: 'job_progress', progress: 25, message: 'warming up' },
      { type: 'job_progress', progress: 100, message: null },
      { type: 'job_progress', progress: 60, message: null },
      { type: 'job_completed', output: { url: 's3://out.png' }, cost: 0.42, attempts: 1 },
    ]);
    h.events.expectContiguous();
  });

  it('retries a retryable worker failure with a new lease and fails a non-retryable one at once', async () => {
    h = await startApp();
    const worker = await connect('w', 2);
    const { job: flaky } = await h.app.submitJob(prompt('flaky'));
    const { job: broken } = await h.app.submitJob(prompt('broken'));
    await h.settle();
    const first = worker.assignment(flaky.id);
    worker.fail(flaky.id, { code: 'OOM', message: 'out of memory', retryable: true });
    worker.fail(broken.id, { code: 'BAD_PROMPT', message: 'nope', retryable: false });
    await h.settle();
    const second = worker.assignment(flaky.id);
    expect(second).toMatchObject({ attempt: 2 });
    expect(second.lease).not.toBe(first.lease);
    expect(await h.app.getJob(broken.id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'BAD_PROMPT', message: 'nope', retryable: false },
    });
    worker.complete(second, 'ok');
    await h.settle();
    expect(await h.app.getJob(flaky.id)).toMatchObject({ status: 'completed', attempts: 2, output: 'ok' });
    expect(h.events.typesFor(flaky.id)).toEqual([
      'job_submitted',
      'job_started',
      'job_retrying',
      'job_started',
      'job_completed',
    ]);
    expect(h.events.typesFor(broken.id)).toEqual(['job_submitted', 'job_started', 'job_failed']);
  });
});

describe('lease fencing', () => {
  it('ignores a late result from a timed-out attempt; the job completes once with the current output', async () => {
    h = await startApp();
    const worker = await connect('w', 2);
    const { job } = await h.app.submitJob({
      ...prompt(),
      timeout_ms: 1_000,
      max_attempts: 2,
      backoff: { type: 'fixed', delay_ms: 100, max_delay_ms: 100 },
    });
    await h.settle();
    const stale = worker.assignment(job.id);
    await h.settle(1_000);
    expect(worker.cancels).toEqual([{ jobId: job.id, lease: stale.lease, reason: 'timeout' }]);
    expect((await h.app.getJob(job.id)).status).toBe('delayed');

    // The old attempt reports while the job waits for its retry: rejected.
    h.app.workerSink.complete(job.id, stale.lease, 'stale-early');
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'delayed', output: null });

    await h.settle(100);
    const current = worker.assignment(job.id);
    expect(current).toMatchObject({ attempt: 2 });
    h.app.workerSink.progress(job.id, stale.lease, 99);
    h.app.workerSink.complete(job.id, stale.lease, 'stale-late');
    h.app.workerSink.fail(job.id, stale.lease, { code: 'X', message: 'x', retryable: false });
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({
      status: 'running',
      attempts: 2,
      progress: 0,
      output: null,
    });

    worker.complete(current, 'fresh');
    h.app.workerSink.complete(job.id, stale.lease, 'stale-after');
    h.app.workerSink.complete(job.id, current.lease, 'duplicate');
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'completed', output: 'fresh', attempts: 2 });
    expect(h.events.ofType('job_completed')).toMatchObject([{ job_id: job.id, output: 'fresh' }]);
    expect(h.events.ofType('job_progress')).toEqual([]);
    h.events.expectContiguous();
  });

  it('times out the last attempt of a remote job: failed, and the worker is told to cancel', async () => {
    h = await startApp();
    const worker = await connect();
    const { job } = await h.app.submitJob({ ...prompt(), timeout_ms: 5_000, max_attempts: 1 });
    await h.settle();
    await h.settle(5_000);
    const a = worker.assignment(job.id);
    expect(worker.cancels).toEqual([{ jobId: job.id, lease: a.lease, reason: 'timeout' }]);
    expect(await h.app.getJob(job.id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'TIMEOUT', retryable: true },
    });
    // The slot came back: the worker gets the next job.
    const { job: next } = await h.app.submitJob(prompt('next'));
    await h.settle();
    expect(worker.active.map((x) => x.jobId)).toEqual([next.id]);
  });
});

describe('cancel and disconnect', () => {
  it('sends cancel to the worker running a cancelled job and frees its slot', async () => {
    h = await startApp();
    const worker = await connect();
    const { job } = await h.app.submitJob(prompt());
    const { job: queued } = await h.app.submitJob(prompt('queued'));
    await h.settle();
    const a = worker.assignment(job.id);
    expect(await h.app.cancelJob(job.id, 'user said so')).toMatchObject({ status: 'cancelled', attempts: 1 });
    await h.settle();
    expect(worker.cancels).toEqual([{ jobId: job.id, lease: a.lease, reason: 'user said so' }]);
    worker.complete(a, 'too late');
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'cancelled', output: null });
    expect(worker.active.map((x) => x.jobId)).toEqual([queued.id]);
    expect(h.events.typesFor(job.id)).toEqual(['job_submitted', 'job_started', 'job_cancelled']);
  });

  it('returns a disconnected worker’s job to pending; another worker completes it once, attempts not inflated', async () => {
    h = await startApp();
    const w1 = await connect('w1');
    const { job } = await h.app.submitJob(prompt());
    await h.settle();
    const lost = w1.assignment(job.id);
    w1.progress(job.id, 40);
    await h.settle();
    w1.disconnect();
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({
      status: 'pending',
      attempts: 0,
      worker_id: null,
      progress: 0,
    });

    const w2 = await connect('w2');
    await h.settle(20);
    const again = w2.assignment(job.id);
    expect(again).toMatchObject({ attempt: 1, workerId: w2.id });
    expect(again.lease).not.toBe(lost.lease);
    // The first worker's result arrives late (e.g. over a reconnect): fenced off.
    h.app.workerSink.complete(job.id, lost.lease, 'from-w1');
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'running', worker_id: w2.id });
    w2.complete(again, 'from-w2');
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({
      status: 'completed',
      output: 'from-w2',
      attempts: 1,
      worker_id: w2.id,
      started_at: iso(START + 20),
    });
    expect(h.events.forJob(job.id)).toMatchObject([
      { type: 'job_submitted' },
      { type: 'job_started', attempt: 1, worker_id: w1.id },
      { type: 'job_progress', progress: 40 },
      { type: 'job_started', attempt: 1, worker_id: w2.id },
      { type: 'job_completed', output: 'from-w2', attempts: 1 },
    ]);
    expect(w1.assigns).toHaveLength(1);
    h.events.expectContiguous();
  });

  it('moves every job of a disconnected worker to the remaining one, each exactly once', async () => {
    h = await startApp();
    const w1 = await connect('w1', 3);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await h.app.submitJob(prompt(`p${i}`))).job.id);
    await h.settle();
    expect(w1.active).toHaveLength(3);
    const w2 = await connect('w2', 3);
    await h.settle();
    expect(w2.assigns).toEqual([]);
    w1.disconnect();
    await h.settle();
    expect(w2.active.map((a) => a.jobId).sort()).toEqual([...ids].sort());
    for (const a of w2.active) w2.complete(a, a.jobId);
    await h.settle();
    for (const id of ids) {
      expect(await h.app.getJob(id)).toMatchObject({ status: 'completed', attempts: 1, output: id });
    }
    expect(h.events.ofType('job_completed')).toHaveLength(3);
    expect((await h.app.stats()).queue).toMatchObject({ workers: 2, running: { [T2I]: 0 } });
  });
});

describe('worker sessions', () => {
  it('emits worker_connected and worker_disconnected once each and lists connected workers', async () => {
    h = await startApp();
    const worker = await connect('gpu-box', 2);
    await h.settle();
    expect(h.events.ofType('worker_connected')).toEqual([
      expect.objectContaining({ worker_id: worker.id, name: 'gpu-box', types: [T2I], trace_id: null }),
    ]);
    const { job } = await h.app.submitJob(prompt());
    await h.settle();
    expect(await h.app.listWorkers()).toEqual([
      {
        id: worker.id,
        name: 'gpu-box',
        types: [T2I],
        capabilities: { gpu_memory_gb: 24, labels: [] },
        slots: 2,
        running: 1,
        connected_at: expect.any(String),
        last_seen: expect.any(String),
      },
    ]);
    worker.disconnect();
    await h.settle();
    expect(h.events.ofType('worker_disconnected')).toEqual([
      expect.objectContaining({ worker_id: worker.id, name: 'gpu-box', reason: 'disconnected' }),
    ]);
    expect(await h.app.listWorkers()).toEqual([]);
    expect((await h.app.getJob(job.id)).status).toBe('pending');
    // Disconnecting twice changes nothing and emits nothing.
    worker.disconnect();
    await h.settle();
    expect(h.events.ofType('worker_disconnected')).toHaveLength(1);
  });
});
