/**
 * `/ws/worker` conversations (SPEC §6) on a real server, the worker played by the `ws` package.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Body, call, startTestServer, type TestServer, waitForJob } from '../http/support.js';
import { Conversation, eventually, wsUrl } from './support.js';

let server: TestServer | undefined;
const conversations: Conversation[] = [];

afterEach(async () => {
  for (const c of conversations.splice(0)) c.terminate();
  await server?.stop();
  server = undefined;
});

async function open(path = '/ws/worker'): Promise<Conversation> {
  const c = await Conversation.open(wsUrl(server!.base, path));
  conversations.push(c);
  return c;
}

async function register(slots = 1, name = 'gpu-box'): Promise<{ c: Conversation; id: string }> {
  const c = await open();
  c.send({
    op: 'register',
    name,
    types: ['text-to-image', 'upscale'],
    capabilities: { gpu_memory_gb: 24, labels: ['sdxl'] },
    slots,
  });
  const registered = await c.next((f) => f.op === 'registered');
  return { c, id: registered.worker_id };
}

const submitImage = async (prompt = 'a lighthouse'): Promise<Body> =>
  (await call(server!.base, 'POST', '/api/v1/jobs', { type: 'text-to-image', input: { prompt } })).body;

describe('/ws/worker', () => {
  it('registers, is listed, gets an assignment and completes it with progress, each report acked', async () => {
    server = await startTestServer();
    const { c, id } = await register();
    expect(c.frames[0]).toEqual({ op: 'registered', worker_id: id, heartbeat_ms: 10_000 });
    const metrics = await (await fetch(`${server.base}/metrics`)).text();
    expect(metrics).toContain('mailroom_ws_connections{endpoint="worker"} 1');
    expect(metrics).toMatch(/mailroom_ws_frames_received_total\{endpoint="worker"\} [1-9]/);
    const workers = (await call(server.base, 'GET', '/api/v1/workers')).body.items;
    expect(workers).toEqual([
      expect.objectContaining({
        id,
        name: 'gpu-box',
        types: ['text-to-image', 'upscale'],
        capabilities: { gpu_memory_gb: 24, labels: ['sdxl'] },
        slots: 1,
        last_seen: expect.any(String),
      }),
    ]);

    const job = await submitImage();
    const { job: assigned } = await c.next((f) => f.op === 'assign');
    expect(assigned).toMatchObject({
      id: job.id,
      type: 'text-to-image',
      input: { prompt: 'a lighthouse' },
      attempt: 1,
      lease: expect.any(String),
      timeout_ms: 600_000,
      deadline: expect.stringMatching(/^\d{4}-/),
    });
    c.send({ op: 'progress', job_id: job.id, lease: assigned.lease, progress: 40, message: 'denoising' });
    expect(await c.next((f) => f.op !== 'assign')).toEqual({ op: 'ok', job_id: job.id });
    expect((await call(server.base, 'GET', `/api/v1/jobs/${job.id}`)).body.progress).toBe(40);

    c.send({
      op: 'complete',
      job_id: job.id,
      lease: assigned.lease,
      output: { url: 's3://img.png' },
      cost: 0.25,
    });
    expect(await c.next()).toEqual({ op: 'ok', job_id: job.id });
    const done = (await call(server.base, 'GET', `/api/v1/jobs/${job.id}`)).body;
    expect(done).toMatchObject({
      status: 'completed',
      output: { url: 's3://img.png' },
      cost: 0.25,
      worker_id: id,
    });
  });

  it('rejects a report with a stale lease and never lets it overwrite the outcome', async () => {
    server = await startTestServer();
    const { c } = await register();
    const job = await submitImage();
    const { job: assigned } = await c.next((f) => f.op === 'assign');
    c.send({ op: 'complete', job_id: job.id, lease: 'not-the-lease', output: { wrong: true } });
    expect(await c.next()).toMatchObject({ op: 'error', job_id: job.id, error: { code: 'LEASE_STALE' } });
    c.send({
      op: 'fail',
      job_id: job.id,
      lease: assigned.lease,
      error: { code: 'OOM', message: 'out of memory', retryable: false },
    });
    expect(await c.next()).toEqual({ op: 'ok', job_id: job.id });
    c.send({ op: 'complete', job_id: job.id, lease: assigned.lease, output: { late: true } });
    expect(await c.next()).toMatchObject({ op: 'error', error: { code: 'LEASE_STALE' } });
    const failed = (await call(server.base, 'GET', `/api/v1/jobs/${job.id}`)).body;
    expect(failed).toMatchObject({
      status: 'failed',
      output: null,
      error: { code: 'OOM', retryable: false },
    });
  });

  it('assigns only while the worker has free slots, and more after `slots` raises them', async () => {
    server = await startTestServer();
    const { c } = await register(1);
    const jobs = [await submitImage('one'), await submitImage('two'), await submitImage('three')];
    const first = (await c.next((f) => f.op === 'assign')).job;
    await new Promise((r) => setTimeout(r, 150));
    expect(c.frames.filter((f) => f.op === 'assign')).toHaveLength(1);

    c.send({ op: 'slots', slots: 2 });
    const second = (await c.next((f) => f.op === 'assign')).job;
    await new Promise((r) => setTimeout(r, 100));
    expect(c.frames.filter((f) => f.op === 'assign')).toHaveLength(2);

    c.send({ op: 'complete', job_id: first.id, lease: first.lease, output: 1 });
    const third = (await c.next((f) => f.op === 'assign')).job;
    expect(new Set([first.id, second.id, third.id])).toEqual(new Set(jobs.map((j) => j.id)));
  });

  it('a worker dropped mid-job loses its lease; the job completes on another worker exactly once', async () => {
    server = await startTestServer();
    const watcher = await Conversation.open(wsUrl(server.base, '/ws'));
    conversations.push(watcher);
    await watcher.request({ op: 'subscribe', id: 1, topics: ['type:text-to-image'] });
    const { c: doomed } = await register(1, 'doomed');
    const job = await submitImage();
    const lost = (await doomed.next((f) => f.op === 'assign')).job;
    doomed.terminate();

    const { c: rescuer, id: rescuerId } = await register(1, 'rescuer');
    const retried = (await rescuer.next((f) => f.op === 'assign', 10_000)).job;
    expect(retried.id).toBe(job.id);
    expect(retried.lease).not.toBe(lost.lease);
    rescuer.send({ op: 'complete', job_id: job.id, lease: retried.lease, output: { by: 'rescuer' } });
    expect(await rescuer.next()).toEqual({ op: 'ok', job_id: job.id });
    const done = await waitForJob(server.base, job.id, (j) => j.status === 'completed');
    expect(done).toMatchObject({ output: { by: 'rescuer' }, worker_id: rescuerId });

    await watcher.next((f) => f.op === 'event' && f.event.type === 'job_completed');
    await watcher.request({ op: 'ping', id: 2 });
    const completions = watcher.events().filter((f) => f.event.type === 'job_completed');
    expect(completions).toHaveLength(1);
  });

  it('drops a worker silent for two heartbeats and returns its job to pending', async () => {
    server = await startTestServer({ file: { websocket: { heartbeat_ms: 200 } } });
    const { c } = await register();
    const job = await submitImage();
    await c.next((f) => f.op === 'assign');
    await waitForJob(server.base, job.id, (j) => j.status === 'running');
    // Silent from here on: the server closes it and requeues the job.
    const closed = await c.whenClosed(5_000);
    expect(closed.code).toBe(4000);
    await waitForJob(server.base, job.id, (j) => j.status === 'pending');
    const metrics = await (await fetch(`${server.base}/metrics`)).text();
    expect(metrics).toContain('mailroom_ws_closed_total{endpoint="worker",cause="missed_heartbeats"} 1');
    expect(metrics).toContain('mailroom_ws_connections{endpoint="worker"} 0');
    await eventually(async () => {
      const workers = (await call(server!.base, 'GET', '/api/v1/workers')).body.items;
      return workers.length === 0 ? true : undefined;
    });
  });

  it('keeps a worker that sends heartbeats', async () => {
    server = await startTestServer({ file: { websocket: { heartbeat_ms: 200 } } });
    const { c } = await register();
    const beat = setInterval(() => c.send({ op: 'heartbeat' }), 100);
    try {
      await new Promise((r) => setTimeout(r, 900));
      expect(c.closed).toBeNull();
    } finally {
      clearInterval(beat);
    }
  });

  it('refuses types that are not remote, reports before register, and garbage, keeping the socket open', async () => {
    server = await startTestServer();
    const c = await open();
    c.send({ op: 'progress', job_id: 'j', lease: 'l', progress: 1 });
    expect(await c.next()).toMatchObject({ op: 'error', error: { code: 'INVALID_STATE' } });
    c.send({ op: 'register', name: 'w', types: ['echo', 'text-to-image', 'bogus'], slots: 1 });
    const refused = await c.next();
    expect(refused).toMatchObject({ op: 'error', error: { code: 'VALIDATION_FAILED' } });
    expect(refused.error.details.map((d: Body) => d.path)).toEqual(['types.0', 'types.2']);
    c.sendRaw('][');
    expect(await c.next()).toMatchObject({ op: 'error', error: { code: 'INVALID_FRAME' } });
    c.send({ op: 'register', name: 'w', types: ['upscale'], slots: -1 });
    expect(await c.next()).toMatchObject({ op: 'error', error: { code: 'VALIDATION_FAILED' } });
    c.send({ op: 'register', name: 'w', types: ['upscale'] });
    expect(await c.next()).toMatchObject({ op: 'registered' });
    c.send({ op: 'register', name: 'w', types: ['upscale'] });
    expect(await c.next()).toMatchObject({ op: 'error', error: { code: 'INVALID_STATE' } });
    c.send({ op: 'ping' });
    expect(await c.next()).toEqual({ op: 'pong' });
  });

  it('closes workers and clients with 1001 on shutdown', async () => {
    server = await startTestServer();
    const { c: worker } = await register();
    const client = await Conversation.open(wsUrl(server.base, '/ws'));
    conversations.push(client);
    await server.stop();
    server = undefined;
    expect((await worker.whenClosed()).code).toBe(1001);
    expect((await client.whenClosed()).code).toBe(1001);
  });
});
