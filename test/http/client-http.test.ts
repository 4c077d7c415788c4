/**
 * The typed HTTP client (src/client/http-client.ts) against a real server: every v1 call, API
 * keys, and errors surfaced as MailroomApiError with the server's code and details.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient, MailroomApiError, MailroomConnectionError } from '../../src/client/index.js';
import { freePort } from '../global-setup.js';
import { startTestServer, type TestServer } from './support.js';

let t: TestServer;
let keyed: TestServer;
let client: HttpClient;

beforeAll(async () => {
  t = await startTestServer();
  keyed = await startTestServer({ apiKeys: 'k-one,k-two' });
  client = new HttpClient({ url: t.base });
});
afterAll(async () => {
  await t.stop();
  await keyed.stop();
});

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`never got there: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('HttpClient: jobs', () => {
  it('submits, fetches and lists a job', async () => {
    const job = await client.submitJob({ type: 'echo', input: { n: 1 } });
    expect(job).toMatchObject({ type: 'echo', input: { n: 1 } });
    const done = await until(
      () => client.getJob(job.id),
      (j) => j.status === 'completed',
    );
    expect(done.output).toEqual({ n: 1 });
    const page = await client.listJobs({ type: 'echo', status: 'completed', limit: 500 });
    expect(page.items.map((j) => j.id)).toContain(job.id);
  });

  it('tells a new job from an idempotent repeat', async () => {
    const first = await client.submitJobWithStatus({ type: 'echo', idempotency_key: 'client-idem-1' });
    const second = await client.submitJobWithStatus({ type: 'echo', idempotency_key: 'client-idem-1' });
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.value.id).toBe(first.value.id);
  });

  it('submits a batch', async () => {
    const items = await client.submitBatch([{ type: 'echo' }, { type: 'echo', input: 2 }]);
    expect(items).toHaveLength(2);
    expect(items[1]?.input).toBe(2);
  });

  it('cancels a delayed job and retries it', async () => {
    const job = await client.submitJob({ type: 'echo', delay_ms: 60_000 });
    const cancelled = await client.cancelJob(job.id, 'not needed');
    expect(cancelled.status).toBe('cancelled');
    const retried = await client.retryJob(job.id);
    expect(['pending', 'running', 'completed', 'delayed']).toContain(retried.status);
  });

  it('surfaces validation errors with code and details', async () => {
    const error = await client.submitJob({ type: 'no-such-type' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailroomApiError);
    const api = error as MailroomApiError;
    expect(api.status).toBe(400);
    expect(api.code).toBe('VALIDATION_FAILED');
    expect(api.details?.[0]?.path).toBe('type');
    expect(api.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('surfaces 404 as NOT_FOUND', async () => {
    const error = await client.getJob('no-such-job').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailroomApiError);
    expect((error as MailroomApiError).code).toBe('NOT_FOUND');
    expect((error as MailroomApiError).status).toBe(404);
  });

  it('surfaces retrying a running-or-done job as INVALID_STATE', async () => {
    const job = await client.submitJob({ type: 'echo' });
    await until(
      () => client.getJob(job.id),
      (j) => j.status === 'completed',
    );
    const error = await client.retryJob(job.id).catch((e: unknown) => e);
    expect((error as MailroomApiError).code).toBe('INVALID_STATE');
  });
});

describe('HttpClient: workflows', () => {
  it('submits a workflow, waits for it, lists it', async () => {
    const wf = await client.submitWorkflow({
      name: 'client-diamond',
      input: { v: 7 },
      steps: [
        { name: 'a', type: 'echo', input: { v: '{{ input.v }}' } },
        { name: 'b', type: 'echo', depends_on: ['a'], input: '{{ steps.a.output.v }}' },
        { name: 'c', type: 'echo', depends_on: ['a'] },
        { name: 'd', type: 'echo', depends_on: ['b', 'c'], input: { b: '{{ steps.b.output }}' } },
      ],
    });
    expect(wf.total_steps).toBe(4);
    const done = await until(
      () => client.getWorkflow(wf.id),
      (w) => w.status === 'completed',
    );
    expect(done.step_details[3]?.output).toEqual({ b: 7 });
    const page = await client.listWorkflows({ name: 'client-diamond' });
    expect(page.items.map((w) => w.id)).toEqual([wf.id]);
  });

  it('cancels a workflow and retries it', async () => {
    const wf = await client.submitWorkflow({
      name: 'client-cancel',
      steps: [{ name: 'wait', type: 'echo', delay_ms: 60_000 }],
    });
    const cancelled = await client.cancelWorkflow(wf.id);
    expect(cancelled.status).toBe('cancelled');
    const retried = await client.retryWorkflow(wf.id);
    expect(retried.status).toBe('running');
  });
});

describe('HttpClient: stats, health, keys, unreachable', () => {
  it('reads stats and health', async () => {
    const stats = await client.stats();
    expect(stats.jobs.by_status).toBeTypeOf('object');
    expect(stats.last_minute.window_seconds).toBe(60);
    expect(await client.health()).toEqual({ status: 'ok' });
    expect(await client.health({ ready: true })).toEqual({ status: 'ready', store: 'memory' });
  });

  it('sends the API key, and reports UNAUTHORIZED without one', async () => {
    const without = new HttpClient({ url: keyed.base });
    const error = await without.stats().catch((e: unknown) => e);
    expect((error as MailroomApiError).code).toBe('UNAUTHORIZED');
    expect((error as MailroomApiError).status).toBe(401);
    const withKey = new HttpClient({ url: `${keyed.base}/`, apiKey: 'k-two' });
    expect((await withKey.stats()).jobs).toBeTypeOf('object');
  });

  it('reports a server that is not there as MailroomConnectionError', async () => {
    const port = await freePort();
    const nobody = new HttpClient({ url: `http://127.0.0.1:${port}` });
    const error = await nobody.health().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailroomConnectionError);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });
});
