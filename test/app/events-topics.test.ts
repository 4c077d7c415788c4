/**
 * Live events by topic through the real in-process API: `job:<id>`, `workflow:<id>` (with its step
 * jobs' events), `type:<job type>` and `*`, each in log order with its cursor; unsubscribing stops
 * delivery; a subscribe that fails leaves nothing behind that keeps calling the listener.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BusDelivery, Subscription } from '../../src/app/event-bus.js';
import { decodeCursor } from '../../src/app/event-bus.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import type { MailroomEvent } from '../../src/schemas/events.js';
import { FakeRemote, rejection, startWorkflowApp, type WorkflowApp } from '../fixtures/workflow-app.js';

let h: WorkflowApp;
afterEach(async () => {
  await h?.close();
});

interface Tap {
  deliveries: BusDelivery[];
  events: MailroomEvent[];
  subscription: Subscription;
}

async function tap(topics: string[], since?: string): Promise<Tap> {
  const deliveries: BusDelivery[] = [];
  const subscription = await h.app.subscribe(topics, since, (d) => deliveries.push(d));
  return {
    deliveries,
    get events() {
      return deliveries.flatMap((d) => (d.kind === 'event' ? [d.event] : []));
    },
    subscription,
  };
}

describe('event topics', () => {
  it('routes job, workflow (with step jobs), type and * topics, in log order with cursors', async () => {
    h = await startWorkflowApp();
    const all = await tap(['*']);
    // The first step waits for a remote worker, so the taps below see everything that follows.
    const wf1 = (
      await h.app.submitWorkflow({
        name: 'w1',
        steps: [
          { name: 'a', type: 'render', input: 1 },
          { name: 'b', type: 'sleep', depends_on: ['a'], input: { ms: 10 } },
        ],
      })
    ).workflow.id;
    await h.settle();
    const jobTap = await tap([`job:${wf1}-1`]);
    const wfTap = await tap([`workflow:${wf1}`]);
    const sleepTap = await tap(['type:sleep']);
    const both = await tap([`job:${wf1}-0`, 'type:sleep']);
    const wf2 = (await h.app.submitWorkflow({ name: 'w2', steps: [{ type: 'sleep', input: { ms: 5 } }] }))
      .workflow.id;
    const solo = (await h.app.submitJob({ type: 'echo', input: 'solo' })).job.id;
    const worker = new FakeRemote(h.app);
    await h.settle();
    worker.complete(`${wf1}-0`, { done: true });
    await h.settle(10);

    expect(all.events).toEqual(h.events);
    const after = (t: Tap) => decodeCursor(t.subscription.cursor)!.seq;
    const since = (t: Tap, pred: (e: MailroomEvent) => boolean) =>
      all.events.filter((e) => e.seq > after(t) && pred(e));
    const typesOf = (events: MailroomEvent[], jobId: string) =>
      events.filter((e) => 'job_type' in e && e.job_id === jobId).map((e) => e.type);

    expect(jobTap.events.map((e) => e.type)).toEqual(['job_started', 'job_completed']);
    expect(typesOf(jobTap.events, `${wf1}-1`)).toEqual(['job_started', 'job_completed']);

    expect(wfTap.events).toEqual(since(wfTap, (e) => 'workflow_id' in e && e.workflow_id === wf1));
    expect(wfTap.events.map((e) => e.type)).toEqual([
      'job_started', // a
      'job_completed',
      'workflow_step_completed',
      'job_started', // b
      'job_completed',
      'workflow_step_completed',
      'workflow_completed',
    ]);

    expect(sleepTap.events).toEqual(since(sleepTap, (e) => 'job_type' in e && e.job_type === 'sleep'));
    expect(typesOf(sleepTap.events, `${wf2}-0`)).toEqual(['job_submitted', 'job_started', 'job_completed']);
    expect(typesOf(sleepTap.events, `${wf1}-1`)).toEqual(['job_started', 'job_completed']);
    expect(sleepTap.events).toHaveLength(5);

    // Two topics matching one event deliver it once.
    expect(both.events).toEqual(
      since(both, (e) => 'job_type' in e && (e.job_id === `${wf1}-0` || e.job_type === 'sleep')),
    );
    expect(both.events).toHaveLength(7);
    expect(typesOf(all.events, solo)).toEqual(['job_submitted', 'job_started', 'job_completed']);

    // Every delivery carries the cursor of its own log position, in increasing order.
    const seqs = all.deliveries.map((d) => (d.kind === 'event' ? decodeCursor(d.cursor)!.seq : -1));
    expect(seqs).toEqual(all.events.map((e) => e.seq));
    expect(seqs).toEqual(seqs.map((_, i) => 1 + i));
    const epoch = (await h.store.eventLogInfo()).epoch;
    expect(all.deliveries.every((d) => d.kind === 'event' && d.cursor.startsWith(`${epoch}.`))).toBe(true);
  });

  it('stops delivering after unsubscribe and follows added and removed topics', async () => {
    h = await startWorkflowApp();
    const t = await tap(['type:echo']);
    await h.app.submitJob({ type: 'echo', input: 1 });
    await h.settle();
    expect(t.events.map((e) => e.type)).toEqual(['job_submitted', 'job_started', 'job_completed']);
    t.subscription.removeTopics(['type:echo']);
    t.subscription.addTopics(['type:sleep']);
    await h.app.submitJob({ type: 'echo', input: 2 });
    await h.app.submitJob({ type: 'sleep', input: { ms: 0 } });
    await h.settle();
    expect(t.events.map((e) => ('job_type' in e ? e.job_type : ''))).toEqual([
      'echo',
      'echo',
      'echo',
      'sleep',
      'sleep',
      'sleep',
    ]);
    t.subscription.unsubscribe();
    await h.app.submitJob({ type: 'sleep', input: { ms: 0 } });
    await h.settle();
    expect(t.events).toHaveLength(6);
  });

  it('leaves no live subscriber behind when subscribing fails on the store', async () => {
    const store = new MemoryStore();
    h = await startWorkflowApp({ store });
    let calls = 0;
    store.failing = true;
    const error = await rejection(h.app.subscribe(['*'], undefined, () => calls++));
    store.failing = false;
    expect(error.code).toBe('STORE_UNAVAILABLE');
    await h.app.submitJob({ type: 'echo', input: 1 });
    await h.settle();
    expect(h.events).toHaveLength(3);
    expect(calls).toBe(0);
  });
});
