/**
 * Failed attempts: per-attempt timeouts (with the handler cancelled), retries with exponential and
 * fixed backoff and the max_delay_ms cap, max_attempts exhaustion, and `retryable: false`.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BuiltinExecutor } from '../../src/actors/executors/builtin.js';
import { SimulatedClock } from '../../src/runtime/clock.js';
import { configWith, type Harness, iso, START, startApp } from './support/job-harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const TIMEOUT = { code: 'TIMEOUT', message: 'attempt exceeded 1000 ms', retryable: true };
const ALWAYS = { code: 'JOB_FAILED', message: 'the fail job always fails', retryable: true };

describe('attempt timeouts', () => {
  it('times out a sleep attempt, cancels its handler, retries after backoff and fails when exhausted', async () => {
    const clock = new SimulatedClock(START);
    const builtin = new BuiltinExecutor(clock);
    const cancel = vi.spyOn(builtin, 'cancel');
    h = await startApp({ clock, executors: { builtin } });
    const { job } = await h.app.submitJob({
      type: 'sleep',
      input: { ms: 10_000 },
      timeout_ms: 1_000,
      max_attempts: 2,
      backoff: { type: 'fixed', delay_ms: 500 },
    });
    await h.settle();
    const first = (await h.app.getJob(job.id)).started_at;
    expect(first).toBe(iso(START));

    await h.settle(999);
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'running', attempts: 1 });
    await h.settle(1);
    expect(await h.app.getJob(job.id)).toMatchObject({
      status: 'delayed',
      attempts: 1,
      error: TIMEOUT,
      run_at: iso(START + 1_500),
      worker_id: null,
    });
    expect(cancel).toHaveBeenCalledTimes(1);
    expect(cancel.mock.calls[0]).toEqual([
      expect.objectContaining({ jobId: job.id, workerId: 'builtin' }),
      'timeout',
    ]);

    await h.settle(500);
    expect(await h.app.getJob(job.id)).toMatchObject({
      status: 'running',
      attempts: 2,
      started_at: iso(START + 1_500),
    });
    await h.settle(1_000);
    expect(await h.app.getJob(job.id)).toMatchObject({
      status: 'failed',
      attempts: 2,
      error: TIMEOUT,
      completed_at: iso(START + 2_500),
      output: null,
    });
    expect(cancel).toHaveBeenCalledTimes(2);
    // Two different leases were cancelled, one per attempt.
    expect(new Set(cancel.mock.calls.map(([target]) => target.lease)).size).toBe(2);

    // The cancelled sleeps never report back, not even when their time would have come.
    await h.settle(20_000);
    expect((await h.app.getJob(job.id)).status).toBe('failed');
    expect(h.events.forJob(job.id)).toMatchObject([
      { type: 'job_submitted', status: 'pending' },
      { type: 'job_started', attempt: 1, at: iso(START) },
      { type: 'job_retrying', attempt: 1, error: TIMEOUT, retry_at: iso(START + 1_500) },
      { type: 'job_started', attempt: 2, at: iso(START + 1_500) },
      { type: 'job_failed', attempts: 2, error: TIMEOUT, at: iso(START + 2_500) },
    ]);
    h.events.expectContiguous();
  });

  it('does not time out an attempt that finishes within timeout_ms', async () => {
    h = await startApp();
    const { job } = await h.app.submitJob({ type: 'sleep', input: { ms: 999 }, timeout_ms: 1_000 });
    await h.settle();
    await h.settle(999);
    await h.settle(5_000);
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'completed', attempts: 1, error: null });
    expect(h.events.typesFor(job.id)).toEqual(['job_submitted', 'job_started', 'job_completed']);
  });
});

describe('retries and backoff', () => {
  it('retries the fail type up to the default max_attempts (3), at once without a backoff', async () => {
    h = await startApp();
    const { job } = await h.app.submitJob({ type: 'fail' });
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({
      status: 'failed',
      attempts: 3,
      max_attempts: 3,
      error: ALWAYS,
      completed_at: iso(START),
    });
    expect(h.events.forJob(job.id)).toMatchObject([
      { type: 'job_submitted' },
      { type: 'job_started', attempt: 1 },
      { type: 'job_retrying', attempt: 1, retry_at: iso(START), error: ALWAYS },
      { type: 'job_started', attempt: 2 },
      { type: 'job_retrying', attempt: 2, retry_at: iso(START) },
      { type: 'job_started', attempt: 3 },
      { type: 'job_failed', attempts: 3, error: ALWAYS },
    ]);
    h.events.expectContiguous();
  });

  it('fails at once after one attempt when the error is not retryable', async () => {
    h = await startApp();
    const { job } = await h.app.submitJob({
      type: 'fail',
      input: { retryable: false, message: 'bad input' },
      max_attempts: 5,
    });
    await h.settle();
    const error = { code: 'JOB_FAILED', message: 'bad input', retryable: false };
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'failed', attempts: 1, error });
    expect(h.events.forJob(job.id)).toMatchObject([
      { type: 'job_submitted' },
      { type: 'job_started', attempt: 1 },
      { type: 'job_failed', attempts: 1, error },
    ]);
  });

  it('fails after one attempt when max_attempts is 1', async () => {
    h = await startApp();
    const { job } = await h.app.submitJob({ type: 'fail', max_attempts: 1 });
    await h.settle();
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(h.events.typesFor(job.id)).toEqual(['job_submitted', 'job_started', 'job_failed']);
  });

  it('doubles an exponential backoff per failed attempt, capped at max_delay_ms', async () => {
    h = await startApp();
    const { job } = await h.app.submitJob({
      type: 'fail',
      max_attempts: 4,
      backoff: { type: 'exponential', delay_ms: 1_000, max_delay_ms: 3_000 },
    });
    await h.settle();
    // Attempt 1 at 0 → wait 1000; attempt 2 at 1000 → wait 2000; attempt 3 at 3000 → wait 3000 (capped).
    const starts = [0, 1_000, 3_000, 6_000];
    for (const [i, at] of starts.entries()) {
      if (i > 0) {
        await h.settle(at - starts[i - 1]! - 1);
        expect(await h.app.getJob(job.id)).toMatchObject({
          status: 'delayed',
          attempts: i,
          run_at: iso(START + at),
        });
        await h.settle(1);
      }
    }
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'failed', attempts: 4 });
    const events = h.events.forJob(job.id);
    expect(events.filter((e) => e.type === 'job_started').map((e) => e.at)).toEqual(
      starts.map((at) => iso(START + at)),
    );
    expect(events.filter((e) => e.type === 'job_retrying')).toMatchObject([
      { attempt: 1, retry_at: iso(START + 1_000), at: iso(START) },
      { attempt: 2, retry_at: iso(START + 3_000), at: iso(START + 1_000) },
      { attempt: 3, retry_at: iso(START + 6_000), at: iso(START + 3_000) },
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'job_failed', attempts: 4, at: iso(START + 6_000) });
    h.events.expectContiguous();
  });

  it('waits the same delay between attempts with a fixed backoff', async () => {
    h = await startApp();
    const { job } = await h.app.submitJob({
      type: 'fail',
      max_attempts: 3,
      backoff: { type: 'fixed', delay_ms: 250, max_delay_ms: 250 },
    });
    await h.settle();
    await h.settle(250);
    await h.settle(250);
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'failed', attempts: 3 });
    expect(h.events.ofType('job_retrying').map((e) => e.retry_at)).toEqual([
      iso(START + 250),
      iso(START + 500),
    ]);
    expect(h.events.ofType('job_started').map((e) => e.at)).toEqual([
      iso(START),
      iso(START + 250),
      iso(START + 500),
    ]);
  });

  it('applies the defaults of a configured type that uses a builtin handler under its own name', async () => {
    h = await startApp({
      config: configWith([
        {
          name: 'flaky',
          executor: 'builtin:fail',
          max_attempts: 2,
          priority: 70,
          backoff: { type: 'fixed', delay_ms: 100, max_delay_ms: 100 },
        },
      ]),
    });
    const { job } = await h.app.submitJob({ type: 'flaky' });
    expect(job).toMatchObject({ priority: 70, max_attempts: 2 });
    await h.settle();
    await h.settle(100);
    expect(await h.app.getJob(job.id)).toMatchObject({ status: 'failed', attempts: 2, error: ALWAYS });
    expect(h.events.ofType('job_retrying').map((e) => e.retry_at)).toEqual([iso(START + 100)]);
  });
});
