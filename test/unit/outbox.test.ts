import { afterEach, describe, expect, it } from 'vitest';
import type { ActorRef } from '../../src/runtime/actor.js';
import { defineActor } from '../../src/runtime/actor.js';
import { SimulatedClock } from '../../src/runtime/clock.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import type { CommitEntry } from '../../src/runtime/store/snapshot-store.js';
import { type ActorSystem, createSystem, type SystemOptions } from '../../src/runtime/system.js';
import { ControlledStore } from './helpers.js';

const T0 = 1_000_000;
const REDELIVER = 2_000;

type SenderMsg = { type: 'send'; to: string; value: string };
type ReceiverMsg = { type: 'deliver'; value: string } | { type: 'read' };

const sender = defineActor<{ sent: number }, SenderMsg>({
  initial: () => ({ sent: 0 }),
  receive(state, msg, ctx) {
    ctx.tellReliably({ kind: 'receiver', id: msg.to }, { type: 'deliver', value: msg.value });
    return { sent: state.sent + 1 };
  },
});

/** Every call of the receiver's `receive` for a delivery, outside actor state (reverts cannot hide it). */
let receiveCalls: Array<{ value: string; sender: ActorRef | undefined }> = [];

const receiver = defineActor<{ got: string[] }, ReceiverMsg>({
  initial: () => ({ got: [] }),
  receive(state, msg, ctx) {
    if (msg.type === 'read') {
      ctx.reply(state.got);
      return state;
    }
    receiveCalls.push({ value: msg.value, sender: ctx.sender });
    ctx.emit({ received: msg.value });
    return { got: [...state.got, msg.value] };
  },
});

let systems: ActorSystem[] = [];

afterEach(async () => {
  for (const s of systems) await s.shutdown({ timeoutMs: 100 });
  systems = [];
  receiveCalls = [];
});

function start(options: Partial<SystemOptions> & { clock?: SimulatedClock; inner?: MemoryStore } = {}) {
  const clock = options.clock ?? new SimulatedClock(T0);
  const store = new ControlledStore(options.inner ?? new MemoryStore());
  const system = createSystem({
    redeliverMs: REDELIVER,
    passivateAfterMs: 60_000,
    // The embedded store stands in for a durable one here: it outlives the systems of a test.
    confirmedDelivery: true,
    ...options,
    store,
    clock,
    actors: { sender, receiver },
  });
  systems.push(system);
  const events: unknown[] = [];
  system.onEvent((e) => events.push(e.event));
  const s1 = system.ref('sender', 's1');
  const send = (value: string, to = 'r1') => system.tell(s1, { type: 'send', to, value });
  const read = (id = 'r1') => system.ask(system.ref('receiver', id), { type: 'read' });
  return { system, clock, store, events, s1, send, read };
}

async function advance(system: ActorSystem, clock: SimulatedClock, ms: number): Promise<void> {
  clock.advance(ms);
  await system.idle();
}

/** Confirmations only ride on a later write; this writes them now, so the store can be inspected. */
async function writeDeferred(system: ActorSystem): Promise<void> {
  system.writeDeferred();
  await system.idle();
}

const isReceiver = (entry: CommitEntry) => entry.kind === 'receiver';
describe('reliable delivery', () => {
  it('delivers once, tells the receiver who sent it, and empties the outbox after confirmation', async () => {
    const { system, clock, store, events, send, read } = start();
    send('hello');
    await system.idle();
    await expect(read()).resolves.toEqual(['hello']);
    expect(receiveCalls).toEqual([{ value: 'hello', sender: { kind: 'sender', id: 's1' } }]);
    await writeDeferred(system);
    const senderRec = await store.load('sender', 's1');
    expect(senderRec?.outbox).toBeNull();
    expect(senderRec?.outSeq).toEqual(new Map([['receiver:r1', 1]]));
    expect(senderRec?.timers).toBeNull();
    expect((await store.load('receiver', 'r1'))?.inSeq).toEqual(new Map([['sender:s1', 1]]));
    await expect(store.loadTimers(Number.POSITIVE_INFINITY)).resolves.toEqual([]);
    await advance(system, clock, REDELIVER * 5);
    expect(receiveCalls).toHaveLength(1);
    expect(events).toEqual([{ received: 'hello' }]);
  });

  it('keeps the message and a redelivery timer in the sender snapshot until confirmed', async () => {
    const { system, store, send } = start();
    store.failCommits(isReceiver, 100);
    send('kept');
    await system.idle();
    const rec = await store.load('sender', 's1');
    expect(rec?.outbox).toEqual([
      { seq: 1, to: ['receiver', 'r1'], msg: { type: 'deliver', value: 'kept' } },
    ]);
    expect(rec?.timers).toEqual({ __redeliver: { at: T0 + REDELIVER, msg: null } });
    await expect(store.loadTimers(Number.POSITIVE_INFINITY)).resolves.toEqual([
      { kind: 'sender', id: 's1', name: '__redeliver', at: T0 + REDELIVER },
    ]);
  });

  it('numbers messages per channel and delivers them in order', async () => {
    const { system, store, send, read } = start();
    send('a');
    send('b');
    send('c', 'r2');
    send('d');
    await system.idle();
    await expect(read()).resolves.toEqual(['a', 'b', 'd']);
    await expect(read('r2')).resolves.toEqual(['c']);
    await writeDeferred(system);
    expect((await store.load('sender', 's1'))?.outSeq).toEqual(
      new Map([
        ['receiver:r1', 3],
        ['receiver:r2', 1],
      ]),
    );
    expect((await store.load('receiver', 'r1'))?.inSeq).toEqual(new Map([['sender:s1', 3]]));
    expect((await store.load('sender', 's1'))?.outbox).toBeNull();
  });

  it('a confirmation removes only the entries of that receiver', async () => {
    const { system, store, send, read } = start();
    store.failCommits((entry) => entry.kind === 'receiver' && entry.id === 'r2', 100);
    // one after the other: receivers handled in one turn share a group commit (and its failure)
    send('to-r2', 'r2');
    await system.idle();
    send('to-r1');
    await system.idle();
    await expect(read()).resolves.toEqual(['to-r1']);
    await writeDeferred(system);
    const rec = await store.load('sender', 's1');
    expect(rec?.outbox).toEqual([
      { seq: 1, to: ['receiver', 'r2'], msg: { type: 'deliver', value: 'to-r2' } },
    ]);
    expect(rec?.timers).toEqual({ __redeliver: { at: T0 + REDELIVER, msg: null } });
  });

  it('matches a confirmation by the whole receiver id, colons included', async () => {
    const { system, store, send, read } = start();
    store.failCommits(
      (entry) => entry.kind === 'receiver' && (entry.id === 'x' || entry.id === 'x:y:z'),
      100,
    );
    for (const id of ['x', 'x:y:z', 'x:y']) {
      send(`to-${id}`, id);
      await system.idle();
    }
    await expect(read('x:y')).resolves.toEqual(['to-x:y']);
    await writeDeferred(system);
    const rec = await store.load('sender', 's1');
    expect(rec?.outbox?.map((entry) => entry.to[1])).toEqual(['x', 'x:y:z']);
  });

  it('a confirmation forces no write: it rides on the next one, and the store has it after writeDeferred', async () => {
    const { system, clock, store, send, read } = start();
    send('once');
    await system.idle();
    await expect(read()).resolves.toEqual(['once']);
    // Confirmed in memory (nothing is redelivered), not yet in the store.
    expect((await store.load('sender', 's1'))?.outbox).toHaveLength(1);
    await advance(system, clock, REDELIVER * 3);
    expect(receiveCalls).toHaveLength(1);
    // The sender's next write carries it.
    send('twice', 'r2');
    await system.idle();
    const rec = await store.load('sender', 's1');
    expect(rec?.outbox?.map((entry) => entry.to)).toEqual([['receiver', 'r2']]);
    await writeDeferred(system);
    expect((await store.load('sender', 's1'))?.outbox).toBeNull();
    expect((await store.load('sender', 's1'))?.timers).toBeNull();
    await expect(store.loadTimers(Number.POSITIVE_INFINITY)).resolves.toEqual([]);
  });

  it('a confirmation lost in a crash costs one redelivery, which the receiver drops and confirms again', async () => {
    const inner = new MemoryStore();
    const first = start({ inner });
    first.send('once');
    await first.system.idle();
    expect(receiveCalls).toHaveLength(1);
    // A crash: the confirmation was never written (a shutdown would have written it).
    expect((await inner.load('sender', 's1'))?.outbox).toHaveLength(1);

    const clock = new SimulatedClock(T0 + REDELIVER);
    const second = start({ inner, clock });
    await second.system.recover();
    await second.system.idle();
    expect(receiveCalls).toHaveLength(1);
    await expect(second.read()).resolves.toEqual(['once']);
    expect(second.events).toEqual([]);
    await writeDeferred(second.system);
    const rec = await inner.load('sender', 's1');
    expect(rec?.outbox).toBeNull();
    expect(rec?.timers).toBeNull();
  });

  it('writes deferred confirmations when the system shuts down', async () => {
    const { system, store, send } = start();
    send('bye');
    await system.idle();
    expect((await store.load('sender', 's1'))?.outbox).toHaveLength(1);
    await system.shutdown();
    expect((await store.load('sender', 's1'))?.outbox).toBeNull();
  });

  it('writes deferred confirmations before the actor leaves memory', async () => {
    const { system, clock, store, send, s1 } = start({ passivateAfterMs: 500 });
    send('bye');
    await system.idle();
    expect((await store.load('sender', 's1'))?.outbox).toHaveLength(1);
    // The sweep that finds the sender idle writes the confirmation instead of passivating it.
    await advance(system, clock, 500);
    expect((await store.load('sender', 's1'))?.outbox).toBeNull();
    system.sweep();
    expect(system.isResident(s1)).toBe(false);
  });

  it("when the receiver's commit fails, the sender redelivers after redeliverMs and it is applied once", async () => {
    const { system, clock, store, events, send, read } = start();
    store.failCommits(isReceiver, 1);
    send('retry-me');
    await system.idle();
    expect(await store.load('receiver', 'r1')).toBeUndefined();
    expect((await store.load('sender', 's1'))?.outbox).toHaveLength(1);
    expect(events).toEqual([]);

    await advance(system, clock, REDELIVER - 1);
    expect(receiveCalls).toHaveLength(1);
    await advance(system, clock, 1);
    expect(receiveCalls).toHaveLength(2);
    await expect(read()).resolves.toEqual(['retry-me']);
    expect(events).toEqual([{ received: 'retry-me' }]);
    expect((await store.load('receiver', 'r1'))?.state).toEqual({ got: ['retry-me'] });
    await writeDeferred(system);
    expect((await store.load('sender', 's1'))?.outbox).toBeNull();

    await advance(system, clock, REDELIVER * 5);
    expect(receiveCalls).toHaveLength(2);
  });

  it('keeps redelivering every redeliverMs until the receiver succeeds', async () => {
    const { system, clock, store, send, read } = start();
    store.failCommits(isReceiver, 3);
    send('stubborn');
    await system.idle();
    for (let i = 0; i < 3; i++) await advance(system, clock, REDELIVER);
    expect(receiveCalls).toHaveLength(4);
    await expect(read()).resolves.toEqual(['stubborn']);
    await writeDeferred(system);
    expect((await store.load('sender', 's1'))?.outbox).toBeNull();
  });

  it('an out-of-order message is dropped and healed by redelivery in order', async () => {
    const { system, clock, store, send, read } = start();
    // The first message is lost on the way: the receiver cannot be loaded when it arrives.
    store.failLoads('receiver', 'r1', 1);
    send('first');
    await system.idle();
    expect(system.isResident(system.ref('receiver', 'r1'))).toBe(false);
    send('second');
    await system.idle();
    // seq 2 arrived before seq 1: dropped, not applied
    expect(receiveCalls).toEqual([]);
    await expect(read()).resolves.toEqual([]);
    expect((await store.load('sender', 's1'))?.outbox?.map((e) => e.seq)).toEqual([1, 2]);

    await advance(system, clock, REDELIVER);
    await expect(read()).resolves.toEqual(['first', 'second']);
    expect(receiveCalls.map((c) => c.value)).toEqual(['first', 'second']);
    await writeDeferred(system);
    expect((await store.load('sender', 's1'))?.outbox).toBeNull();
  });

  it('a passivated sender with a non-empty outbox is reactivated by its timer and redelivers', async () => {
    const { system, clock, store, send, read, s1 } = start({ passivateAfterMs: 500 });
    store.failCommits(isReceiver, 1);
    send('later');
    await system.idle();
    await advance(system, clock, 500);
    system.sweep();
    expect(system.isResident(s1)).toBe(false);
    await advance(system, clock, REDELIVER - 500);
    await expect(read()).resolves.toEqual(['later']);
    await writeDeferred(system);
    expect((await store.load('sender', 's1'))?.outbox).toBeNull();
  });

  it('a sender recreated in a new system on the same store redelivers after recover()', async () => {
    const inner = new MemoryStore();
    const first = start({ inner });
    first.store.failCommits(isReceiver, 100);
    first.send('survives');
    await first.system.idle();
    await first.system.shutdown();
    expect((await inner.load('sender', 's1'))?.outbox).toHaveLength(1);

    const clock = new SimulatedClock(T0 + 100);
    const second = start({ inner, clock });
    await expect(second.system.recover()).resolves.toEqual({ timers: 1 });
    await second.system.idle();
    await advance(second.system, clock, REDELIVER - 100);
    await expect(second.read()).resolves.toEqual(['survives']);
    await writeDeferred(second.system);
    expect((await inner.load('sender', 's1'))?.outbox).toBeNull();
    await expect(inner.loadTimers(Number.POSITIVE_INFINITY)).resolves.toEqual([]);
    await advance(second.system, clock, REDELIVER * 3);
    await expect(second.read()).resolves.toEqual(['survives']);
  });

  it('an overdue redelivery fires at once after recover() and is applied exactly once', async () => {
    const inner = new MemoryStore();
    const first = start({ inner });
    first.store.failCommits(isReceiver, 100);
    first.send('overdue');
    await first.system.idle();
    await first.system.shutdown();

    const clock = new SimulatedClock(T0 + REDELIVER * 10);
    const second = start({ inner, clock });
    await second.system.recover();
    await second.system.idle();
    await expect(second.read()).resolves.toEqual(['overdue']);
    await advance(second.system, clock, REDELIVER * 3);
    expect(receiveCalls.filter((c) => c.value === 'overdue')).toHaveLength(2);
    await expect(second.read()).resolves.toEqual(['overdue']);
  });

  it('redelivery goes on after the commit of a redelivery turn failed', async () => {
    const { system, clock, store, send, read } = start();
    store.failCommits(isReceiver, 1);
    send('persistent');
    await system.idle();
    // The sender's redelivery turn (re-arming its timer) is not made durable.
    store.failCommits((entry) => entry.kind === 'sender', 1);
    await advance(system, clock, REDELIVER);
    expect(receiveCalls).toHaveLength(1);
    await advance(system, clock, REDELIVER * 3);
    await expect(read()).resolves.toEqual(['persistent']);
    await writeDeferred(system);
    expect((await store.load('sender', 's1'))?.outbox).toBeNull();
  });
});

describe('reliable delivery without a durable store', () => {
  it('is a plain tell once the turn is written: in order, with no outbox, numbering or confirmation', async () => {
    const clock = new SimulatedClock(T0);
    const store = new MemoryStore();
    const system = createSystem({ store, clock, redeliverMs: REDELIVER, actors: { sender, receiver } });
    systems.push(system);
    const s1 = system.ref('sender', 's1');
    for (const value of ['a', 'b', 'c']) system.tell(s1, { type: 'send', to: 'r1', value });
    await system.idle();
    await expect(system.ask(system.ref('receiver', 'r1'), { type: 'read' })).resolves.toEqual([
      'a',
      'b',
      'c',
    ]);
    // Not told who sent it: that comes with the channel's numbering, which is not kept.
    expect(receiveCalls.map((call) => call.sender)).toEqual([undefined, undefined, undefined]);
    const senderRec = await store.load('sender', 's1');
    expect(senderRec?.state).toEqual({ sent: 3 });
    expect(senderRec?.outbox).toBeNull();
    expect(senderRec?.outSeq).toBeNull();
    expect(senderRec?.timers).toBeNull();
    expect((await store.load('receiver', 'r1'))?.inSeq).toBeNull();
    clock.advance(REDELIVER * 5);
    await system.idle();
    expect(receiveCalls).toHaveLength(3);
  });

  it('sends nothing for a turn whose write failed', async () => {
    const store = new MemoryStore();
    const system = createSystem({ store, clock: new SimulatedClock(T0), actors: { sender, receiver } });
    systems.push(system);
    const s1 = system.ref('sender', 's1');
    system.tell(s1, { type: 'send', to: 'r1', value: 'written' });
    await system.idle();
    store.failing = true;
    system.tell(s1, { type: 'send', to: 'r1', value: 'lost with its turn' });
    await system.idle();
    store.failing = false;
    await expect(system.ask(system.ref('receiver', 'r1'), { type: 'read' })).resolves.toEqual(['written']);
    expect(receiveCalls.map((call) => call.value)).toEqual(['written']);
  });
});
