/**
 * Reading jobs back: listJobs by status, type and workflow with cursor paging (newest first, no
 * duplicate, no gap), and stats: counts by status and type, last-minute throughput and latency.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/schemas/job.js';
import { ControlledStore, settle as rounds } from '../unit/helpers.js';
import { type Harness, rejection, startApp } from './support/job-harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

type Query = Parameters<Harness['app']['listJobs']>[0];

/** Every page of a query, following next_cursor until it ends. */
async function allPages(query: Query): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: { items: JobView[]; next_cursor: string | null } = await h.app.listJobs({ ...query, cursor });
    expect(page.items.length).toBeLessThanOrEqual(query.limit ?? 50);
    ids.push(...page.items.map((j) => j.id));
    cursor = page.next_cursor;
    pages++;
  } while (cursor && pages < 100);
  return { ids, pages };
}

/** Submits `count` jobs of a type, one millisecond apart, so creation order is visible. */
async function submitMany(count: number, spec: Record<string, unknown>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push((await h.app.submitJob({ ...spec, input: { ...(spec.input as object), i } })).job.id);
    await h.settle(1);
  }
  return ids;
}

describe('listJobs', () => {
  it('pages through all jobs newest first without duplicates or gaps', async () => {
    h = await startApp();
    const echo = await submitMany(9, { type: 'echo' });
    const pending = await submitMany(7, { type: 'text-to-image', input: { prompt: 'p' } });
    const failed = await submitMany(3, { type: 'fail', input: { retryable: false } });
    const created = [...echo, ...pending, ...failed];

    const all = await allPages({ limit: 5 });
    expect(all.ids).toEqual([...created].reverse());
    expect(all.pages).toBe(4);

    expect((await allPages({ status: 'pending', limit: 3 })).ids).toEqual([...pending].reverse());
    expect((await allPages({ status: 'failed', limit: 2 })).ids).toEqual([...failed].reverse());
    expect((await allPages({ type: 'echo', limit: 4 })).ids).toEqual([...echo].reverse());
    expect((await allPages({ status: 'running' })).ids).toEqual([]);
  });

  it('pages through all jobs across statuses interleaved in time, ties by id', async () => {
    h = await startApp();
    // No index holds every job: listing them all merges the status indexes page by page. Jobs of
    // three statuses are created in turn, three in each millisecond, so pages cut across statuses
    // and through ties.
    const created: Array<{ id: string; ms: number }> = [];
    const specs = [
      { type: 'echo' },
      { type: 'text-to-image', input: { prompt: 'p' } },
      { type: 'fail', input: { retryable: false } },
    ];
    for (let ms = 0; ms < 4; ms++) {
      for (const spec of specs) created.push({ id: (await h.app.submitJob(spec)).job.id, ms });
      await h.settle(1);
    }
    await h.settle();
    const expected = [...created]
      .sort((a, b) => b.ms - a.ms || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .map((job) => job.id);
    for (const limit of [1, 2, 5, 12, 50]) {
      const all = await allPages({ limit });
      expect(all.ids).toEqual(expected);
      expect(all.pages).toBe(Math.max(1, Math.ceil(12 / limit)));
    }
    const statuses = new Set((await h.app.listJobs({ limit: 12 })).items.map((job) => job.status));
    expect(statuses).toEqual(new Set(['completed', 'pending', 'failed']));
  });

  it('combines filters without losing items across pages', async () => {
    h = await startApp();
    // Completed echo and checksum jobs mixed, so the second filter drops part of some pages:
    // newest first, a page of [checksum, checksum, echo] is followed by pages of echo only.
    const echo: string[] = [];
    for (let i = 0; i < 5; i++) {
      echo.push(...(await submitMany(1, { type: 'echo' })));
      await submitMany(i % 3, { type: 'checksum', input: { data: 'abc' } });
    }
    echo.push(...(await submitMany(7, { type: 'echo' })));
    await submitMany(2, { type: 'checksum', input: { data: 'abc' } });
    const combined = await allPages({ status: 'completed', type: 'echo', limit: 3 });
    expect(combined.ids).toEqual([...echo].reverse());
    const page = await h.app.listJobs({ status: 'completed', type: 'echo', limit: 3 });
    expect(page.items.every((j) => j.type === 'echo' && j.status === 'completed')).toBe(true);
  });

  it('lists the jobs of one workflow', async () => {
    h = await startApp();
    await submitMany(2, { type: 'echo' });
    const { workflow } = await h.app.submitWorkflow({
      name: 'pair',
      steps: [
        { name: 'a', type: 'echo', input: { v: 1 } },
        { name: 'b', type: 'echo', depends_on: ['a'] },
      ],
    });
    await h.settle();
    const { ids } = await allPages({ workflow_id: workflow.id, limit: 1 });
    const jobs = await Promise.all(ids.map((id) => h.app.getJob(id)));
    expect(jobs.map((j) => j.step).sort()).toEqual([0, 1]);
    expect(jobs.every((j) => j.workflow_id === workflow.id && j.status === 'completed')).toBe(true);
    expect((await allPages({ workflow_id: workflow.id, status: 'completed' })).ids).toHaveLength(2);
  });

  it('pages through a workflow of twelve steps by its record, newest first, ties by id', async () => {
    h = await startApp();
    const { workflow } = await h.app.submitWorkflow({
      name: 'fan-out',
      steps: [
        { name: 'root', type: 'echo', input: { v: 0 } },
        ...Array.from({ length: 11 }, (_, i) => ({ name: `leaf${i}`, type: 'echo', depends_on: ['root'] })),
      ],
    });
    await h.settle();
    const steps = Array.from({ length: 12 }, (_, i) => `${workflow.id}-${i}`);
    // All created together: one score, so the order is the ids', highest first, as an index gives.
    const expected = [...steps].sort().reverse();
    const paged = await allPages({ workflow_id: workflow.id, limit: 5 });
    expect(paged.ids).toEqual(expected);
    expect(paged.pages).toBe(3);
    expect((await allPages({ workflow_id: workflow.id, status: 'completed', type: 'echo' })).ids).toEqual(
      expected,
    );
    expect((await allPages({ workflow_id: workflow.id, status: 'failed' })).ids).toEqual([]);
    expect((await allPages({ workflow_id: 'no-such-workflow' })).ids).toEqual([]);
    const bad = await rejection(h.app.listJobs({ workflow_id: workflow.id, cursor: 'not-a-cursor' }));
    expect(bad.code).toBe('VALIDATION_FAILED');
  });

  it('refuses an unknown status filter', async () => {
    h = await startApp();
    const error = await rejection(h.app.listJobs({ status: 'finished' }));
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details?.map((d) => d.path)).toEqual(['status']);
  });
});

describe('stats', () => {
  it('counts jobs by status and type', async () => {
    h = await startApp();
    await submitMany(3, { type: 'echo' });
    await submitMany(2, { type: 'text-to-image', input: { prompt: 'p' } });
    await submitMany(1, { type: 'fail', input: { retryable: false } });
    await submitMany(1, { type: 'echo', delay_ms: 60_000 });
    await h.app.submitJob({ type: 'sleep', input: { ms: 1_000 } });
    await h.settle();
    const stats = await h.app.stats();
    expect(stats.jobs.by_status).toEqual({
      waiting: 0,
      delayed: 1,
      pending: 2,
      running: 1,
      completed: 3,
      failed: 1,
      cancelled: 0,
    });
    expect(stats.jobs.by_type).toMatchObject({ echo: 4, 'text-to-image': 2, fail: 1, sleep: 1, checksum: 0 });
    expect(stats.queue.queued['text-to-image']).toBe(2);
    expect(stats.queue.running.sleep).toBe(1);
  });

  it('reports last-minute throughput and submit-to-finish latency, then forgets them', async () => {
    h = await startApp();
    for (const ms of [1_000, 2_000, 3_000, 4_000]) await h.app.submitJob({ type: 'sleep', input: { ms } });
    await h.app.submitJob({ type: 'fail', input: { retryable: false } });
    await h.app.submitJob({ type: 'text-to-image', input: { prompt: 'never runs' } });
    await h.settle();
    for (let i = 0; i < 4; i++) await h.settle(1_000);
    const window = (await h.app.stats()).last_minute;
    expect(window).toMatchObject({
      window_seconds: 60,
      completed: 4,
      failed: 1,
      throughput_per_second: 0.08,
    });
    expect(window.latency_ms.count).toBe(5);
    expect(window.latency_ms.p50).toBeGreaterThanOrEqual(2_000);
    expect(window.latency_ms.p50).toBeLessThan(2_010);
    expect(window.latency_ms.max).toBeGreaterThanOrEqual(4_000);
    expect(window.latency_ms.max).toBeLessThan(4_010);

    await h.settle(60_000);
    expect((await h.app.stats()).last_minute).toMatchObject({
      completed: 0,
      failed: 0,
      latency_ms: { count: 0 },
    });
  });
});

describe('peekJob: reads without a turn', () => {
  it('answers only for a job at rest in memory, with what getJob answers', async () => {
    const store = new ControlledStore();
    h = await startApp({ store });
    expect(h.app.peekJob('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    const { job } = await h.app.submitJob({ type: 'text-to-image', input: { prompt: 'x' } });
    await h.settle();
    expect(h.app.peekJob(job.id)).toEqual(await h.app.getJob(job.id));

    // A change waiting for its write is not shown, and not hidden behind an older state either:
    // the caller is sent to getJob, which answers once the write is durable.
    store.hold();
    const cancelling = h.app.cancelJob(job.id);
    await rounds(10);
    expect(h.app.peekJob(job.id)).toBeUndefined();
    store.release();
    await cancelling;
    // A finished job leaves memory once it is written: peeking sends the caller to getJob, which
    // loads it back, after which it is at rest in memory again.
    expect(h.app.peekJob(job.id)).toBeUndefined();
    expect((await h.app.getJob(job.id)).status).toBe('cancelled');
    expect(h.app.peekJob(job.id)?.status).toBe('cancelled');
  });
});

describe('new jobs and workflows', () => {
  it('are created without reading the store: their ids were just made', async () => {
    const store = new ControlledStore();
    const loads: string[] = [];
    const load = store.load.bind(store);
    store.load = (kind, id) => {
      loads.push(`${kind}:${id}`);
      return load(kind, id);
    };
    h = await startApp({ store });
    const { job } = await h.app.submitJob({ type: 'echo', input: 1 });
    const { workflow } = await h.app.submitWorkflow({
      name: 'two',
      steps: [{ type: 'echo' }, { type: 'echo', depends_on: [0] }],
    });
    await h.settle();
    const whileRunning = loads.filter((key) => key.includes(job.id) || key.includes(workflow.id));
    // Finished, the workflow has left memory: reading it now is a load.
    expect((await h.app.getWorkflow(workflow.id)).status).toBe('completed');
    expect(whileRunning).toEqual([]);
    // With an idempotency key the id may be an older job's: that one is read.
    await h.app.submitJob({ type: 'echo', input: 2, idempotency_key: 'k' });
    const again = await h.app.submitJob({ type: 'echo', input: 2, idempotency_key: 'k' });
    expect(again.created).toBe(false);
  });
});
