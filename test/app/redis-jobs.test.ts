/**
 * Jobs on the Redis store: a whole lifecycle and a retry with the durable event log, and restart
 * recovery: pending, delayed and running jobs of a stopped app run exactly once in a new app on
 * the same prefix after `recover()`.
 */
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { SimulatedClock } from '../../src/runtime/clock.js';
import { createRedisStore, type RedisStore } from '../../src/runtime/store/redis-store.js';
import { uniquePrefix } from '../support/redis.js';
import { FakeWorker } from './support/fake-worker.js';
import { configWith, type Harness, iso, rejection, START, startApp } from './support/job-harness.js';

const opened: Array<{ h?: Harness; store: RedisStore }> = [];
afterEach(async () => {
  for (const { h, store } of opened.splice(0).reverse()) {
    await h?.close();
    await store.close();
  }
});

async function redisApp(
  prefix: string,
  options: { clock?: SimulatedClock; builtinSlots?: number; config?: ReturnType<typeof configWith> } = {},
) {
  const store = await createRedisStore({ url: inject('redisUrl'), prefix });
  const slot: { h?: Harness; store: RedisStore } = { store };
  opened.push(slot);
  slot.h = await startApp({ store, ...options });
  return slot.h;
}

describe('jobs on Redis', () => {
  it('runs a remote job through its whole lifecycle with durable state and a gap-free event log', async () => {
    const prefix = uniquePrefix('jobs');
    const h = await redisApp(prefix);
    const worker = FakeWorker.connect(h.app, { types: ['text-to-image'], gpuMemoryGb: 8 });
    const { job } = await h.app.submitJob({ type: 'text-to-image', input: { prompt: 'durable' } });
    await h.settle(5);
    worker.progress(job.id, 50, 'half');
    await h.settle();
    worker.complete(job.id, { image: 'i.png' }, 1.5);
    await h.settle(5);
    const done = await h.app.getJob(job.id);
    expect(done).toMatchObject({
      status: 'completed',
      output: { image: 'i.png' },
      cost: 1.5,
      attempts: 1,
      started_at: iso(START + 5),
      completed_at: iso(START + 10),
    });
    expect(h.events.typesFor(job.id)).toEqual([
      'job_submitted',
      'job_started',
      'job_progress',
      'job_completed',
    ]);
    h.events.expectContiguous();

    // The durable log replays the same events to a late subscriber, from the start.
    const replayed: string[] = [];
    const sub = await h.app.subscribe([`job:${job.id}`], `${(await h.store.eventLogInfo()).epoch}.0`, (d) => {
      if (d.kind === 'event') replayed.push(d.event.type);
    });
    sub.unsubscribe();
    expect(replayed).toEqual(h.events.typesFor(job.id));

    // A second app on the same prefix reads the same job from Redis.
    const other = await redisApp(prefix);
    expect(await other.app.getJob(job.id)).toEqual(done);
    expect((await other.app.listJobs({ status: 'completed' })).items.map((j) => j.id)).toEqual([job.id]);
  });

  it('expires finished jobs, workflows and idempotency keys after retention and leaves no key behind', async () => {
    const prefix = uniquePrefix('expiry');
    const h = await redisApp(prefix, { config: configWith([], { retention_ms: 60_000 }) });
    const { job } = await h.app.submitJob({ type: 'echo', input: { n: 1 }, idempotency_key: 'k' });
    const { workflow } = await h.app.submitWorkflow({
      name: 'two',
      steps: [
        { name: 'a', type: 'echo', input: { x: 1 } },
        { name: 'b', type: 'echo', input: { y: '{{ steps.a.output.x }}' }, depends_on: ['a'] },
      ],
    });
    const live = await h.app.submitJob({ type: 'text-to-image', input: { prompt: 'stays' } });
    await h.settle();
    expect((await h.app.getWorkflow(workflow.id)).status).toBe('completed');
    const { store } = opened.at(-1)!;
    const keysBefore = await store.client.keys(`${prefix}*`);

    await h.settle(60_000);
    await h.settle(100);
    expect((await rejection(h.app.getJob(job.id))).code).toBe('NOT_FOUND');
    expect((await rejection(h.app.getWorkflow(workflow.id))).code).toBe('NOT_FOUND');
    expect((await h.app.listJobs({})).items.map((j) => j.id)).toEqual([live.job.id]);
    // Only the live job's snapshot is left, with its own index entries, and its events in the log.
    const keys = await store.client.keys(`${prefix}*`);
    expect(keys.filter((key) => key.includes('snap:'))).toEqual([store.keys.snapshot('job', live.job.id)]);
    expect(keys.length).toBeLessThan(keysBefore.length);
    for (const key of keys.filter((k) => k.includes(':idx:')))
      expect(await store.client.zrange(key, 0, -1)).toEqual([live.job.id]);
    expect(await store.client.zcard(store.keys.timers())).toBe(0);
    expect(await store.client.zcard(store.keys.removalTimers())).toBe(0);
    const again = await h.app.submitJob({ type: 'echo', idempotency_key: 'k' });
    expect(again.created).toBe(true);
  });

  it('removes, after a restart, the jobs whose retention ran out while the app was down, in bulk', async () => {
    const prefix = uniquePrefix('expiry-recover');
    const config = configWith([], { retention_ms: 60_000 });
    const before = await redisApp(prefix, { config });
    const finished = await Promise.all(
      Array.from(
        { length: 600 },
        async (_, n) => (await before.app.submitJob({ type: 'echo', input: { n } })).job.id,
      ),
    );
    const live = (await before.app.submitJob({ type: 'text-to-image', input: { prompt: 'stays' } })).job.id;
    await before.settle();
    await before.app.shutdown();

    // Back after the retention ran out: every expiry is overdue at recovery.
    const after = await redisApp(prefix, { config, clock: new SimulatedClock(before.clock.now() + 61_000) });
    const afterStore = opened.at(-1)!.store;
    const afterLoads = vi.spyOn(afterStore, 'load');
    await after.app.recover();
    const timersLeft = async () =>
      (await afterStore.client.zcard(afterStore.keys.timers())) +
      (await afterStore.client.zcard(afterStore.keys.removalTimers()));
    for (let i = 0; i < 20 && (await timersLeft()) > 0; i++) await after.settle(10);
    expect(await timersLeft()).toBe(0);
    expect((await after.app.listJobs({})).items.map((j) => j.id)).toEqual([live]);
    const snapshots = (await afterStore.client.keys(`${prefix}*`)).filter((key) => key.includes('snap:'));
    expect(snapshots).toEqual([afterStore.keys.snapshot('job', live)]);
    // Not one of the 600 was loaded to be removed (the live job is, by recovery's requeue).
    const loaded = afterLoads.mock.calls.map(([kind, id]) => `${kind}:${id}`);
    expect(loaded.filter((key) => finished.some((id) => key === `job:${id}`))).toEqual([]);
    expect((await rejection(after.app.getJob(finished[0]!))).code).toBe('NOT_FOUND');
  });

  it('retries a timed-out attempt after its backoff and completes on the second attempt', async () => {
    const h = await redisApp(uniquePrefix('retry'));
    const worker = FakeWorker.connect(h.app, { types: ['text-to-image'], gpuMemoryGb: 8 });
    const { job } = await h.app.submitJob({
      type: 'text-to-image',
      input: { prompt: 'slow' },
      timeout_ms: 1_000,
      backoff: { type: 'exponential', delay_ms: 200, max_delay_ms: 1_000 },
    });
    await h.settle();
    const first = worker.assignment(job.id);
    await h.settle(1_000);
    expect(worker.cancels).toEqual([{ jobId: job.id, lease: first.lease, reason: 'timeout' }]);
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'delayed', run_at: iso(START + 1_200) });
    await h.settle(200);
    const second = worker.assignment(job.id);
    expect(second.attempt).toBe(2);
    worker.complete(first, 'stale');
    worker.complete(second, 'fresh');
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'completed', output: 'fresh', attempts: 2 });
    expect(h.events.forJob(job.id)).toMatchObject([
      { type: 'job_submitted' },
      { type: 'job_started', attempt: 1 },
      { type: 'job_retrying', attempt: 1, retry_at: iso(START + 1_200), error: { code: 'TIMEOUT' } },
      { type: 'job_started', attempt: 2 },
      { type: 'job_completed', output: 'fresh', attempts: 2 },
    ]);
    h.events.expectContiguous();
  });
});

describe('restart recovery', () => {
  it('keeps an input the payload pool left as JSON text through dispatch, Redis and a restart', async () => {
    const prefix = uniquePrefix('encoded');
    const before = await redisApp(prefix);
    const input = { prompt: 'encoded', parameters: { high_quality: true } };
    const inputJson = new Uint8Array(new SharedArrayBuffer(Buffer.byteLength(JSON.stringify(input))));
    inputJson.set(Buffer.from(JSON.stringify(input)));
    const { job } = await before.app.submitJob(
      { type: 'text-to-image', input: null },
      { prepared: { type: 'text-to-image', problems: [], digest: null, inputJson } },
    );
    expect(job.input).toEqual(input);
    // The GPU need grows with `parameters.high_quality`: read from the text (8 + 4 GB).
    const small = FakeWorker.connect(before.app, { types: ['text-to-image'], gpuMemoryGb: 8 });
    await before.settle();
    expect(small.assigns).toEqual([]);
    const worker = FakeWorker.connect(before.app, { types: ['text-to-image'], gpuMemoryGb: 16 });
    await before.settle();
    expect(worker.assignment(job.id).input).toEqual(input);
    await before.app.shutdown();

    const after = await redisApp(prefix);
    expect((await after.app.getJob(job.id)).input).toEqual(input);
  });

  it('runs pending, delayed and running jobs of a stopped app exactly once after recover()', async () => {
    const prefix = uniquePrefix('recover');
    const before = await redisApp(prefix, { builtinSlots: 1 });
    const t2i = (prompt: string, priority: number) => ({
      type: 'text-to-image',
      input: { prompt },
      priority,
    });
    const gone = FakeWorker.connect(before.app, { types: ['text-to-image'], gpuMemoryGb: 8 });
    const running = (await before.app.submitJob(t2i('running', 50))).job.id;
    await before.settle();
    const low = (await before.app.submitJob(t2i('low', 10))).job.id;
    const high = (await before.app.submitJob(t2i('high', 90))).job.id;
    const delayed = (await before.app.submitJob({ ...t2i('later', 50), delay_ms: 10_000 })).job.id;
    const longSleep = (await before.app.submitJob({ type: 'sleep', input: { ms: 60_000 } })).job.id;
    const shortSleep = (await before.app.submitJob({ type: 'sleep', input: { ms: 1_000 } })).job.id;
    await before.settle(100);
    const statuses = async (h: Harness, ids: string[]) =>
      Promise.all(ids.map(async (id) => (await h.app.getJob(id)).status));
    const all = [running, low, high, delayed, longSleep, shortSleep];
    expect(await statuses(before, all)).toEqual([
      'running',
      'pending',
      'pending',
      'delayed',
      'running',
      'pending',
    ]);
    const staleLease = gone.assignment(running).lease;
    const lastSeq = (await before.store.eventLogInfo()).lastSeq;
    // The process stops without telling anyone (the worker's connection dies with it).
    await before.app.shutdown();

    const after = await redisApp(prefix, { clock: new SimulatedClock(before.clock.now()), builtinSlots: 1 });
    const recovered = await after.app.recover();
    expect(recovered.requeued).toBe(5);
    await after.settle();
    const worker = FakeWorker.connect(after.app, { types: ['text-to-image'], gpuMemoryGb: 8, slots: 3 });
    await after.settle();
    expect(worker.assigns.map((a) => [a.jobId, a.attempt])).toEqual([
      [high, 1],
      [running, 1],
      [low, 1],
    ]);
    after.app.workerSink.complete(running, staleLease, 'from the dead worker');
    for (const a of worker.active) worker.complete(a, a.input);
    await after.settle(10_000 - 100 - 1);
    expect((await after.app.getJob(delayed)).status).toBe('delayed');
    await after.settle(1);
    worker.complete(delayed, 'later');
    await after.settle();
    expect(await after.app.getJob(delayed)).toMatchObject({ status: 'completed', output: 'later' });
    expect(worker.assigns).toHaveLength(4);
    // Both sleeps restart from scratch, one after the other on the single builtin slot.
    await after.settle(61_000);
    await after.settle(1_000);
    expect(await statuses(after, all)).toEqual(all.map(() => 'completed'));
    expect(await after.app.getJob(running)).toMatchObject({ output: { prompt: 'running' }, attempts: 1 });
    expect(await after.app.getJob(longSleep)).toMatchObject({ output: { slept_ms: 60_000 }, attempts: 1 });

    const completed = after.events.ofType('job_completed').map((e) => e.job_id);
    expect([...completed].sort()).toEqual([...all].sort());
    expect(after.events.ofType('job_failed')).toEqual([]);
    expect(after.events.firstSeq).toBe(lastSeq + 1);
    after.events.expectContiguous();
    expect((await after.app.stats()).queue).toMatchObject({
      running: { 'text-to-image': 0, sleep: 0 },
      queued: { 'text-to-image': 0, sleep: 0 },
    });
  });
});
