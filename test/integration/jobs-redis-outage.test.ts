/**
 * Jobs through a Redis that stops answering for a while (frozen with SIGSTOP, so the writes sent
 * meanwhile time out here and then run when it resumes, the worst case for "was it written?").
 * Submits in the outage are refused; every job acknowledged before or after completes exactly
 * once; no job, acknowledged or not, starts or completes twice.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createMailroom } from '../../src/app/mailroom.js';
import type { MailroomError } from '../../src/errors.js';
import { createRedisStore } from '../../src/runtime/store/redis-store.js';
import { defaultFile } from '../app/support/job-harness.js';
import { startThrowawayRedis, uniquePrefix } from '../support/redis.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('jobs while Redis stops answering', () => {
  it('refuses submits in the outage and runs every acknowledged job exactly once', async () => {
    const redis = await startThrowawayRedis();
    cleanups.push(() => redis.dispose());
    const store = await createRedisStore({
      url: redis.url,
      prefix: uniquePrefix('outage'),
      commandTimeoutMs: 500,
    });
    cleanups.push(() => store.close());
    const app = await createMailroom({ store, config: defaultFile });
    cleanups.push(() => app.shutdown());
    const started = new Map<string, number>();
    const completed = new Map<string, number>();
    const count = (counts: Map<string, number>, id: string) => counts.set(id, (counts.get(id) ?? 0) + 1);
    await app.subscribe(['*'], undefined, (delivery) => {
      if (delivery.kind !== 'event') return;
      const event = delivery.event;
      if (event.type === 'job_started') count(started, event.job_id);
      if (event.type === 'job_completed') count(completed, event.job_id);
    });
    const submit = (input: unknown) => app.submitJob({ type: 'echo', input }).then((r) => r.job.id);

    const acknowledged = await Promise.all(Array.from({ length: 40 }, (_, i) => submit({ before: i })));
    await until(() => acknowledged.every((id) => completed.has(id)), 10_000);

    redis.pause();
    const refused = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => submit({ during: i })));
    redis.resume();
    for (const result of refused) {
      expect(result.status).toBe('rejected');
      expect(((result as PromiseRejectedResult).reason as MailroomError).code).toBe('STORE_UNAVAILABLE');
    }

    // Once the connection is back, submits are taken again.
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        acknowledged.push(await submit({ probe: true }));
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const after = await Promise.all(Array.from({ length: 40 }, (_, i) => submit({ after: i })));
    acknowledged.push(...after);
    await until(() => acknowledged.every((id) => completed.has(id)), 10_000);
    // A moment more for anything late (a written-after-all job of the outage, a duplicate).
    await new Promise((resolve) => setTimeout(resolve, 300));

    for (const id of acknowledged) {
      expect(completed.get(id)).toBe(1);
      expect(started.get(id)).toBe(1);
    }
    expect([...completed.values()].every((n) => n === 1)).toBe(true);
    expect([...started.values()].every((n) => n === 1)).toBe(true);
  }, 40_000);
});
