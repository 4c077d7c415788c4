/**
 * The dispatcher through the API: priority order when no slot is free, capability matching
 * (GPU memory rules of the default config, labels), credit-based assignment, per-type concurrency
 * and rate limits, and round-robin fairness across the types a worker serves.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeWorker } from './support/fake-worker.js';
import { configWith, type Harness, startApp } from './support/job-harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const remote = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  executor: 'remote',
  ...extra,
});

const TYPES = [
  remote('gpu-a'),
  remote('gpu-b'),
  remote('labelled', { requirements: { capabilities: ['cuda', 'fp16'] } }),
  remote('limited', { concurrency: 2 }),
  remote('throttled', { rate: 2 }),
  { name: 'nap', executor: 'builtin:sleep', concurrency: 2 },
];

async function app(options: { builtinSlots?: number } = {}) {
  h = await startApp({ config: configWith(TYPES), ...options });
  return h;
}

async function statuses(ids: string[]): Promise<string[]> {
  return Promise.all(ids.map(async (id) => (await h.app.getJob(id)).status));
}

describe('priority', () => {
  it('runs queued jobs highest priority first, FIFO within a priority, when the only slot frees', async () => {
    await app({ builtinSlots: 1 });
    const { job: blocker } = await h.app.submitJob({ type: 'sleep', input: { ms: 10_000 } });
    await h.settle();
    const priorities = [10, 50, 90, 50, 10, 90, 0, 100, 50];
    const ids: string[] = [];
    for (const [index, priority] of priorities.entries()) {
      ids.push((await h.app.submitJob({ type: 'echo', input: { index }, priority })).job.id);
    }
    await h.settle();
    expect(await statuses(ids)).toEqual(ids.map(() => 'pending'));
    expect((await h.app.stats()).queue).toMatchObject({ queued: { echo: 9 }, running: { sleep: 1 } });

    await h.settle(10_000);
    expect((await h.app.getJob(blocker.id)).status).toBe('completed');
    const started = h.events.ofType('job_started').filter((e) => e.job_type === 'echo');
    const order = started.map((e) => ids.indexOf(e.job_id));
    const expected = priorities
      .map((priority, index) => ({ priority, index }))
      .sort((a, b) => b.priority - a.priority || a.index - b.index)
      .map((entry) => entry.index);
    expect(order).toEqual(expected);
    expect(await statuses(ids)).toEqual(ids.map(() => 'completed'));
    h.events.expectContiguous();
  });
});

describe('capability matching', () => {
  it('sizes text-to-image jobs by the default rules: 12 GB workers skip a 14 GB job, 16 GB ones take it', async () => {
    await app();
    const submit = async (parameters?: Record<string, unknown>) =>
      (
        await h.app.submitJob({
          type: 'text-to-image',
          input: { prompt: 'p', ...(parameters ? { parameters } : {}) },
        })
      ).job.id;
    const big = await submit({ high_quality: true, batch_size: 2 }); // 8 + 4 + 2 = 14
    const plain = await submit(); // 8
    const hq = await submit({ high_quality: true }); // 12
    const batch3 = await submit({ batch_size: 3 }); // 8 + 2 × 2 = 12
    const batch4 = await submit({ batch_size: 4, high_quality: false }); // 8 + 3 × 2 = 14
    const small = FakeWorker.connect(h.app, {
      name: 'w12',
      types: ['text-to-image'],
      gpuMemoryGb: 12,
      slots: 10,
    });
    await h.settle();
    expect(small.assigns.map((a) => a.jobId).sort()).toEqual([plain, hq, batch3].sort());
    expect(await statuses([big, batch4])).toEqual(['pending', 'pending']);

    const large = FakeWorker.connect(h.app, {
      name: 'w16',
      types: ['text-to-image'],
      gpuMemoryGb: 16,
      slots: 10,
    });
    await h.settle();
    expect(large.assigns.map((a) => a.jobId)).toEqual([big, batch4]);
    expect(await statuses([big, batch4])).toEqual(['running', 'running']);
    expect((await h.app.getJob(big)).worker_id).toBe(large.id);
  });

  it('applies the per-type GPU floors: image-to-image 4 GB, upscale 12 GB, controlnet 16 GB', async () => {
    await app();
    const i2i = (await h.app.submitJob({ type: 'image-to-image', input: { parameters: { batch_size: 1 } } }))
      .job.id;
    const upscale = (await h.app.submitJob({ type: 'upscale' })).job.id;
    const controlnet = (await h.app.submitJob({ type: 'controlnet' })).job.id;
    const types = ['image-to-image', 'upscale', 'controlnet'];
    const w4 = FakeWorker.connect(h.app, { types, gpuMemoryGb: 4, slots: 5 });
    await h.settle();
    const w12 = FakeWorker.connect(h.app, { types, gpuMemoryGb: 12, slots: 5 });
    await h.settle();
    const w16 = FakeWorker.connect(h.app, { types, gpuMemoryGb: 16, slots: 5 });
    await h.settle();
    expect(w4.assigns.map((a) => a.jobId)).toEqual([i2i]);
    expect(w12.assigns.map((a) => a.jobId)).toEqual([upscale]);
    expect(w16.assigns.map((a) => a.jobId)).toEqual([controlnet]);
  });

  it('requires every capability among the worker labels, from the type or the job', async () => {
    await app();
    const typed = (await h.app.submitJob({ type: 'labelled' })).job.id;
    const special = (await h.app.submitJob({ type: 'gpu-a', requirements: { capabilities: ['special'] } }))
      .job.id;
    const partial = FakeWorker.connect(h.app, { types: ['labelled', 'gpu-a'], labels: ['cuda'], slots: 5 });
    await h.settle();
    expect(partial.assigns).toEqual([]);
    const full = FakeWorker.connect(h.app, {
      types: ['labelled', 'gpu-a'],
      labels: ['avx', 'fp16', 'cuda'],
      slots: 5,
    });
    await h.settle();
    expect(full.assigns.map((a) => a.jobId)).toEqual([typed]);
    const specialist = FakeWorker.connect(h.app, { types: ['gpu-a'], labels: ['special'], slots: 5 });
    await h.settle();
    expect(specialist.assigns.map((a) => a.jobId)).toEqual([special]);
    // A plain gpu-a job needs nothing: any worker of the type may run it.
    const plain = (await h.app.submitJob({ type: 'gpu-a' })).job.id;
    await h.settle();
    expect(
      [...partial.assigns, ...full.assigns, ...specialist.assigns].filter((a) => a.jobId === plain),
    ).toHaveLength(1);
  });
});

describe('credit-based assignment', () => {
  it('never gives a worker more jobs than its slots; raising the slots hands out more', async () => {
    await app();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await h.app.submitJob({ type: 'gpu-a', input: { i } })).job.id);
    const worker = FakeWorker.connect(h.app, { types: ['gpu-a'], slots: 2 });
    await h.settle();
    expect(worker.assigns.map((a) => a.jobId)).toEqual(ids.slice(0, 2));
    expect((await h.app.stats()).queue).toMatchObject({ queued: { 'gpu-a': 5 }, running: { 'gpu-a': 2 } });

    worker.complete(ids[0]!);
    await h.settle();
    expect(worker.assigns.map((a) => a.jobId)).toEqual(ids.slice(0, 3));
    expect(worker.active).toHaveLength(2);

    worker.setSlots(4);
    await h.settle();
    expect(worker.active.map((a) => a.jobId)).toEqual(ids.slice(1, 5));
    while (worker.active.length > 0) {
      for (const a of worker.active) worker.complete(a);
      await h.settle();
    }
    expect(worker.maxActive).toBe(4);
    expect(worker.assigns.map((a) => a.jobId)).toEqual(ids);
    expect(await statuses(ids)).toEqual(ids.map(() => 'completed'));
    expect(worker.assigns.every((a) => a.attempt === 1 && a.workerId === worker.id)).toBe(true);
  });

  it('keeps a worker at its credit limit while results trickle in', async () => {
    await app();
    for (let i = 0; i < 20; i++) await h.app.submitJob({ type: 'gpu-a', input: { i } });
    const worker = FakeWorker.connect(h.app, { types: ['gpu-a'], slots: 3 });
    await h.settle();
    let rounds = 0;
    while (worker.active.length > 0 && rounds++ < 50) {
      worker.complete(worker.active[0]!);
      await h.settle();
      expect(worker.active.length).toBeLessThanOrEqual(3);
    }
    expect(worker.assigns).toHaveLength(20);
    expect(worker.maxActive).toBe(3);
  });
});

describe('per-type limits', () => {
  it('holds a type to its cluster-wide concurrency across workers', async () => {
    await app();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await h.app.submitJob({ type: 'limited' })).job.id);
    const w1 = FakeWorker.connect(h.app, { types: ['limited'], slots: 5 });
    const w2 = FakeWorker.connect(h.app, { types: ['limited'], slots: 5 });
    await h.settle();
    expect(w1.assigns.length + w2.assigns.length).toBe(2);
    const first = [...w1.active, ...w2.active][0]!;
    (w1.active.includes(first) ? w1 : w2).complete(first);
    await h.settle();
    expect(w1.active.length + w2.active.length).toBe(2);
    expect(w1.assigns.length + w2.assigns.length).toBe(3);
    expect((await h.app.stats()).queue.running.limited).toBe(2);
  });

  it('holds a builtin type to its concurrency', async () => {
    await app();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await h.app.submitJob({ type: 'nap', input: { ms: 1_000 } })).job.id);
    await h.settle();
    expect(await statuses(ids)).toEqual(['running', 'running', 'pending', 'pending', 'pending']);
    await h.settle(1_000);
    expect(await statuses(ids)).toEqual(['completed', 'completed', 'running', 'running', 'pending']);
    await h.settle(1_000);
    expect(await statuses(ids)).toEqual(['completed', 'completed', 'completed', 'completed', 'running']);
    await h.settle(1_000);
    expect(await statuses(ids)).toEqual(ids.map(() => 'completed'));
  });

  it('starts at most `rate` jobs per second of a rate-limited type', async () => {
    await app();
    for (let i = 0; i < 6; i++) await h.app.submitJob({ type: 'throttled', input: { i } });
    const worker = FakeWorker.connect(h.app, { types: ['throttled'], slots: 10 });
    await h.settle();
    // A full bucket allows a burst of `rate`, then one start every 1000 / rate ms.
    expect(worker.assigns).toHaveLength(2);
    await h.settle(499);
    expect(worker.assigns).toHaveLength(2);
    await h.settle(1);
    expect(worker.assigns).toHaveLength(3);
    await h.settle(500);
    expect(worker.assigns).toHaveLength(4);
    await h.settle(1_000);
    expect(worker.assigns).toHaveLength(6);
    await h.settle(10_000);
    expect(worker.assigns).toHaveLength(6);
  });
});

describe('fairness across types', () => {
  it('alternates between the types a worker serves instead of draining one first', async () => {
    await app();
    const ids = new Map<string, string>();
    for (let i = 0; i < 3; i++) {
      ids.set((await h.app.submitJob({ type: 'gpu-a', priority: 100 })).job.id, 'a');
    }
    for (let i = 0; i < 3; i++) ids.set((await h.app.submitJob({ type: 'gpu-b', priority: 0 })).job.id, 'b');
    const worker = FakeWorker.connect(h.app, { types: ['gpu-a', 'gpu-b'], slots: 1 });
    await h.settle();
    while (worker.active.length > 0) {
      worker.complete(worker.active[0]!);
      await h.settle();
    }
    expect(worker.assigns.map((a) => ids.get(a.jobId))).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
  });
});
