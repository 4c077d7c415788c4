/**
 * `thread:` job types end to end over HTTP: long-lived threads with module state and progress, a
 * CPU-looping handler terminated at its timeout and retried, cancel of a running thread job, and a
 * handler that throws or calls process.exit failing only its attempt. Timeouts are generous: the
 * threads load through tsx here, and the machines running this are small.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Body, call, startTestServer, type TestServer, waitForJob } from '../http/support.js';

const WAIT = 30_000;
const fixture = (name: string) => `thread:test/fixtures/threads/${name}.mjs`;
const fastRetry = { max_attempts: 2, backoff: { type: 'fixed', delay_ms: 10, max_delay_ms: 10 } };

describe('thread executors', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      file: {
        job_types: [
          { name: 'counter', executor: fixture('counter'), threads: 1 },
          { name: 'spin', executor: fixture('spin'), threads: 1, ...fastRetry },
          { name: 'throws', executor: fixture('throws'), ...fastRetry },
          { name: 'exits', executor: fixture('exits'), ...fastRetry },
        ],
      },
    });
  });
  afterAll(async () => {
    await t.stop();
  });

  const submit = async (job: Record<string, unknown>): Promise<Body> => {
    const res = await call(t.base, 'POST', '/api/v1/jobs', job);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body;
  };
  const settled = (id: string) =>
    waitForJob(t.base, id, (job) => ['completed', 'failed', 'cancelled'].includes(job.status), {}, WAIT);
  const runner = (type: string) => t.server.threads.runners.get(type)!;
  /**
   * A thread is terminated and replaced as an effect of the write that ends the attempt, so the
   * job can read as failed or cancelled a moment before the replacement is counted.
   */
  const statsOnceTrue = async (
    type: string,
    ok: (stats: ReturnType<ReturnType<typeof runner>['stats']>) => boolean,
  ) => {
    const deadline = Date.now() + WAIT;
    while (!ok(runner(type).stats()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return runner(type).stats();
  };

  it('runs jobs in a long-lived thread that keeps its state, with progress', async () => {
    const first = await settled((await submit({ type: 'counter', input: { n: 1 } })).id);
    const second = await settled((await submit({ type: 'counter', input: { n: 2 } })).id);
    expect(first.status).toBe('completed');
    expect(first.output).toMatchObject({ echo: { n: 1 }, attempt: 1, setups: 1 });
    // Same thread, same module instance: setup ran once, the count carried over.
    expect(second.output).toMatchObject({ echo: { n: 2 }, setups: 1, handled: first.output.handled + 1 });
    expect(first.progress).toBeGreaterThanOrEqual(50);
    expect(runner('counter').stats()).toMatchObject({ threads: 1, completed: 2, restarts: 0 });
  });

  it('terminates a CPU-looping handler at its timeout and retries the job', async () => {
    const before = runner('spin').stats();
    const job = await submit({ type: 'spin', input: { spin: true }, timeout_ms: 1_500 });
    const done = await settled(job.id);
    expect(done.status).toBe('failed');
    expect(done.attempts).toBe(2);
    expect(done.error).toMatchObject({ code: 'TIMEOUT', retryable: true });
    const after = await statsOnceTrue('spin', (s) => s.restarts >= before.restarts + 2 && s.busy === 0);
    expect(after.restarts).toBe(before.restarts + 2);
    expect(after.aborted).toBe(before.aborted + 2);
    // The replacement thread serves the next job.
    const next = await settled((await submit({ type: 'spin', input: { spin: false } })).id);
    expect(next.status).toBe('completed');
  });

  it('cancels a running thread job by terminating its thread', async () => {
    const before = runner('spin').stats();
    const job = await submit({ type: 'spin', input: { spin: true }, timeout_ms: 600_000 });
    await waitForJob(t.base, job.id, (j) => j.status === 'running', {}, WAIT);
    // Give the thread time to be inside the loop (it may still be starting up).
    await new Promise((r) => setTimeout(r, 300));
    const cancelled = await call(t.base, 'POST', `/api/v1/jobs/${job.id}/cancel`, { reason: 'enough' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const after = await statsOnceTrue('spin', (s) => s.restarts > before.restarts && s.busy === 0);
    expect(after).toMatchObject({ restarts: before.restarts + 1, busy: 0 });
    const next = await settled((await submit({ type: 'spin', input: {} })).id);
    expect(next.status).toBe('completed');
  });

  it('fails an attempt whose handler throws, as retryable', async () => {
    const done = await settled((await submit({ type: 'throws', input: {} })).id);
    expect(done.status).toBe('failed');
    expect(done.attempts).toBe(2);
    expect(done.error).toEqual({ code: 'HANDLER_THREW', message: 'the handler broke', retryable: true });
    expect(runner('throws').stats().restarts).toBe(0);
  });

  it('fails only the attempt of a handler that calls process.exit, and replaces the thread', async () => {
    const done = await settled((await submit({ type: 'exits', input: { exit: true } })).id);
    expect(done.status).toBe('failed');
    expect(done.attempts).toBe(2);
    expect(done.error).toMatchObject({ code: 'THREAD_EXITED', retryable: true });
    expect(done.error.message).toMatch(/exit code 3/);
    expect(runner('exits').stats().restarts).toBeGreaterThanOrEqual(2);
    // The server is fine and the type still works.
    const next = await settled((await submit({ type: 'exits', input: {} })).id);
    expect(next).toMatchObject({ status: 'completed', output: { exited: false } });
    expect((await call(t.base, 'GET', '/health')).status).toBe(200);

    const metrics = await (await fetch(`${t.base}/metrics`)).text();
    expect(metrics).toMatch(/mailroom_thread_restarts\{type="exits"\} [1-9]/);
    expect(metrics).toMatch(/mailroom_thread_threads\{type="counter"\} 1/);
  });
});
