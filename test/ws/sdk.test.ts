/**
 * The WebSocket SDK against a real server, through a proxy whose connections the tests cut: the
 * client resumes its subscriptions with nothing lost or repeated, and the worker registers again
 * and finishes jobs exactly once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient, type WorkerActivity, WorkerClient, WsClient } from '../../src/client/index.js';
import type { MemoryStore } from '../../src/runtime/store/memory-store.js';
import type { MailroomEvent } from '../../src/schemas/events.js';
import { startTestServer, type TestServer, waitForJob } from '../http/support.js';
import { CuttableProxy, eventually } from './support.js';

let server: TestServer | undefined;
let proxy: CuttableProxy | undefined;
const closers: Array<() => void> = [];

afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await proxy?.stop();
  proxy = undefined;
  await server?.stop();
  server = undefined;
});

describe('WsClient', () => {
  it('submits, is acked with the stored job, and receives its events', async () => {
    server = await startTestServer();
    const client = await WsClient.connect({ url: server.base });
    closers.push(() => client.close());
    const events: MailroomEvent[] = [];
    await client.subscribe(['type:echo'], { onEvent: (event) => events.push(event) });
    const job = await client.submitJob({ type: 'echo', input: { n: 1 } });
    expect(job).toMatchObject({ type: 'echo', input: { n: 1 } });
    await eventually(() => (events.some((e) => e.type === 'job_completed') ? true : undefined));
    await expect(client.submitJob({ type: 'no-such-type' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      status: 400,
    });
  });

  it('resumes after forced disconnects under load with nothing lost and nothing repeated', async () => {
    server = await startTestServer();
    proxy = await CuttableProxy.start(server.base);
    const client = await WsClient.connect({ url: proxy.url, reconnectDelayMs: 20, maxReconnectDelayMs: 100 });
    closers.push(() => client.close());
    const seqs: number[] = [];
    const sub = await client.subscribe(['*'], { onEvent: (event) => seqs.push(event.seq) });
    const startSeq = Number(sub.cursor!.split('.').pop());

    const http = new HttpClient({ url: server.base });
    const ids: string[] = [];
    for (let round = 0; round < 6; round++) {
      const batch = await http.submitBatch(
        Array.from({ length: 50 }, (_, i) => ({ type: 'echo', input: { round, i } })),
      );
      ids.push(...batch.map((job) => job.id));
      if (round % 2 === 1) proxy.cut();
    }
    for (const id of ids) await waitForJob(server.base, id, (job) => job.status === 'completed');
    const watcher = await WsClient.connect({ url: server.base });
    closers.push(() => watcher.close());
    const endSeq = Number((await watcher.subscribe(['*'], { onEvent: () => {} })).cursor!.split('.').pop());

    await eventually(() => (seqs.at(-1) === endSeq ? true : undefined), 15_000);
    expect(seqs).toEqual(Array.from({ length: endSeq - startSeq }, (_, i) => startSeq + 1 + i));
  });
});

describe('WorkerClient', () => {
  it('runs assigned jobs with progress, stops a cancelled one, and registers again after a cut', async () => {
    server = await startTestServer();
    proxy = await CuttableProxy.start(server.base);
    const activity: WorkerActivity[] = [];
    const aborted: string[] = [];
    const handling = new Set<string>();
    const worker = await WorkerClient.start({
      url: proxy.url,
      reconnectDelayMs: 20,
      name: 'sdk-worker',
      types: ['text-to-image'],
      capabilities: { gpu_memory_gb: 16 },
      slots: 2,
      onActivity: (a) => activity.push(a),
      handler: async (job, ctx) => {
        const { prompt } = job.input as { prompt: string };
        handling.add(job.id);
        ctx.progress(50, 'halfway');
        if (prompt === 'forever') {
          await new Promise((_, reject) =>
            ctx.signal.addEventListener('abort', () => {
              aborted.push(job.id);
              reject(ctx.signal.reason);
            }),
          );
        }
        return { output: { image: `${prompt}.png` }, cost: 0.5 };
      },
    });
    closers.push(() => worker.stop());
    const http = new HttpClient({ url: server.base });

    const quick = await http.submitJob({ type: 'text-to-image', input: { prompt: 'cat' } });
    const done = await waitForJob(server.base, quick.id, (job) => job.status === 'completed');
    expect(done).toMatchObject({ output: { image: 'cat.png' }, cost: 0.5, worker_id: worker.workerId });

    const stuck = await http.submitJob({ type: 'text-to-image', input: { prompt: 'forever' } });
    // Running on the server once leased, which is before the worker has the assignment in hand.
    await eventually(() => (handling.has(stuck.id) ? true : undefined));
    await http.cancelJob(stuck.id);
    await eventually(() => (aborted.includes(stuck.id) ? true : undefined));

    const firstId = worker.workerId;
    proxy.cut();
    await eventually(() => (worker.workerId && worker.workerId !== firstId ? true : undefined), 10_000);
    const after = await http.submitJob({ type: 'text-to-image', input: { prompt: 'dog' } });
    const finished = await waitForJob(server.base, after.id, (job) => job.status === 'completed');
    expect(finished.worker_id).toBe(worker.workerId);
    expect(activity.filter((a) => a.kind === 'registered')).toHaveLength(2);
    expect(activity.filter((a) => a.kind === 'completed')).toHaveLength(2);
  });

  it('sends a result again while the server cannot take it, until it is taken once', async () => {
    server = await startTestServer();
    const store = server.server.app.system.store as MemoryStore;
    let finish: () => void = () => {};
    const finishing = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const activity: WorkerActivity[] = [];
    const worker = await WorkerClient.start({
      url: server.base,
      name: 'retrying-worker',
      types: ['text-to-image'],
      capabilities: { gpu_memory_gb: 16 },
      onActivity: (a) => activity.push(a),
      handler: async (_job, ctx) => {
        ctx.progress(50);
        await finishing;
        return { output: 'done' };
      },
    });
    closers.push(() => worker.stop());
    const http = new HttpClient({ url: server.base });
    const job = await http.submitJob({ type: 'text-to-image', input: { prompt: 'x' } });
    await waitForJob(server.base, job.id, (j) => j.progress === 50);

    // The store stops answering just as the result goes out: the server refuses it for now.
    store.failing = true;
    finish();
    await eventually(() => (activity.some((a) => a.kind === 'completed') ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await http.getJob(job.id)).status).toBe('running');
    store.failing = false;

    const done = await waitForJob(server.base, job.id, (j) => j.status === 'completed', {}, 10_000);
    expect(done).toMatchObject({ output: 'done', attempts: 1 });
    // Taken once; the refusal for now was not reported as a refusal.
    expect(activity.filter((a) => a.kind === 'refused')).toEqual([]);
  });
});
