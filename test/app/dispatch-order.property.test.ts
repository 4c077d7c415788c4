/**
 * Property: whatever the priorities and arrival times of queued jobs, a worker with one slot is
 * handed them in order of priority (higher first), then arrival (FIFO within a priority).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeWorker } from './support/fake-worker.js';
import { configWith, startApp } from './support/job-harness.js';

const config = configWith([{ name: 'queued', executor: 'remote' }]);

/** A few distinct priorities (ties are the interesting part), sometimes the extremes. */
const priority = fc.oneof(
  fc.constantFrom(0, 50, 100),
  fc.integer({ min: 0, max: 4 }),
  fc.integer({ min: 0, max: 100 }),
);
const arrival = fc.record({ priority, gapMs: fc.integer({ min: 0, max: 3 }) });

describe('dispatch order', () => {
  it('leases jobs by priority desc, then arrival', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arrival, { minLength: 1, maxLength: 25 }),
        fc.boolean(),
        async (arrivals, workerFirst) => {
          const h = await startApp({ config });
          try {
            // With a worker already busy on a blocker, everything after it queues as well.
            const worker = workerFirst ? FakeWorker.connect(h.app, { types: ['queued'], slots: 1 }) : null;
            const blocker = workerFirst
              ? (await h.app.submitJob({ type: 'queued', priority: 0 })).job.id
              : null;
            await h.settle();
            const ids: string[] = [];
            for (const { priority, gapMs } of arrivals) {
              ids.push((await h.app.submitJob({ type: 'queued', priority })).job.id);
              await h.settle(gapMs);
            }
            const w = worker ?? FakeWorker.connect(h.app, { types: ['queued'], slots: 1 });
            await h.settle();
            if (blocker) w.complete(blocker);
            await h.settle();
            while (w.active.length > 0) {
              w.complete(w.active[0]!);
              await h.settle();
            }
            const leased = w.assigns.map((a) => a.jobId).filter((id) => id !== blocker);
            const expected = arrivals
              .map((a, index) => ({ ...a, index }))
              .sort((a, b) => b.priority - a.priority || a.index - b.index)
              .map((a) => ids[a.index]);
            expect(leased).toEqual(expected);
            expect(w.maxActive).toBe(1);
            const started = h.events.ofType('job_started').map((e) => e.job_id);
            expect(started.filter((id) => id !== blocker)).toEqual(expected);
          } finally {
            await h.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
