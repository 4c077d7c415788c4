/**
 * Removal timers (`ActorLogic.removalTimers`): the firing of one for an actor not in memory is
 * carried out by the store without loading the actor; anything the store cannot judge goes to the
 * actor as before, and a message arriving meanwhile waits for the store's answer. The store files
 * them apart, and those never armed in memory come due through the sweep (removal-sweep.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineActor } from '../../src/runtime/actor.js';
import { SimulatedClock } from '../../src/runtime/clock.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import type { TimerRef, TimerRemoval } from '../../src/runtime/store/snapshot-store.js';
import { type ActorSystem, createSystem, type SourcedEvent } from '../../src/runtime/system.js';
import { type Deferred, deferred, settle, track } from './helpers.js';

type Msg =
  | { type: 'finish'; at: number; later?: number }
  | { type: 'reopen' }
  | { type: 'get' }
  | { type: 'expire' }
  | { type: 'later' };

interface Task {
  done: boolean;
}

/** Finishing arms `expire`, which removes the task; reopening cancels it, as jobs do. */
const task = defineActor<Task | null, Msg>({
  initial: () => null,
  removalTimers: ['expire'],
  index: (state) => ({ live: false, tags: state?.done ? ['done'] : ['open'] }),
  receive(state, msg, ctx) {
    switch (msg.type) {
      case 'finish':
        ctx.setTimer('expire', msg.at, { type: 'expire' });
        if (msg.later) ctx.setTimer('later', msg.later, { type: 'later' });
        return { done: true };
      case 'reopen':
        ctx.cancelTimer('expire');
        return { done: false };
      case 'get':
        ctx.reply(state);
        return state;
      case 'expire':
        ctx.emit({ expiredInTurn: ctx.self.id });
        if (state?.done) ctx.remove();
        return state;
      case 'later':
        return state;
    }
  },
});

const T0 = 1_000_000;
let systems: ActorSystem[] = [];

afterEach(async () => {
  for (const system of systems) await system.shutdown({ timeoutMs: 100 });
  systems = [];
});

/** The embedded store, with removals that can be held until the test lets them through. */
class HeldRemovals extends MemoryStore {
  gate: Deferred<void> | null = null;
  readonly batches: TimerRef[][] = [];

  override async removeByTimer(firings: readonly TimerRef[]): Promise<TimerRemoval[]> {
    this.batches.push([...firings]);
    if (this.gate) await this.gate.promise;
    return super.removeByTimer(firings);
  }
}

function start(store = new HeldRemovals(), clock = new SimulatedClock(T0)) {
  const system = createSystem({ store, clock, passivateAfterMs: 1_000, actors: { task } });
  systems.push(system);
  const events: unknown[] = [];
  system.onEvent((event: SourcedEvent) => events.push(event.event));
  const loads = vi.spyOn(store, 'load');
  return { store, clock, system, events, loads };
}

async function advance(system: ActorSystem, clock: SimulatedClock, ms: number): Promise<void> {
  clock.advance(ms);
  await system.idle();
}

/** Just past the expiry every task here is finished with. */
async function pastExpiry(system: ActorSystem, clock: SimulatedClock): Promise<void> {
  await advance(system, clock, T0 + 10_100 - clock.now());
}

/** Finishes the task and lets it leave memory. */
async function finished(system: ActorSystem, clock: SimulatedClock, id: string, msg: Partial<Msg> = {}) {
  const ref = system.ref('task', id);
  await system.ask(ref, { type: 'finish', at: T0 + 10_000, ...msg });
  await advance(system, clock, 1_000);
  system.sweep();
  expect(system.isResident(ref)).toBe(false);
  return ref;
}

describe('removal timers', () => {
  it('remove an actor not in memory in the store, without loading it or running a turn', async () => {
    const { store, clock, system, events, loads } = start();
    await finished(system, clock, 't1');
    await finished(system, clock, 't2');
    expect(await store.count('task', 'done')).toBe(2);
    loads.mockClear();

    await pastExpiry(system, clock);
    expect(store.batches).toEqual([
      [
        { kind: 'task', id: 't1', name: 'expire', at: T0 + 10_000 },
        { kind: 'task', id: 't2', name: 'expire', at: T0 + 10_000 },
      ],
    ]);
    expect(loads).not.toHaveBeenCalled();
    expect(events).toEqual([]);
    expect(await store.count('task', 'done')).toBe(0);
    expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toEqual([]);
    // A later message meets a new actor.
    expect(await system.ask(system.ref('task', 't1'), { type: 'get' })).toBeNull();
  });

  it('go to the actor when it is in memory', async () => {
    const { store, clock, system, events } = start();
    const ref = system.ref('task', 't1');
    await system.ask(ref, { type: 'finish', at: T0 + 500 });
    system.tell(ref, { type: 'get' });
    await advance(system, clock, 600);
    expect(store.batches).toEqual([]);
    expect(events).toEqual([{ expiredInTurn: 't1' }]);
    expect(await store.load('task', 't1')).toBeUndefined();
  });

  it('go to the actor when the store holds it for something else pending', async () => {
    const { store, clock, system, events, loads } = start();
    await finished(system, clock, 't1', { later: T0 + 50_000 });
    loads.mockClear();
    await pastExpiry(system, clock);
    expect(store.batches).toHaveLength(1);
    expect(loads).toHaveBeenCalledTimes(1);
    expect(events).toEqual([{ expiredInTurn: 't1' }]);
    // The turn removed it, its other timer with it.
    expect(await store.load('task', 't1')).toBeUndefined();
    expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toEqual([]);
  });

  it('leave a reopened actor alone: the firing of its cancelled timer is stale', async () => {
    const { store, clock, system, events } = start();
    const ref = await finished(system, clock, 't1');
    await system.ask(ref, { type: 'reopen' });
    await advance(system, clock, 1_000);
    system.sweep();
    await pastExpiry(system, clock);
    expect(events).toEqual([]);
    expect(await system.ask(ref, { type: 'get' })).toEqual({ done: false });
    expect(await store.count('task', 'open')).toBe(1);
  });

  it('make a message that arrives during the removal wait, then meet the actor removed', async () => {
    const { store, clock, system, loads } = start();
    const ref = await finished(system, clock, 't1');
    loads.mockClear();
    store.gate = deferred<void>();
    clock.advance(T0 + 10_100 - clock.now());
    await settle();
    expect(store.batches).toHaveLength(1);

    const reply = track(system.ask(ref, { type: 'get' }));
    await settle();
    expect(reply.settled).toBe(false);
    expect(loads).not.toHaveBeenCalled();

    store.gate.resolve();
    await system.idle();
    expect(reply).toEqual({ settled: true, value: null });
    expect(loads).toHaveBeenCalledTimes(1);
    expect(await store.count('task', 'done')).toBe(0);
  });

  it('are tried again after a pause while the store is unreachable, and then remove once', async () => {
    const { store, clock, system, events } = start();
    await finished(system, clock, 't1');
    store.failing = true;
    await pastExpiry(system, clock);
    expect(store.batches).toHaveLength(1);
    store.failing = false;
    // SystemOptions.redeliverMs (2 s by default) is the pause.
    await advance(system, clock, 2_100);
    expect(store.batches).toHaveLength(2);
    expect(events).toEqual([]);
    expect(await store.load('task', 't1')).toBeUndefined();
    expect(await store.count('task', 'done')).toBe(0);
  });

  it('filed apart by the store, never enter memory: the sweep hands them on when due', async () => {
    const { store, clock, system, events, loads } = start();
    const ref = await finished(system, clock, 't1', { at: T0 + 120_000 });
    expect(system.stats().timers).toBe(0);
    expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toEqual([]);
    loads.mockClear();
    await advance(system, clock, T0 + 119_000 - clock.now());
    expect(store.batches).toEqual([]);
    // Within a sweep's interval of the deadline.
    await advance(system, clock, 2_000);
    expect(store.batches).toEqual([[{ kind: 'task', id: 't1', name: 'expire', at: T0 + 120_000 }]]);
    expect(loads).not.toHaveBeenCalled();
    expect(events).toEqual([]);
    expect(await system.ask(ref, { type: 'get' })).toBeNull();
  });

  it('overdue at a restart, are swept by recover() in pages, paced, and remove every actor once', async () => {
    const store = new HeldRemovals();
    const first = start(store);
    const ids = Array.from({ length: 600 }, (_, i) => `t${i}`);
    await Promise.all(
      ids.map((id) => first.system.ask(first.system.ref('task', id), { type: 'finish', at: T0 + 90_000 })),
    );
    await first.system.shutdown();

    const { system, clock, events, loads } = start(store, new SimulatedClock(T0 + 100_000));
    // The same spy as the first system's, which loaded each task to finish it.
    loads.mockClear();
    await system.recover();
    for (let i = 0; i < 20 && (await store.count('task', 'done')) > 0; i++) await advance(system, clock, 5);
    expect(await store.count('task', 'done')).toBe(0);
    // A page is a heap wake's worth (256); the third waited for the first two to settle.
    expect(store.batches.map((batch) => batch.length)).toEqual([256, 256, 88]);
    expect(loads).not.toHaveBeenCalled();
    expect(events).toEqual([]);
  });

  it('are swept again once the store answers when a sweep could not read them', async () => {
    const { store, clock, system } = start();
    await finished(system, clock, 't1', { at: T0 + 120_000 });
    store.failing = true;
    await advance(system, clock, T0 + 121_000 - clock.now());
    expect(store.batches).toEqual([]);
    store.failing = false;
    await advance(system, clock, 1_000);
    expect(store.batches).toHaveLength(1);
    expect(await store.count('task', 'done')).toBe(0);
  });
});
