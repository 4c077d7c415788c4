import { afterEach, describe, expect, it } from 'vitest';
import type { ActorRef } from '../../src/runtime/actor.js';
import { defineActor } from '../../src/runtime/actor.js';
import { SimulatedClock } from '../../src/runtime/clock.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import type { DeadLetter } from '../../src/runtime/supervisor.js';
import {
  type ActorSystem,
  createSystem,
  type SourcedEvent,
  type SystemOptions,
} from '../../src/runtime/system.js';
import { ControlledStore, type Deferred, deferred, rejectionCode, settle, track } from './helpers.js';

type CounterMsg =
  | { type: 'inc'; by?: number }
  | { type: 'get' }
  | { type: 'silent-inc' }
  | { type: 'deferred-inc'; emit?: boolean }
  | { type: 'same' }
  | { type: 'inc-and-notify'; to: ActorRef }
  | { type: 'now' };

interface Counter {
  count: number;
}

const counter = defineActor<Counter, CounterMsg>({
  initial: () => ({ count: 0 }),
  receive(state, msg, ctx) {
    switch (msg.type) {
      case 'inc':
        ctx.reply(state.count + (msg.by ?? 1));
        return { count: state.count + (msg.by ?? 1) };
      case 'silent-inc':
        return { count: state.count + 1 };
      case 'deferred-inc':
        ctx.deferWrite();
        if (msg.emit) ctx.emit({ type: 'incremented', count: state.count + 1 });
        return { count: state.count + 1 };
      case 'get':
        ctx.reply(state.count);
        return state;
      case 'same':
        return state;
      case 'inc-and-notify':
        ctx.tell(msg.to, { type: 'append', value: `count=${state.count + 1}` });
        ctx.emit({ type: 'incremented', count: state.count + 1 });
        ctx.reply('done');
        return { count: state.count + 1 };
      case 'now':
        ctx.reply({ now: ctx.now, self: ctx.self, isAsk: ctx.isAsk, sender: ctx.sender });
        return state;
    }
  },
});

type LogMsg = { type: 'append'; value: string } | { type: 'read' };

const log = defineActor<string[], LogMsg>({
  initial: () => [],
  receive(state, msg, ctx) {
    if (msg.type === 'read') {
      ctx.reply(state);
      return state;
    }
    return [...state, msg.value];
  },
});

/** Each message waits on the gate registered under its name (if any) before it is logged. */
function slowLog(gates: Map<string, Deferred<void>>, started: string[]) {
  return defineActor<string[], LogMsg>({
    initial: () => [],
    async receive(state, msg, ctx) {
      if (msg.type === 'read') {
        ctx.reply(state);
        return state;
      }
      started.push(msg.value);
      const gate = gates.get(msg.value);
      if (gate) await gate.promise;
      return [...state, msg.value];
    },
  });
}

let system: ActorSystem | undefined;

afterEach(async () => {
  await system?.shutdown({ timeoutMs: 100 });
  system = undefined;
});

function start(options: Partial<SystemOptions> = {}) {
  const clock = new SimulatedClock();
  const memory = new MemoryStore();
  system = createSystem({ store: memory, clock, actors: { counter, log }, ...options });
  return { system, clock, memory, store: system.store };
}

describe('tell and ask', () => {
  it('a told message changes state that a later ask reads', async () => {
    const { system } = start();
    const ref = system.ref('counter', 'c1');
    system.tell(ref, { type: 'inc', by: 5 });
    system.tell(ref, { type: 'inc', by: 2 });
    await system.idle();
    await expect(system.ask(ref, { type: 'get' })).resolves.toBe(7);
  });

  it('ask resolves with the value the handler replied', async () => {
    const { system } = start();
    await expect(system.ask(system.ref('counter', 'c1'), { type: 'inc', by: 3 })).resolves.toBe(3);
  });

  it('ask resolves with undefined when the handler does not reply', async () => {
    const { system } = start();
    const ref = system.ref('counter', 'c1');
    await expect(system.ask(ref, { type: 'silent-inc' })).resolves.toBeUndefined();
    await expect(system.ask(ref, { type: 'same' })).resolves.toBeUndefined();
    await expect(system.ask(ref, { type: 'get' })).resolves.toBe(1);
  });

  it('actors with the same id but different kinds are distinct', async () => {
    const { system } = start();
    await system.ask(system.ref('counter', 'x'), { type: 'inc' });
    await system.ask(system.ref('log', 'x'), { type: 'append', value: 'a' });
    await expect(system.ask(system.ref('counter', 'x'), { type: 'get' })).resolves.toBe(1);
    await expect(system.ask(system.ref('log', 'x'), { type: 'read' })).resolves.toEqual(['a']);
  });

  it('the context carries the turn time, self and ask flag', async () => {
    const { system, clock } = start();
    const ref = system.ref('counter', 'c1');
    const answer = await system.ask(ref, { type: 'now' });
    expect(answer).toEqual({
      now: clock.now(),
      self: { kind: 'counter', id: 'c1' },
      isAsk: true,
      sender: undefined,
    });
  });

  it('ask times out with ASK_TIMEOUT after the per-call timeout', async () => {
    const gates = new Map([['stuck', deferred()]]);
    const { system, clock } = start({ actors: { slow: slowLog(gates, []) } });
    const ref = system.ref('slow', 's1');
    system.tell(ref, { type: 'append', value: 'stuck' });
    const pending = track(system.ask(ref, { type: 'read' }, { timeoutMs: 1_000 }));
    await settle();
    clock.advance(999);
    await settle();
    expect(pending.settled).toBe(false);
    clock.advance(1);
    await settle();
    expect(pending.settled).toBe(true);
    expect((pending.error as { code: string }).code).toBe('ASK_TIMEOUT');
    gates.get('stuck')!.resolve();
    await system.idle();
  });

  it('ask uses the system askTimeoutMs by default', async () => {
    const gates = new Map([['stuck', deferred()]]);
    const { system, clock } = start({ askTimeoutMs: 250, actors: { slow: slowLog(gates, []) } });
    const ref = system.ref('slow', 's1');
    system.tell(ref, { type: 'append', value: 'stuck' });
    const code = rejectionCode(system.ask(ref, { type: 'read' }));
    await settle();
    clock.advance(250);
    await expect(code).resolves.toBe('ASK_TIMEOUT');
    gates.get('stuck')!.resolve();
    await system.idle();
  });

  it('a reply that comes after the timeout is ignored', async () => {
    const gates = new Map([['slow', deferred()]]);
    const { system, clock } = start({ actors: { slow: slowLog(gates, []) } });
    const ref = system.ref('slow', 's1');
    const code = rejectionCode(system.ask(ref, { type: 'append', value: 'slow' }, { timeoutMs: 100 }));
    await settle();
    clock.advance(100);
    gates.get('slow')!.resolve();
    await system.idle();
    await expect(code).resolves.toBe('ASK_TIMEOUT');
    // the turn itself still completed
    await expect(system.ask(ref, { type: 'read' })).resolves.toEqual(['slow']);
  });

  it('a message to an unregistered kind rejects the ask with UNKNOWN_ACTOR_KIND', async () => {
    const { system } = start();
    await expect(rejectionCode(system.ask(system.ref('nope', '1'), { type: 'get' }))).resolves.toBe(
      'UNKNOWN_ACTOR_KIND',
    );
  });

  it('a tell to an unregistered kind becomes a dead letter', async () => {
    const { system } = start();
    const letters: DeadLetter[] = [];
    system.onDeadLetter((letter) => letters.push(letter));
    system.tell(system.ref('nope', '1'), 'hello');
    expect(letters).toEqual([
      {
        type: 'dead_letter',
        reason: 'unknown_kind',
        kind: 'nope',
        id: '1',
        msg: 'hello',
        error: 'no actor kind "nope"',
      },
    ]);
    expect(system.stats().deadLetters).toBe(1);
  });

  it('refuses to register a kind twice or a kind containing a colon', () => {
    const { system } = start();
    expect(() => system.register('counter', counter)).toThrow(/already registered/);
    expect(() => system.register('a:b', counter)).toThrow(/must not contain/);
  });

  it('after shutdown, new asks are refused with SYSTEM_STOPPED', async () => {
    const { system } = start();
    await system.ask(system.ref('counter', 'c1'), { type: 'inc' });
    await system.shutdown();
    await expect(rejectionCode(system.ask(system.ref('counter', 'c1'), { type: 'get' }))).resolves.toBe(
      'SYSTEM_STOPPED',
    );
  });
});

describe('turns', () => {
  it('processes one message at a time per actor even when receive is async; other actors proceed', async () => {
    const gates = new Map([['a1', deferred()]]);
    const started: string[] = [];
    const { system } = start({ actors: { slow: slowLog(gates, started), log } });
    const a = system.ref('slow', 'a');
    system.tell(a, { type: 'append', value: 'a1' });
    system.tell(a, { type: 'append', value: 'a2' });
    const other = system.ask(system.ref('log', 'b'), { type: 'append', value: 'b1' });
    await expect(other).resolves.toBeUndefined();
    await settle();
    // a2 waits behind the unfinished a1
    expect(started).toEqual(['a1']);
    await expect(system.ask(system.ref('log', 'b'), { type: 'read' })).resolves.toEqual(['b1']);
    gates.get('a1')!.resolve();
    await system.idle();
    expect(started).toEqual(['a1', 'a2']);
    await expect(system.ask(a, { type: 'read' })).resolves.toEqual(['a1', 'a2']);
  });

  it('a message that arrives while an async turn runs sees the state that turn produced', async () => {
    const gates = new Map([['first', deferred()]]);
    const started: string[] = [];
    const { system } = start({ actors: { slow: slowLog(gates, started) } });
    const a = system.ref('slow', 'a');
    system.tell(a, { type: 'append', value: 'first' });
    await settle();
    const read = system.ask(a, { type: 'read' });
    await settle();
    gates.get('first')!.resolve();
    await expect(read).resolves.toEqual(['first']);
  });

  it('handles messages of one actor in the order they were sent', async () => {
    const { system } = start();
    const ref = system.ref('log', 'l1');
    const values = Array.from({ length: 300 }, (_, i) => `m${i}`);
    for (const value of values) system.tell(ref, { type: 'append', value });
    await system.idle();
    await expect(system.ask(ref, { type: 'read' })).resolves.toEqual(values);
  });

  it('keeps FIFO order when asks and tells are mixed', async () => {
    const { system } = start();
    const ref = system.ref('counter', 'c1');
    const answers = [
      system.ask(ref, { type: 'inc' }),
      system.ask(ref, { type: 'get' }),
      system.ask(ref, { type: 'inc', by: 10 }),
      system.ask(ref, { type: 'get' }),
    ];
    system.tell(ref, { type: 'inc' });
    const last = system.ask(ref, { type: 'get' });
    await expect(Promise.all([...answers, last])).resolves.toEqual([1, 1, 11, 11, 12]);
  });
});

describe('effects wait for durability', () => {
  it('tell, emit and reply happen only after the commit returns', async () => {
    const store = new ControlledStore();
    const { system } = start({ store });
    const events: SourcedEvent[] = [];
    system.onEvent((event) => events.push(event));
    const c = system.ref('counter', 'c1');
    const sink = system.ref('log', 'sink');

    store.hold();
    const asked = track(system.ask(c, { type: 'inc-and-notify', to: sink }));
    await settle(10);
    expect(asked.settled).toBe(false);
    expect(events).toEqual([]);
    expect(system.isResident(sink)).toBe(false);
    expect(await store.inner.load('counter', 'c1')).toBeUndefined();

    store.release();
    await system.idle();
    expect(asked).toEqual({ settled: true, value: 'done' });
    expect(events).toEqual([
      { source: { kind: 'counter', id: 'c1' }, event: { type: 'incremented', count: 1 }, seq: 1 },
    ]);
    await expect(system.ask(sink, { type: 'read' })).resolves.toEqual(['count=1']);
    expect((await store.inner.load('counter', 'c1'))?.state).toEqual({ count: 1 });
  });

  it("a read-only turn's reply waits for an earlier turn's write", async () => {
    const store = new ControlledStore();
    const { system } = start({ store });
    const c = system.ref('counter', 'c1');
    await system.ask(c, { type: 'inc' });
    store.hold();
    const write = track(system.ask(c, { type: 'inc' }));
    const read = track(system.ask(c, { type: 'get' }));
    await settle(10);
    expect(write.settled).toBe(false);
    expect(read.settled).toBe(false);
    store.release();
    await system.idle();
    expect(write.value).toBe(2);
    expect(read.value).toBe(2);
  });

  it('a turn that returns the same state writes nothing and answers at once', async () => {
    const store = new ControlledStore();
    const { system } = start({ store });
    const c = system.ref('counter', 'c1');
    await system.ask(c, { type: 'inc' });
    const commitsBefore = store.commits.length;
    store.hold();
    await expect(system.ask(c, { type: 'get' })).resolves.toBe(1);
    store.release();
    await system.idle();
    expect(store.commits.length).toBe(commitsBefore);
  });

  it('the durable record carries the live tag so the actor is listed', async () => {
    const { system, store } = start();
    await system.ask(system.ref('counter', 'c1'), { type: 'inc' });
    await expect(system.count('counter', 'live')).resolves.toBe(1);
    await expect(system.list('counter', 'live', { limit: 10 })).resolves.toEqual({
      ids: ['c1'],
      scores: [0],
      next: null,
    });
    expect((await store.load('counter', 'c1'))?.tags).toEqual(['live']);
  });
});

describe('fresh actors', () => {
  it('an ask marked fresh activates the actor without reading the store', async () => {
    const store = new ControlledStore();
    const { system } = start({ store });
    // A read would fail: only a fresh activation gets through.
    store.failLoads('counter', 'new', 1);
    await expect(system.ask(system.ref('counter', 'new'), { type: 'inc' }, { fresh: true })).resolves.toBe(1);
    store.failLoads('counter', 'other', 1);
    await expect(system.ask(system.ref('counter', 'other'), { type: 'inc' })).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
  });
});

describe('deferred writes', () => {
  it('a deferred turn writes nothing itself; the next write, or writeDeferred, carries it', async () => {
    const store = new ControlledStore();
    const { system } = start({ store });
    const c = system.ref('counter', 'c1');
    await system.ask(c, { type: 'inc' });
    const commitsBefore = store.commits.length;
    system.tell(c, { type: 'deferred-inc' });
    await expect(system.ask(c, { type: 'get' })).resolves.toBe(2);
    expect(store.commits.length).toBe(commitsBefore);
    expect((await store.inner.load('counter', 'c1'))?.state).toEqual({ count: 1 });

    await system.ask(c, { type: 'inc' });
    expect((await store.inner.load('counter', 'c1'))?.state).toEqual({ count: 3 });
    system.tell(c, { type: 'deferred-inc' });
    await system.idle();
    system.writeDeferred();
    await system.idle();
    expect((await store.inner.load('counter', 'c1'))?.state).toEqual({ count: 4 });
  });

  it('a deferred turn that emits is written like any other, before its event goes out', async () => {
    const store = new ControlledStore();
    const { system } = start({ store });
    const events: SourcedEvent[] = [];
    system.onEvent((event) => events.push(event));
    store.hold();
    system.tell(system.ref('counter', 'c1'), { type: 'deferred-inc', emit: true });
    await settle(10);
    expect(events).toEqual([]);
    store.release();
    await system.idle();
    expect(events).toHaveLength(1);
    expect((await store.inner.load('counter', 'c1'))?.state).toEqual({ count: 1 });
  });

  it('a deferred change is lost with a failed write of the actor, as a crash would lose it', async () => {
    const store = new ControlledStore();
    const { system } = start({ store });
    const c = system.ref('counter', 'c1');
    await system.ask(c, { type: 'inc' });
    system.tell(c, { type: 'deferred-inc' });
    store.failCommits((entry) => entry.kind === 'counter');
    await expect(system.ask(c, { type: 'inc' })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(system.ask(c, { type: 'get' })).resolves.toBe(1);
  });
});

describe('commit failure', () => {
  it('rejects the ask with STORE_UNAVAILABLE and reverts to the last durable state', async () => {
    const { system, memory } = start();
    const c = system.ref('counter', 'c1');
    await system.ask(c, { type: 'inc', by: 5 });

    memory.failing = true;
    await expect(rejectionCode(system.ask(c, { type: 'inc', by: 100 }))).resolves.toBe('STORE_UNAVAILABLE');
    await system.idle();
    expect(system.stats().commitFailures).toBe(1);

    memory.failing = false;
    await expect(system.ask(c, { type: 'get' })).resolves.toBe(5);
    expect((await memory.load('counter', 'c1'))?.state).toEqual({ count: 5 });
  });

  it('drops the effects of the failed turn: the tell becomes a dead letter, no event is emitted', async () => {
    const { system, memory } = start();
    const events: SourcedEvent[] = [];
    const letters: DeadLetter[] = [];
    system.onEvent((event) => events.push(event));
    system.onDeadLetter((letter) => letters.push(letter));
    const c = system.ref('counter', 'c1');
    const sink = system.ref('log', 'sink');
    // Both written once, so both are in memory when the store fails (an actor the store holds
    // nothing of does not stay).
    await system.ask(sink, { type: 'append', value: 'first' });
    await system.ask(c, { type: 'inc' });

    memory.failing = true;
    await expect(rejectionCode(system.ask(c, { type: 'inc-and-notify', to: sink }))).resolves.toBe(
      'STORE_UNAVAILABLE',
    );
    await system.idle();
    memory.failing = false;
    expect(events).toEqual([]);
    await expect(system.ask(sink, { type: 'read' })).resolves.toEqual(['first']);
    expect(letters.map((l) => [l.reason, l.msg])).toEqual([
      ['store_failed', { type: 'append', value: 'count=2' }],
      ['store_failed', { type: 'incremented', count: 2 }],
    ]);
  });

  it('later turns built on the failed state are reverted too', async () => {
    const store = new ControlledStore();
    const { system } = start({ store });
    const c = system.ref('counter', 'c1');
    await system.ask(c, { type: 'inc' });
    store.hold();
    store.failCommits((entry) => entry.id === 'c1');
    const first = rejectionCode(system.ask(c, { type: 'inc' }));
    await settle();
    // processed while the first commit is in flight, on top of its state
    const second = rejectionCode(system.ask(c, { type: 'inc' }));
    await settle();
    store.release();
    await expect(first).resolves.toBe('STORE_UNAVAILABLE');
    await expect(second).resolves.toBe('STORE_UNAVAILABLE');
    await system.idle();
    await expect(system.ask(c, { type: 'get' })).resolves.toBe(1);
  });

  it('an actor that cannot be loaded rejects the ask with STORE_UNAVAILABLE and is not kept', async () => {
    const { system, memory } = start();
    memory.failing = true;
    const c = system.ref('counter', 'c1');
    await expect(rejectionCode(system.ask(c, { type: 'get' }))).resolves.toBe('STORE_UNAVAILABLE');
    expect(system.isResident(c)).toBe(false);
    memory.failing = false;
    await expect(system.ask(c, { type: 'inc' })).resolves.toBe(1);
  });
});

describe('activation', () => {
  it('a new system on the same store activates the actor from its snapshot', async () => {
    const { system, store } = start();
    await system.ask(system.ref('counter', 'c1'), { type: 'inc', by: 9 });
    await system.shutdown();
    const second = createSystem({ store, clock: new SimulatedClock(), actors: { counter } });
    await expect(second.ask(second.ref('counter', 'c1'), { type: 'get' })).resolves.toBe(9);
    await second.shutdown();
  });

  it('counts resident actors and processed messages', async () => {
    const { system } = start();
    system.tell(system.ref('counter', 'a'), { type: 'inc' });
    system.tell(system.ref('counter', 'b'), { type: 'inc' });
    system.tell(system.ref('counter', 'b'), { type: 'inc' });
    await system.idle();
    expect(system.stats()).toMatchObject({ resident: 2, processed: 3 });
    expect(system.isResident(system.ref('counter', 'a'))).toBe(true);
    expect(system.isResident(system.ref('counter', 'zzz'))).toBe(false);
  });
});

type RemovableMsg = { type: 'inc' } | { type: 'get' } | { type: 'remove' } | { type: 'arm' };

const removable = defineActor<number, RemovableMsg>({
  initial: () => 0,
  index: (state) => ({ live: true, tags: [`count:${state}`] }),
  receive(state, msg, ctx) {
    switch (msg.type) {
      case 'get':
        ctx.reply(state);
        return state;
      case 'remove':
        ctx.remove();
        return state;
      case 'arm':
        ctx.setTimer('t', ctx.now + 60_000, { type: 'inc' });
        return state;
      case 'inc':
        ctx.reply(state + 1);
        return state + 1;
    }
  },
});

describe('remove', () => {
  it('deletes the snapshot, its index entries and timers; the next message finds the actor new', async () => {
    const { system, memory } = start({ actors: { removable } });
    const ref = system.ref('removable', 'r1');
    await system.ask(ref, { type: 'inc' });
    await system.ask(ref, { type: 'arm' });
    await expect(system.count('removable', 'count:1')).resolves.toBe(1);
    await expect(memory.loadTimers(Number.POSITIVE_INFINITY)).resolves.toHaveLength(1);

    await system.ask(ref, { type: 'remove' });
    expect(await memory.load('removable', 'r1')).toBeUndefined();
    await expect(system.count('removable', 'live')).resolves.toBe(0);
    await expect(system.count('removable', 'count:1')).resolves.toBe(0);
    await expect(memory.loadTimers(Number.POSITIVE_INFINITY)).resolves.toEqual([]);
    await expect(system.ask(ref, { type: 'get' })).resolves.toBe(0);
  });

  it('a removed actor leaves memory once its removal is written, and a read of it leaves none', async () => {
    const { system } = start({ actors: { removable } });
    const ref = system.ref('removable', 'r1');
    await system.ask(ref, { type: 'inc' });
    expect(system.isResident(ref)).toBe(true);
    await system.ask(ref, { type: 'remove' });
    await system.idle();
    expect(system.isResident(ref)).toBe(false);
    // Read again: a fresh actor answers, and nothing of it stays behind.
    await expect(system.ask(ref, { type: 'get' })).resolves.toBe(0);
    await system.idle();
    expect(system.isResident(ref)).toBe(false);
    expect(system.stats().resident).toBe(0);
  });

  it('an actor written after its removal stays in memory with its new state', async () => {
    const { system } = start({ actors: { removable } });
    const ref = system.ref('removable', 'r1');
    await system.ask(ref, { type: 'inc' });
    await system.ask(ref, { type: 'remove' });
    await system.ask(ref, { type: 'inc' });
    await system.idle();
    expect(system.isResident(ref)).toBe(true);
    await expect(system.ask(ref, { type: 'get' })).resolves.toBe(1);
  });

  it('a change answered after remove() is durable and starts from a fresh actor', async () => {
    const store = new ControlledStore();
    const { system } = start({ store, actors: { removable } });
    const ref = system.ref('removable', 'r1');
    await system.ask(ref, { type: 'inc' });
    const removed = system.ask(ref, { type: 'remove' });
    const answered = await system.ask<number>(ref, { type: 'inc' });
    await removed;
    await system.idle();
    const stored = (await store.load('removable', 'r1'))?.state;
    await expect(system.ask(ref, { type: 'get' })).resolves.toBe(answered);
    expect(stored).toBe(answered);
  });
});

describe('ephemeral actors', () => {
  const echo = defineActor<number, { type: 'inc' }>({
    ephemeral: true,
    initial: () => 0,
    receive(state, _msg, ctx) {
      ctx.reply(state + 1);
      ctx.emit({ count: state + 1 });
      return state + 1;
    },
  });

  it('run effects at once and are never persisted', async () => {
    const store = new ControlledStore();
    const { system } = start({ store, actors: { echo } });
    const events: unknown[] = [];
    system.onEvent((e) => events.push(e.event));
    store.hold();
    await expect(system.ask(system.ref('echo', 'e'), { type: 'inc' })).resolves.toBe(1);
    await expect(system.ask(system.ref('echo', 'e'), { type: 'inc' })).resolves.toBe(2);
    expect(events).toEqual([{ count: 1 }, { count: 2 }]);
    store.release();
    await system.idle();
    expect(store.commits).toEqual([]);
    expect(await store.load('echo', 'e')).toBeUndefined();
  });

  it('are never passivated', async () => {
    const { system, clock } = start({ actors: { echo }, passivateAfterMs: 1_000 });
    const ref = system.ref('echo', 'e');
    await system.ask(ref, { type: 'inc' });
    clock.advance(100_000);
    system.sweep();
    expect(system.isResident(ref)).toBe(true);
    await expect(system.ask(ref, { type: 'inc' })).resolves.toBe(2);
  });
});
