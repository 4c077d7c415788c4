import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineActor } from '../../src/runtime/actor.js';
import { SimulatedClock } from '../../src/runtime/clock.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import { type DeadLetter, strategy } from '../../src/runtime/supervisor.js';
import {
  type ActorSystem,
  createSystem,
  type SourcedEvent,
  type SystemOptions,
} from '../../src/runtime/system.js';
import { ControlledStore, rejectionCode, settle } from './helpers.js';

type Msg =
  | { type: 'arm'; name: string; at: number; payload: string }
  | { type: 'cancel'; name: string }
  | { type: 'has'; name: string }
  | { type: 'fired'; payload: string }
  | { type: 'read' }
  | { type: 'arm-reserved' }
  | { type: 'arm-explode'; name: string; at: number }
  | { type: 'explode' };

interface State {
  fired: Array<{ payload: string; now: number }>;
}

const alarm = defineActor<State, Msg>({
  initial: () => ({ fired: [] }),
  supervisor: strategy('resume'),
  receive(state, msg, ctx) {
    switch (msg.type) {
      case 'arm':
        ctx.setTimer(msg.name, msg.at, { type: 'fired', payload: msg.payload });
        return state;
      case 'cancel':
        ctx.cancelTimer(msg.name);
        return state;
      case 'has':
        ctx.reply(ctx.hasTimer(msg.name));
        return state;
      case 'fired':
        ctx.emit({ fired: msg.payload, now: ctx.now });
        return { fired: [...state.fired, { payload: msg.payload, now: ctx.now }] };
      case 'read':
        ctx.reply(state.fired.map((f) => f.payload));
        return state;
      case 'arm-reserved':
        ctx.setTimer('__redeliver', ctx.now + 1, { type: 'fired', payload: 'never' });
        return state;
      case 'arm-explode':
        ctx.setTimer(msg.name, msg.at, { type: 'explode' });
        return state;
      case 'explode':
        throw new Error('timer handler failed');
    }
  },
});

/** The same logic under the restart directive, so a failing timer message becomes poison. */
const fragile = defineActor<State, Msg>({ ...alarm, supervisor: strategy('restart', 2) });

const T0 = 1_000_000;
let systems: ActorSystem[] = [];

afterEach(async () => {
  for (const s of systems) await s.shutdown({ timeoutMs: 100 });
  systems = [];
});

function start(options: Partial<SystemOptions> & { clock?: SimulatedClock; store?: MemoryStore } = {}) {
  const clock = options.clock ?? new SimulatedClock(T0);
  const store = options.store ?? new MemoryStore();
  const system = createSystem({
    passivateAfterMs: 60_000,
    ...options,
    store,
    clock,
    actors: { alarm, fragile },
  });
  systems.push(system);
  const events: unknown[] = [];
  system.onEvent((e: SourcedEvent) => events.push(e.event));
  return { system, clock, store, events, ref: system.ref('alarm', 'a1') };
}

async function advance(system: ActorSystem, clock: SimulatedClock, ms: number): Promise<void> {
  clock.advance(ms);
  await system.idle();
}

describe('durable timers', () => {
  it('deliver their message at the deadline, not before', async () => {
    const { system, clock, events, ref } = start();
    await system.ask(ref, { type: 'arm', name: 't', at: T0 + 1_000, payload: 'p' });
    await advance(system, clock, 999);
    expect(events).toEqual([]);
    await advance(system, clock, 1);
    expect(events).toEqual([{ fired: 'p', now: T0 + 1_000 }]);
    await advance(system, clock, 10_000);
    expect(events).toHaveLength(1);
  });

  it('several timers of one actor fire in deadline order', async () => {
    const { system, clock, ref } = start();
    system.tell(ref, { type: 'arm', name: 'c', at: T0 + 300, payload: 'c' });
    system.tell(ref, { type: 'arm', name: 'a', at: T0 + 100, payload: 'a' });
    system.tell(ref, { type: 'arm', name: 'b', at: T0 + 200, payload: 'b' });
    await system.idle();
    await advance(system, clock, 150);
    await expect(system.ask(ref, { type: 'read' })).resolves.toEqual(['a']);
    await advance(system, clock, 1_000);
    await expect(system.ask(ref, { type: 'read' })).resolves.toEqual(['a', 'b', 'c']);
  });

  it('hasTimer reports armed timers and forgets fired ones', async () => {
    const { system, clock, ref } = start();
    await system.ask(ref, { type: 'arm', name: 't', at: T0 + 100, payload: 'p' });
    await expect(system.ask(ref, { type: 'has', name: 't' })).resolves.toBe(true);
    await expect(system.ask(ref, { type: 'has', name: 'other' })).resolves.toBe(false);
    await advance(system, clock, 100);
    await expect(system.ask(ref, { type: 'has', name: 't' })).resolves.toBe(false);
  });

  it('cancelTimer stops a timer from firing and removes it from the store', async () => {
    const { system, clock, store, events, ref } = start();
    await system.ask(ref, { type: 'arm', name: 't', at: T0 + 1_000, payload: 'p' });
    await system.ask(ref, { type: 'cancel', name: 't' });
    await expect(system.ask(ref, { type: 'has', name: 't' })).resolves.toBe(false);
    await expect(store.loadTimers(Number.POSITIVE_INFINITY)).resolves.toEqual([]);
    expect((await store.load('alarm', 'a1'))?.timers).toBeNull();
    await advance(system, clock, 5_000);
    expect(events).toEqual([]);
  });

  it('cancelling an unknown timer changes nothing', async () => {
    const { system, store, ref } = start();
    await system.ask(ref, { type: 'read' });
    await system.ask(ref, { type: 'cancel', name: 'nope' });
    expect(await store.load('alarm', 'a1')).toBeUndefined();
  });

  it('re-arming moves the deadline; the old firing is stale and ignored', async () => {
    const { system, clock, store, events, ref } = start();
    await system.ask(ref, { type: 'arm', name: 't', at: T0 + 1_000, payload: 'first' });
    await system.ask(ref, { type: 'arm', name: 't', at: T0 + 3_000, payload: 'moved' });
    await expect(store.loadTimers(Number.POSITIVE_INFINITY)).resolves.toEqual([
      { kind: 'alarm', id: 'a1', name: 't', at: T0 + 3_000 },
    ]);
    await advance(system, clock, 1_000);
    expect(events).toEqual([]);
    await advance(system, clock, 2_000);
    expect(events).toEqual([{ fired: 'moved', now: T0 + 3_000 }]);
  });

  it('a stale firing of a resident actor is dropped before it takes a turn', async () => {
    const { system, clock, events, ref } = start();
    // Due within a parking sweep, so both go straight into the heap.
    await system.ask(ref, { type: 'arm', name: 't', at: T0 + 100, payload: 'first' });
    await system.ask(ref, { type: 'arm', name: 't', at: T0 + 300, payload: 'moved' });
    expect(system.stats().timers).toBe(2);
    const before = system.stats().processed;
    await advance(system, clock, 100);
    expect(system.stats().processed).toBe(before);
    await advance(system, clock, 200);
    expect(system.stats().processed).toBe(before + 1);
    expect(events).toEqual([{ fired: 'moved', now: T0 + 300 }]);
  });

  it('a timer set far enough ahead and moved before the parking sweep never reaches the heap', async () => {
    const { system, clock, events, ref } = start();
    await system.ask(ref, { type: 'arm', name: 't', at: T0 + 1_000, payload: 'first' });
    await system.ask(ref, { type: 'arm', name: 't', at: T0 + 3_000, payload: 'moved' });
    const before = system.stats().processed;
    await advance(system, clock, 500);
    expect(system.stats().timers).toBe(1);
    await advance(system, clock, 2_500);
    expect(system.stats().processed).toBe(before + 1);
    expect(events).toEqual([{ fired: 'moved', now: T0 + 3_000 }]);
  });

  it('a timer due while the turn cancelling it is being written fires on time if that write fails', async () => {
    const clock = new SimulatedClock(T0);
    const store = new ControlledStore();
    const system = createSystem({ store, clock, redeliverMs: 500, actors: { alarm } });
    systems.push(system);
    const events: unknown[] = [];
    system.onEvent((e: SourcedEvent) => events.push(e.event));
    const ref = system.ref('alarm', 'a1');
    await system.ask(ref, { type: 'arm', name: 't', at: T0 + 1_000, payload: 'p' });
    store.hold();
    store.failCommits(() => true);
    system.tell(ref, { type: 'cancel', name: 't' });
    await vi.waitFor(() => expect(store.started).toHaveLength(2));
    // Due while the cancelling write is in flight: the record has no timer `t` just now, but the
    // write fails and the record goes back to one that has it, so the firing must not be dropped.
    clock.advance(1_000);
    store.release();
    await system.idle();
    expect(events).toEqual([{ fired: 'p', now: T0 + 1_000 }]);
    await advance(system, clock, 10_000);
    expect(events).toHaveLength(1);
  });

  it('re-arming to an earlier deadline fires early, once', async () => {
    const { system, clock, events, ref } = start();
    await system.ask(ref, { type: 'arm', name: 't', at: T0 + 3_000, payload: 'late' });
    await system.ask(ref, { type: 'arm', name: 't', at: T0 + 500, payload: 'early' });
    await advance(system, clock, 500);
    expect(events).toEqual([{ fired: 'early', now: T0 + 500 }]);
    await advance(system, clock, 5_000);
    expect(events).toHaveLength(1);
  });

  it('are recorded in the store and removed after firing', async () => {
    const { system, clock, store, ref } = start();
    await system.ask(ref, { type: 'arm', name: 'x', at: T0 + 2_000, payload: 'x' });
    await system.ask(ref, { type: 'arm', name: 'y', at: T0 + 1_000, payload: 'y' });
    await expect(store.loadTimers(Number.POSITIVE_INFINITY)).resolves.toEqual([
      { kind: 'alarm', id: 'a1', name: 'y', at: T0 + 1_000 },
      { kind: 'alarm', id: 'a1', name: 'x', at: T0 + 2_000 },
    ]);
    expect((await store.load('alarm', 'a1'))?.timers).toEqual({
      x: { at: T0 + 2_000, msg: { type: 'fired', payload: 'x' } },
      y: { at: T0 + 1_000, msg: { type: 'fired', payload: 'y' } },
    });
    await advance(system, clock, 1_000);
    await expect(store.loadTimers(Number.POSITIVE_INFINITY)).resolves.toEqual([
      { kind: 'alarm', id: 'a1', name: 'x', at: T0 + 2_000 },
    ]);
    await advance(system, clock, 1_000);
    await expect(store.loadTimers(Number.POSITIVE_INFINITY)).resolves.toEqual([]);
    expect((await store.load('alarm', 'a1'))?.timers).toBeNull();
    expect((await store.load('alarm', 'a1'))?.state).toEqual({
      fired: [
        { payload: 'y', now: T0 + 1_000 },
        { payload: 'x', now: T0 + 2_000 },
      ],
    });
  });

  it('fire after the actor was passivated', async () => {
    const { system, clock, events, ref } = start({ passivateAfterMs: 1_000 });
    await system.ask(ref, { type: 'arm', name: 't', at: T0 + 10_000, payload: 'wake' });
    await advance(system, clock, 1_000);
    system.sweep();
    expect(system.isResident(ref)).toBe(false);
    await advance(system, clock, 9_000);
    expect(events).toEqual([{ fired: 'wake', now: T0 + 10_000 }]);
    await expect(system.ask(ref, { type: 'read' })).resolves.toEqual(['wake']);
  });

  it('background firings wait while many loads are in flight, others do not, and all fire once', async () => {
    /** Holds loads while `held` is set, counting those in flight. */
    class GatedStore extends MemoryStore {
      held = false;
      inFlight = 0;
      private waiting: Array<() => void> = [];
      override load(kind: string, id: string) {
        if (!this.held) return super.load(kind, id);
        this.inFlight++;
        return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => {
          this.inFlight--;
          return super.load(kind, id);
        });
      }
      releaseLoads(): void {
        this.held = false;
        for (const resolve of this.waiting.splice(0)) resolve();
      }
    }
    // `lazy` actors leave memory after a second idle, and their timer `t` is a background one.
    const lazy = defineActor<State, Msg>({ ...alarm, passivateAfterMs: 1_000, backgroundTimers: ['t'] });
    const store = new GatedStore();
    const clock = new SimulatedClock(T0);
    const system = createSystem({ store, clock, passivateAfterMs: 60_000, actors: { alarm, lazy } });
    systems.push(system);
    const events: unknown[] = [];
    system.onEvent((e: SourcedEvent) => events.push(e.event));
    const count = 700;
    for (let i = 0; i < count; i++) {
      await system.ask(system.ref('lazy', `l${i}`), {
        type: 'arm',
        name: 't',
        at: T0 + 10_000,
        payload: `l${i}`,
      });
    }
    await advance(system, clock, 1_000);
    system.sweep();
    expect(system.stats().resident).toBe(0);
    // Due just after the backlog, in the foreground lane, on an actor that stays in memory.
    await system.ask(system.ref('alarm', 'a1'), { type: 'arm', name: 't', at: T0 + 10_001, payload: 'now' });

    store.held = true;
    clock.advance(9_000);
    await settle();
    // Two full wakes (256 each, TimerHeap's FIRINGS_PER_WAKE), then the few a busy wake still fires.
    expect(store.inFlight).toBe(520);
    expect(events).toEqual([]);
    // In one heap it waited behind the 180 background firings still due.
    clock.advance(1);
    await settle();
    expect(events).toEqual([{ fired: 'now', now: T0 + 10_001 }]);
    clock.advance(4);
    await settle();
    expect(store.inFlight).toBe(528);
    store.releaseLoads();
    await system.idle();
    for (let i = 0; i < 10 && events.length < count + 1; i++) await advance(system, clock, 5);
    expect(events).toHaveLength(count + 1);
    expect(new Set(events.map((e) => (e as { fired: string }).fired)).size).toBe(count + 1);
  });

  it('a firing that loads its actor back is delivered once: an actor removed by it is not loaded again', async () => {
    const expiring = defineActor<number, { type: 'set'; at: number } | { type: 'expire' }>({
      initial: () => 0,
      receive(state, msg, ctx) {
        if (msg.type === 'expire') {
          ctx.remove();
          return state;
        }
        ctx.setTimer('expire', msg.at, { type: 'expire' });
        return state + 1;
      },
    });
    const store = new MemoryStore();
    const clock = new SimulatedClock(T0);
    const system = createSystem({ store, clock, passivateAfterMs: 1_000, actors: { expiring } });
    systems.push(system);
    const ref = system.ref('expiring', 'e1');
    await system.ask(ref, { type: 'set', at: T0 + 10_000 });
    await advance(system, clock, 1_000);
    system.sweep();
    expect(system.isResident(ref)).toBe(false);

    const loads = vi.spyOn(store, 'load');
    // Handled a little after its deadline, as under load.
    await advance(system, clock, 9_005);
    await advance(system, clock, 1_000);
    expect(await store.load('expiring', 'e1')).toBeUndefined();
    // One load by the firing; the one just above is the test's own.
    expect(loads).toHaveBeenCalledTimes(2);
    expect(system.isResident(ref)).toBe(false);
  });

  it('an overdue timer fires exactly once in a new system after recover()', async () => {
    const store = new MemoryStore();
    const first = start({ store });
    await first.system.ask(first.ref, { type: 'arm', name: 't', at: T0 + 1_000, payload: 'late' });
    await first.system.shutdown();

    const clock = new SimulatedClock(T0 + 5_000);
    const second = start({ store, clock });
    await expect(second.system.recover()).resolves.toEqual({ timers: 1 });
    await second.system.idle();
    expect(second.events).toEqual([{ fired: 'late', now: T0 + 5_000 }]);
    await advance(second.system, clock, 60_000);
    await advance(second.system, clock, 60_000);
    expect(second.events).toHaveLength(1);
    await expect(store.loadTimers(Number.POSITIVE_INFINITY)).resolves.toEqual([]);
    await expect(second.system.ask(second.ref, { type: 'read' })).resolves.toEqual(['late']);
  });

  it('a future timer fires at its deadline in a new system after recover()', async () => {
    const store = new MemoryStore();
    const first = start({ store });
    await first.system.ask(first.ref, { type: 'arm', name: 't', at: T0 + 10_000, payload: 'later' });
    await first.system.shutdown();

    const clock = new SimulatedClock(T0 + 1_000);
    const second = start({ store, clock });
    await second.system.recover();
    await second.system.idle();
    expect(second.system.isResident(second.ref)).toBe(false);
    await advance(second.system, clock, 8_999);
    expect(second.events).toEqual([]);
    await advance(second.system, clock, 1);
    expect(second.events).toEqual([{ fired: 'later', now: T0 + 10_000 }]);
  });

  it('a timer past the horizon waits in the store, not in memory, and still fires on time, once', async () => {
    const { system, clock, store, events, ref } = start({ timerHorizonMs: 10_000 });
    await system.ask(ref, { type: 'arm', name: 'far', at: T0 + 100_000, payload: 'later' });
    await system.ask(ref, { type: 'arm', name: 'near', at: T0 + 1_000, payload: 'soon' });
    expect(system.stats().timers).toBe(1);
    await expect(store.loadTimers(Number.POSITIVE_INFINITY)).resolves.toHaveLength(2);
    // Each load runs every half horizon and arms what falls within the horizon.
    for (let i = 0; i < 19; i++) await advance(system, clock, 5_000);
    await advance(system, clock, 4_000);
    expect(events).toHaveLength(1);
    await advance(system, clock, 999);
    expect(events).toHaveLength(1);
    await advance(system, clock, 1);
    expect(events[1]).toEqual({ fired: 'later', now: T0 + 100_000 });
    await advance(system, clock, 60_000);
    expect(events).toHaveLength(2);
  });

  it('after recover() only timers within the horizon are in memory; a later one fires on time', async () => {
    const store = new MemoryStore();
    const first = start({ store });
    await first.system.ask(first.ref, { type: 'arm', name: 'day', at: T0 + 86_400_000, payload: 'd' });
    await first.system.shutdown();
    const clock = new SimulatedClock(T0 + 1_000);
    const second = start({ store, clock, timerHorizonMs: 3_600_000 });
    await expect(second.system.recover()).resolves.toEqual({ timers: 0 });
    expect(second.system.stats().timers).toBe(0);
    // Half-hour steps: each lets the half-horizon load run and arm what came near.
    for (let i = 0; i < 47; i++) await advance(second.system, clock, 1_800_000);
    expect(second.system.stats().timers).toBe(1);
    expect(second.events).toEqual([]);
    await advance(second.system, clock, 86_400_000 - 1_000 - 47 * 1_800_000);
    expect(second.events).toEqual([{ fired: 'd', now: T0 + 86_400_000 }]);
  });

  it('the runtime timer name is reserved', async () => {
    const { system, ref } = start();
    await expect(rejectionCode(system.ask(ref, { type: 'arm-reserved' }))).resolves.toBe('ACTOR_FAILED');
  });

  it('a timer whose firing turn failed to commit fires again once the store is back', async () => {
    const { system, clock, store, events, ref } = start({ redeliverMs: 500 });
    await system.ask(ref, { type: 'arm', name: 't', at: T0 + 1_000, payload: 'p' });
    store.failing = true;
    await advance(system, clock, 1_000);
    // the turn ran, but its result (timer gone, payload recorded, event) was never durable
    expect(events).toEqual([]);
    store.failing = false;
    await expect(system.ask(ref, { type: 'has', name: 't' })).resolves.toBe(true);
    await advance(system, clock, 500);
    expect(events).toEqual([{ fired: 'p', now: T0 + 1_500 }]);
    await expect(system.ask(ref, { type: 'read' })).resolves.toEqual(['p']);
    await expect(store.loadTimers(Number.POSITIVE_INFINITY)).resolves.toEqual([]);
    await advance(system, clock, 10_000);
    expect(events).toHaveLength(1);
  });

  it('a timer due while its passivated actor cannot be loaded fires once the store is back', async () => {
    const { system, clock, store, events, ref } = start({ passivateAfterMs: 1_000, redeliverMs: 500 });
    await system.ask(ref, { type: 'arm', name: 't', at: T0 + 5_000, payload: 'p' });
    await advance(system, clock, 1_000);
    expect(system.isResident(ref)).toBe(false);
    store.failing = true;
    await advance(system, clock, 4_000);
    expect(events).toEqual([]);
    store.failing = false;
    await advance(system, clock, 500);
    expect(events).toEqual([{ fired: 'p', now: T0 + 5_500 }]);
    await expect(store.loadTimers(Number.POSITIVE_INFINITY)).resolves.toEqual([]);
  });

  it('a timer whose message is dead-lettered is removed and does not fire again', async () => {
    const { system, clock, store, ref } = start({ passivateAfterMs: 1_000 });
    const letters: DeadLetter[] = [];
    system.onDeadLetter((letter) => letters.push(letter));
    await system.ask(ref, { type: 'arm-explode', name: 'bad', at: T0 + 100 });
    await advance(system, clock, 100);
    expect(letters.map((l) => [l.reason, l.error])).toEqual([['resumed', 'timer handler failed']]);
    await expect(system.ask(ref, { type: 'has', name: 'bad' })).resolves.toBe(false);
    await expect(store.loadTimers(Number.POSITIVE_INFINITY)).resolves.toEqual([]);
    // passivate and reactivate: the timer must not come back
    await advance(system, clock, 2_000);
    expect(system.isResident(ref)).toBe(false);
    await system.ask(ref, { type: 'read' });
    await advance(system, clock, 1_000);
    expect(letters).toHaveLength(1);
  });

  it('a poison timer message is removed after its retries and does not fire again', async () => {
    const { system, clock, store } = start();
    const ref = system.ref('fragile', 'f1');
    const letters: DeadLetter[] = [];
    system.onDeadLetter((letter) => letters.push(letter));
    await system.ask(ref, { type: 'arm-explode', name: 'bad', at: T0 + 100 });
    await advance(system, clock, 100);
    expect(letters.map((l) => l.reason)).toEqual(['poison']);
    await expect(store.loadTimers(Number.POSITIVE_INFINITY)).resolves.toEqual([]);
    await advance(system, clock, 1_000);
    await advance(system, clock, 1_000);
    expect(letters).toHaveLength(1);
  });
});
