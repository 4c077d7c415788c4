/**
 * Worker sessions across a restart: a worker that was connected when the process died is
 * disconnected by `recover()` (its socket is gone), once, with the event in the durable log, and
 * its job goes back to pending for the next worker.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../../src/runtime/store/redis-store.js';
import { uniquePrefix } from '../support/redis.js';
import { FakeWorker } from './support/fake-worker.js';
import { type Harness, startApp } from './support/job-harness.js';

const opened: Array<{ h?: Harness; store: RedisStore }> = [];
afterEach(async () => {
  for (const { h, store } of opened.splice(0).reverse()) {
    await h?.close();
    await store.close();
  }
});

async function redisApp(prefix: string): Promise<Harness> {
  const store = await createRedisStore({ url: inject('redisUrl'), prefix });
  const slot: { h?: Harness; store: RedisStore } = { store };
  opened.push(slot);
  slot.h = await startApp({ store });
  return slot.h;
}

describe('worker sessions across a restart', () => {
  it('closes sessions left connected by a dead process and re-runs their jobs on a new worker', async () => {
    const prefix = uniquePrefix('sessions');
    const first = await redisApp(prefix);
    const old = FakeWorker.connect(first.app, { name: 'old', types: ['text-to-image'], gpuMemoryGb: 8 });
    const { job } = await first.app.submitJob({ type: 'text-to-image', input: { prompt: 'x' } });
    await first.settle();
    expect(old.assignment(job.id).jobId).toBe(job.id);
    expect(await first.app.listWorkers()).toHaveLength(1);

    // A new process on the same store: the old socket is gone without a goodbye.
    const second = await redisApp(prefix);
    await second.app.recover();
    await second.settle();
    expect(await second.app.listWorkers()).toEqual([]);
    const logged = await second.store.readEvents(0, 1_000);
    const disconnects = logged.filter(
      (entry) => (entry.event as { type: string }).type === 'worker_disconnected',
    );
    expect(disconnects.map((entry) => entry.event)).toEqual([
      expect.objectContaining({ worker_id: old.id, name: 'old', reason: 'server restarted' }),
    ]);
    expect((await second.app.getJob(job.id)).status).toBe('pending');

    const fresh = FakeWorker.connect(second.app, { name: 'new', types: ['text-to-image'], gpuMemoryGb: 8 });
    await second.settle();
    fresh.complete(job.id, { ok: 1 });
    await second.settle();
    expect(await second.app.getJob(job.id)).toMatchObject({
      status: 'completed',
      attempts: 1,
      output: { ok: 1 },
    });
  });
});
