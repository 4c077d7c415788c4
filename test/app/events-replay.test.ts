/**
 * Resumable subscriptions: with `since` every logged event after the cursor on the chosen topics is
 * replayed (across pages), then live ones follow with no gap and no duplicate, even while events
 * are produced during the replay; a cursor from another epoch, older than the log keeps, from the
 * future or malformed gets `reset` per topic and the subscription carries on live.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type BusDelivery, decodeCursor, encodeCursor, type Subscription } from '../../src/app/event-bus.js';
import { MailroomError } from '../../src/errors.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import type { EventLogInfo, LoggedEvent } from '../../src/runtime/store/snapshot-store.js';
import type { MailroomEvent } from '../../src/schemas/events.js';
import { rejection, startWorkflowApp, type WorkflowApp } from '../fixtures/workflow-app.js';

/** A memory store that runs a hook (e.g. producing more events) inside each log read. */
class HookedStore extends MemoryStore {
  beforeRead: (() => Promise<void>) | null = null;
  beforeInfo: (() => Promise<void>) | null = null;
  reads = 0;

  override async readEvents(afterSeq: number, limit: number): Promise<LoggedEvent[]> {
    this.reads++;
    if (this.beforeRead) await this.beforeRead();
    return super.readEvents(afterSeq, limit);
  }

  override async eventLogInfo(): Promise<EventLogInfo> {
    if (this.beforeInfo) await this.beforeInfo();
    return super.eventLogInfo();
  }
}

let h: WorkflowApp;
const extra: WorkflowApp[] = [];
afterEach(async () => {
  await h?.close();
  for (const app of extra.splice(0)) await app.close();
});

interface Tap {
  deliveries: BusDelivery[];
  readonly events: MailroomEvent[];
  subscription: Subscription;
}

async function tap(topics: string[], since?: string, app: WorkflowApp = h): Promise<Tap> {
  const deliveries: BusDelivery[] = [];
  const subscription = await app.app.subscribe(topics, since, (d) => deliveries.push(d));
  return {
    deliveries,
    get events() {
      return deliveries.flatMap((d) => (d.kind === 'event' ? [d.event] : []));
    },
    subscription,
  };
}

let produced = 0;
/** `n` three-step echo chains (14 events each) plus one sleep job (3 events), run to the end. */
async function produce(n: number, app: WorkflowApp = h): Promise<void> {
  for (let i = 0; i < n; i++) {
    const step = (name: string, after?: string) => ({
      name,
      type: 'echo',
      input: { i: produced },
      ...(after ? { depends_on: [after] } : {}),
    });
    await app.app.submitWorkflow({
      name: `chain-${produced++}`,
      steps: [step('a'), step('b', 'a'), step('c', 'b')],
    });
  }
  await app.app.submitJob({ type: 'sleep', input: { ms: 0 } });
  await app.settle();
}

function seqRange(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe('resuming with a cursor', () => {
  it('replays after the cursor across pages, then continues live: no gap, no duplicate', async () => {
    const store = new HookedStore();
    h = await startWorkflowApp({ store });
    const all = await tap(['*']);
    const spanning = (
      await h.app.submitWorkflow({
        name: 'spanning',
        steps: [
          { name: 'long', type: 'sleep', input: { ms: 1_000 } },
          { name: 'after', type: 'echo', depends_on: ['long'] },
        ],
      })
    ).workflow.id;
    await produce(150);
    expect(all.events.length).toBeGreaterThan(2_000);
    const cut = all.deliveries[300]!;
    expect(cut.kind).toBe('event');
    const cursor = (cut as Extract<BusDelivery, { kind: 'event' }>).cursor;
    const cutSeq = decodeCursor(cursor)!.seq;

    // Every page read of the replay lets more events be produced and published meanwhile.
    store.reads = 0;
    store.beforeRead = () => produce(2);
    const resumed = await tap(['*'], cursor);
    const topical = await tap([`workflow:${spanning}`, 'type:sleep'], cursor);
    store.beforeRead = null;
    expect(store.reads).toBeGreaterThanOrEqual(4);
    await produce(5);
    await h.settle(1_000);
    expect((await h.app.getWorkflow(spanning)).status).toBe('completed');

    const last = all.events.at(-1)!.seq;
    expect(all.events.map((e) => e.seq)).toEqual(seqRange(1, last));
    expect(resumed.deliveries.every((d) => d.kind === 'event')).toBe(true);
    expect(resumed.events.map((e) => e.seq)).toEqual(seqRange(cutSeq + 1, last));
    expect(resumed.events).toEqual(all.events.filter((e) => e.seq > cutSeq));
    expect(decodeCursor(resumed.subscription.cursor)!.seq).toBe(cutSeq);

    const expectedTopical = all.events.filter(
      (e) =>
        e.seq > cutSeq &&
        (('workflow_id' in e && e.workflow_id === spanning) || ('job_type' in e && e.job_type === 'sleep')),
    );
    expect(topical.events).toEqual(expectedTopical);
    expect(
      topical.events.filter((e) => 'workflow_id' in e && e.workflow_id === spanning).map((e) => e.type),
    ).toEqual([
      'job_completed',
      'workflow_step_completed',
      'job_started',
      'job_completed',
      'workflow_step_completed',
      'workflow_completed',
    ]);
  });

  it('starts a subscription without a cursor exactly after the cursor it returns', async () => {
    const store = new HookedStore();
    h = await startWorkflowApp({ store });
    await produce(1);
    // Events are produced and published while the subscription reads where the log ends.
    store.beforeInfo = () => produce(1);
    const t = await tap(['*']);
    store.beforeInfo = null;
    const start = decodeCursor(t.subscription.cursor)!.seq;
    await produce(1);
    const last = h.events.at(-1)!.seq;
    expect(start).toBe(2 * 17);
    expect(t.events.map((e) => e.seq)).toEqual(seqRange(start + 1, last));

    // Resuming from that cursor gives the same stream.
    const again = await tap(['*'], t.subscription.cursor);
    expect(again.events).toEqual(t.events);
  });

  it('leaves nothing subscribed when the replay fails on the store', async () => {
    const store = new HookedStore();
    h = await startWorkflowApp({ store });
    await produce(1);
    const cursor = encodeCursor((await store.eventLogInfo()).epoch, 3);
    store.beforeRead = () => Promise.reject(new MailroomError('STORE_UNAVAILABLE', 'read failed (test)'));
    let calls = 0;
    expect((await rejection(h.app.subscribe(['*'], cursor, () => calls++))).code).toBe('STORE_UNAVAILABLE');
    store.beforeRead = null;
    await produce(1);
    expect(calls).toBe(0);
  });
});

describe('cursors that cannot be resumed', () => {
  it('resets a cursor from another epoch (another store), then delivers live events only', async () => {
    h = await startWorkflowApp();
    const other = await startWorkflowApp();
    extra.push(other);
    await produce(1, other);
    await produce(2);
    const foreign = await tap(['*'], undefined, other);
    await produce(1, other);
    const cursor = (foreign.deliveries[0] as Extract<BusDelivery, { kind: 'event' }>).cursor;
    expect(decodeCursor(cursor)!.seq).toBeLessThan((await h.store.eventLogInfo()).lastSeq);

    const t = await tap(['*', 'type:echo'], cursor);
    expect(t.deliveries).toEqual([
      { kind: 'reset', topic: '*' },
      { kind: 'reset', topic: 'type:echo' },
    ]);
    const info = await h.store.eventLogInfo();
    expect(t.subscription.cursor).toBe(encodeCursor(info.epoch, info.lastSeq));
    await produce(1);
    expect(t.events.map((e) => e.seq)).toEqual(seqRange(info.lastSeq + 1, h.events.at(-1)!.seq));
  });

  it('replays from the oldest kept event but resets a cursor older than the retention', async () => {
    const store = new MemoryStore(50);
    h = await startWorkflowApp({ store });
    await produce(10);
    const info = await store.eventLogInfo();
    expect(info.lastSeq).toBe(10 * 14 + 3);
    expect(info.firstSeq).toBe(info.lastSeq - 49);

    const edge = await tap(['*'], encodeCursor(info.epoch, info.firstSeq - 1));
    expect(edge.deliveries.every((d) => d.kind === 'event')).toBe(true);
    expect(edge.events.map((e) => e.seq)).toEqual(seqRange(info.firstSeq, info.lastSeq));

    for (const cursor of [
      encodeCursor(info.epoch, info.firstSeq - 2),
      encodeCursor(info.epoch, 0),
      encodeCursor(info.epoch, info.lastSeq + 1),
      'not-a-cursor',
      `${info.epoch}.-1`,
    ]) {
      const t = await tap([`type:sleep`], cursor);
      expect(t.deliveries, cursor).toEqual([{ kind: 'reset', topic: 'type:sleep' }]);
    }

    // The reset subscription goes on live, after the log's end at the time it subscribed.
    const t = await tap(['*'], encodeCursor(info.epoch, 1));
    await produce(1);
    expect(t.deliveries[0]).toEqual({ kind: 'reset', topic: '*' });
    expect(t.events.map((e) => e.seq)).toEqual(seqRange(info.lastSeq + 1, info.lastSeq + 17));
  });
});
