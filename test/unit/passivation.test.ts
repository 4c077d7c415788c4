import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineActor } from '../../src/runtime/actor.js';
import { SimulatedClock } from '../../src/runtime/clock.js';
import { IdleList } from '../../src/runtime/passivation.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import { type ActorSystem, createSystem, type SystemOptions } from '../../src/runtime/system.js';
import { ControlledStore, deferred, settle } from './helpers.js';

type Msg = { type: 'inc' } | { type: 'get' } | { type: 'wait'; gate: Promise<void> };

const counter = defineActor<number, Msg>({
  initial: () => 0,
  receive(state, msg, ctx) {
    if (msg.type === 'get') {
      ctx.reply(state);
      return state;
    }
    if (msg.type === 'wait') return msg.gate.then(() => state + 100);
    return state + 1;
  },
});

const IDLE = 1_000;
let system: ActorSystem | undefined;

afterEach(async () => {
  await system?.shutdown({ timeoutMs: 100 });
  system = undefined;
});

function start(options: Partial<SystemOptions> = {}) {
  const clock = new SimulatedClock();
  const store = options.store ?? new MemoryStore();
  system = createSystem({
    passivateAfterMs: IDLE,
    ...options,
    store,
    clock,
    actors: { counter, ...options.actors },
  });
  return { system, clock, store };
}

describe('passivation', () => {
  it('an idle actor leaves memory after passivateAfterMs', async () => {
    const { system, clock } = start();
    const ref = system.ref('counter', 'c1');
    await system.ask(ref, { type: 'inc' });
    clock.advance(IDLE - 1);
    system.sweep();
    expect(system.isResident(ref)).toBe(true);
    clock.advance(1);
    system.sweep();
    expect(system.isResident(ref)).toBe(false);
    expect(system.stats().resident).toBe(0);
  });

  it('the periodic sweep passivates without an explicit sweep() call', async () => {
    const { system, clock } = start();
    const ref = system.ref('counter', 'c1');
    await system.ask(ref, { type: 'inc' });
    clock.advance(IDLE * 2);
    expect(system.isResident(ref)).toBe(false);
  });

  it('the periodic sweep runs every tenth of the idle time: no actor stays much past its own', async () => {
    const { system, clock } = start();
    const ref = system.ref('counter', 'c1');
    // Active between two sweeps, so it goes at the first sweep after its idle time is up.
    clock.advance(IDLE / 4 + 10);
    await system.ask(ref, { type: 'inc' });
    clock.advance(IDLE - 1);
    expect(system.isResident(ref)).toBe(true);
    clock.advance(IDLE / 10 + 1);
    expect(system.isResident(ref)).toBe(false);
  });

  it('a kind registered later with a shorter idle time is swept on its own schedule', async () => {
    const clock = new SimulatedClock();
    system = createSystem({ store: new MemoryStore(), clock, passivateAfterMs: 60_000 });
    system.register('quick', { ...counter, passivateAfterMs: IDLE });
    const ref = system.ref('quick', 'q1');
    await system.ask(ref, { type: 'inc' });
    clock.advance(IDLE * 2);
    expect(system.isResident(ref)).toBe(false);
  });

  it('reactivation restores the state from the snapshot', async () => {
    const { system, clock, store } = start();
    const ref = system.ref('counter', 'c1');
    system.tell(ref, { type: 'inc' });
    system.tell(ref, { type: 'inc' });
    await system.idle();
    clock.advance(IDLE);
    system.sweep();
    expect(system.isResident(ref)).toBe(false);
    expect((await store.load('counter', 'c1'))?.state).toBe(2);
    await expect(system.ask(ref, { type: 'get' })).resolves.toBe(2);
    expect(system.isResident(ref)).toBe(true);
  });

  it('an actor active within the idle period stays; the idle one goes', async () => {
    const { system, clock } = start();
    const idle = system.ref('counter', 'idle');
    const active = system.ref('counter', 'active');
    await system.ask(idle, { type: 'inc' });
    await system.ask(active, { type: 'inc' });
    clock.advance(IDLE / 2);
    await system.ask(active, { type: 'inc' });
    clock.advance(IDLE / 2);
    system.sweep();
    expect(system.isResident(idle)).toBe(false);
    expect(system.isResident(active)).toBe(true);
    clock.advance(IDLE / 2);
    system.sweep();
    expect(system.isResident(active)).toBe(false);
  });

  it('a busy actor (async turn in progress) is not passivated', async () => {
    const { system, clock } = start();
    const ref = system.ref('counter', 'c1');
    const gate = deferred();
    system.tell(ref, { type: 'wait', gate: gate.promise });
    await settle();
    clock.advance(IDLE * 3);
    system.sweep();
    expect(system.isResident(ref)).toBe(true);
    gate.resolve();
    await system.idle();
    await expect(system.ask(ref, { type: 'get' })).resolves.toBe(100);
  });

  it('a dirty actor (write in flight) is not passivated and keeps its state', async () => {
    const store = new ControlledStore();
    const { system, clock } = start({ store });
    const ref = system.ref('counter', 'c1');
    await system.ask(ref, { type: 'inc' });
    store.hold();
    system.tell(ref, { type: 'inc' });
    await settle();
    clock.advance(IDLE * 3);
    system.sweep();
    expect(system.isResident(ref)).toBe(true);
    store.release();
    await system.idle();
    expect((await store.load('counter', 'c1'))?.state).toBe(2);
    clock.advance(IDLE);
    system.sweep();
    expect(system.isResident(ref)).toBe(false);
    await expect(system.ask(ref, { type: 'get' })).resolves.toBe(2);
  });

  it('a per-logic passivateAfterMs overrides the system setting', async () => {
    const quick = defineActor<number, Msg>({ ...counter, passivateAfterMs: 100 });
    const { system, clock } = start({ actors: { quick } });
    const fast = system.ref('quick', 'q');
    const slow = system.ref('counter', 'c');
    await system.ask(fast, { type: 'inc' });
    await system.ask(slow, { type: 'inc' });
    clock.advance(100);
    system.sweep();
    expect(system.isResident(fast)).toBe(false);
    expect(system.isResident(slow)).toBe(true);
  });

  it('an actor that never changed state is passivated too and comes back with its initial state', async () => {
    const { system, clock, store } = start();
    const ref = system.ref('counter', 'c1');
    await expect(system.ask(ref, { type: 'get' })).resolves.toBe(0);
    expect(await store.load('counter', 'c1')).toBeUndefined();
    clock.advance(IDLE);
    system.sweep();
    expect(system.isResident(ref)).toBe(false);
    await expect(system.ask(ref, { type: 'get' })).resolves.toBe(0);
  });
});

describe('finished actors', () => {
  /** Finished at 2: counts, and with `notify` also tells a `sink` reliably. */
  const finishing = defineActor<number, Msg | { type: 'notify' }>({
    initial: () => 0,
    finished: (n) => n >= 2,
    receive(state, msg, ctx) {
      if (msg.type === 'get') {
        ctx.reply(state);
        return state;
      }
      if (msg.type === 'notify') ctx.tellReliably({ kind: 'sink', id: 's' }, { type: 'inc' });
      return state + 1;
    },
  });
  const sink = defineActor<number, Msg>({ initial: () => 0, receive: (n) => n + 1 });
  /** Finished at 2; its first message arms a timer `delayMs` out, the second cancels it. */
  const timedActor = (delayMs: number) =>
    defineActor<number, Msg | { type: 'tick' }>({
      initial: () => 0,
      finished: (n) => n >= 2,
      receive(state, msg, ctx) {
        if (msg.type === 'tick') return state + 10;
        if (msg.type === 'get') {
          ctx.reply(state);
          return state;
        }
        if (state === 0) ctx.setTimer('nudge', ctx.now + delayMs, { type: 'tick' });
        else ctx.cancelTimer('nudge');
        return state + 1;
      },
    });
  const timed = timedActor(100);
  const farTimed = timedActor(1_000);

  it('leave memory as soon as the finished state is written, and come back on the next message', async () => {
    const { system, store } = start({ actors: { finishing, sink } });
    const ref = system.ref('finishing', 'f1');
    await system.ask(ref, { type: 'inc' });
    expect(system.isResident(ref)).toBe(true);
    await system.ask(ref, { type: 'inc' });
    await system.idle();
    expect(system.isResident(ref)).toBe(false);
    expect((await store.load('finishing', 'f1'))?.state).toBe(2);
    await expect(system.ask(ref, { type: 'get' })).resolves.toBe(2);
    // Loaded back without a write: it stays for its idle time, as any actor read.
    expect(system.isResident(ref)).toBe(true);
  });

  it('stay while a write is pending or a message they sent awaits its confirmation, then write and leave', async () => {
    const inner = new ControlledStore();
    const gate = deferred();
    // Takes its message only when the gate opens, so the confirmation can be held back.
    const gatedSink = defineActor<number, Msg>({
      initial: () => 0,
      receive: (n) => gate.promise.then(() => n + 1),
    });
    const { system } = start({
      actors: { finishing, sink: gatedSink },
      store: inner,
      confirmedDelivery: true,
    });
    const ref = system.ref('finishing', 'f1');
    await system.ask(ref, { type: 'inc' });
    inner.hold();
    const notifying = system.ask(ref, { type: 'notify' });
    await settle();
    expect(system.isResident(ref)).toBe(true);
    const loads = vi.spyOn(inner, 'load');
    inner.release();
    await notifying;
    await settle();
    // Written finished, with the message to `sink` unconfirmed: gone, it was loaded back to take
    // the confirmation.
    expect(system.isResident(ref)).toBe(true);
    gate.resolve();
    await system.idle();
    // The confirmation is written at once (not at the idle sweep) and the actor leaves after it.
    expect(system.isResident(ref)).toBe(false);
    expect(loads.mock.calls.filter(([kind]) => kind === 'finishing')).toEqual([]);
    expect((await inner.load('finishing', 'f1'))?.outbox).toBeNull();
    expect((await inner.load('sink', 's'))?.state).toBe(1);
  });

  it('leave with firings they armed still to come; a stale one is dropped without loading them', async () => {
    const { system, clock, store } = start({ actors: { timed } });
    const loads = vi.spyOn(store, 'load');
    const ref = system.ref('timed', 't1');
    await system.ask(ref, { type: 'inc' });
    await system.ask(ref, { type: 'inc' });
    await system.idle();
    expect(system.isResident(ref)).toBe(false);
    clock.advance(100);
    await system.idle();
    expect(system.isResident(ref)).toBe(false);
    // Only the first activation.
    expect(loads.mock.calls.filter(([kind]) => kind === 'timed')).toHaveLength(1);
    await expect(system.ask(ref, { type: 'get' })).resolves.toBe(2);
  });

  it('a timer still current when they left fires and loads them', async () => {
    /** Finished at 1, with a timer 100 ms out that stays set. */
    const lingering = defineActor<number, Msg | { type: 'tick' }>({
      initial: () => 0,
      finished: (n) => n >= 1,
      receive(state, msg, ctx) {
        if (msg.type === 'get') {
          ctx.reply(state);
          return state;
        }
        if (msg.type === 'tick') return state + 10;
        ctx.setTimer('nudge', ctx.now + 100, { type: 'tick' });
        return state + 1;
      },
    });
    const { system, clock } = start({ actors: { lingering } });
    const ref = system.ref('lingering', 'l1');
    await system.ask(ref, { type: 'inc' });
    await system.idle();
    expect(system.isResident(ref)).toBe(false);
    clock.advance(100);
    await system.idle();
    await expect(system.ask(ref, { type: 'get' })).resolves.toBe(11);
  });

  it('stay when a firing they armed is too far off to be remembered', async () => {
    const { system, clock, store } = start({ actors: { far: farTimed }, redeliverMs: 100 });
    const loads = vi.spyOn(store, 'load');
    const ref = system.ref('far', 'f1');
    await system.ask(ref, { type: 'inc' });
    await system.ask(ref, { type: 'inc' });
    await system.idle();
    expect(system.isResident(ref)).toBe(true);
    clock.advance(1_000);
    await system.idle();
    expect(loads.mock.calls.filter(([kind]) => kind === 'far')).toHaveLength(1);
  });
});

describe('IdleList', () => {
  interface FakeCell {
    id: string;
    lastActive: number;
    lruPrev: FakeCell | null;
    lruNext: FakeCell | null;
    lruMovedAt: number;
  }

  function cell(id: string, lastActive: number): FakeCell {
    return { id, lastActive, lruPrev: null, lruNext: null, lruMovedAt: 0 };
  }

  // IdleList only touches the LRU fields, so plain objects stand in for cells.
  type Cell = Parameters<IdleList['add']>[0];

  it('evicts cells idle for idleMs and keeps the others', () => {
    const list = new IdleList(100);
    const a = cell('a', 0);
    const b = cell('b', 50);
    list.add(a as unknown as Cell, 0);
    list.add(b as unknown as Cell, 50);
    const evicted: string[] = [];
    list.sweep(120, (c) => {
      evicted.push((c as unknown as FakeCell).id);
      list.remove(c);
      return true;
    });
    expect(evicted).toEqual(['a']);
    expect(list.size).toBe(1);
  });

  it('a cell that refuses eviction moves to the tail and is tried again later', () => {
    const list = new IdleList(100);
    const a = cell('a', 0);
    list.add(a as unknown as Cell, 0);
    let tries = 0;
    list.sweep(200, () => {
      tries++;
      return false;
    });
    expect(tries).toBe(1);
    expect(list.size).toBe(1);
    list.sweep(300, (c) => {
      tries++;
      list.remove(c);
      return true;
    });
    expect(tries).toBe(2);
    expect(list.size).toBe(0);
  });

  it('an infinite idleMs never evicts', () => {
    const list = new IdleList(Number.POSITIVE_INFINITY);
    list.add(cell('a', 0) as unknown as Cell, 0);
    let called = false;
    list.sweep(1e12, () => {
      called = true;
      return true;
    });
    expect(called).toBe(false);
  });
});

describe('sweep scheduling', () => {
  it('arms a finite sweep interval when no actor kind ever passivates', async () => {
    const clock = new SimulatedClock();
    const requested: number[] = [];
    const setTimeout = clock.setTimeout.bind(clock);
    // Node turns an Infinity delay into 1 ms, so the interval the system asks for must be finite.
    clock.setTimeout = (fn, ms) => {
      requested.push(ms);
      return setTimeout(fn, ms);
    };
    const never = defineActor<number, { type: 'noop' }>({
      initial: () => 0,
      receive: (s) => s,
      ephemeral: true,
    });
    const system = createSystem({
      store: new MemoryStore(),
      clock,
      passivateAfterMs: Number.POSITIVE_INFINITY,
      actors: { never },
    });
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.every((ms) => Number.isFinite(ms) && ms >= 50)).toBe(true);
    await system.shutdown({ timeoutMs: 10 });
  });
});
