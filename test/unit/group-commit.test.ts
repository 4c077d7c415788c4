import { afterEach, describe, expect, it } from 'vitest';
import { MailroomError } from '../../src/errors.js';
import { defineActor } from '../../src/runtime/actor.js';
import { SimulatedClock } from '../../src/runtime/clock.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import type { CommitEntry, SnapshotStore } from '../../src/runtime/store/snapshot-store.js';
import { type ActorSystem, createSystem, type SystemOptions } from '../../src/runtime/system.js';
import { ControlledStore, rejectionCode, settle, track } from './helpers.js';

type Msg = { type: 'inc' } | { type: 'get' };

const counter = defineActor<number, Msg>({
  initial: () => 0,
  receive(state, msg, ctx) {
    if (msg.type === 'get') {
      ctx.reply(state);
      return state;
    }
    ctx.reply(state + 1);
    return state + 1;
  },
});

let system: ActorSystem | undefined;

afterEach(async () => {
  await system?.shutdown({ timeoutMs: 100 });
  system = undefined;
});

function start(limits: Pick<SystemOptions, 'maxCommitsInFlight' | 'maxWritesPerCommit'> = {}) {
  const store = new ControlledStore();
  system = createSystem({
    store,
    clock: new SimulatedClock(),
    actors: { counter },
    // Turns end when their work does, not on the clock: a loaded machine took over a millisecond
    // for the first of three actors and wrote it alone.
    scheduler: { turnMicros: Number.POSITIVE_INFINITY, busyTurnMicros: Number.POSITIVE_INFINITY },
    ...limits,
  });
  const ref = (id: string) => system!.ref('counter', id);
  const ids = (batch: readonly { id: string }[]) => batch.map((entry) => entry.id).sort();
  return { system, store, ref, ids };
}

describe('group commit', () => {
  it('writes every actor dirtied in one scheduler turn in one commit', async () => {
    const { system, store, ref, ids } = start();
    system.tell(ref('a'), { type: 'inc' });
    system.tell(ref('b'), { type: 'inc' });
    system.tell(ref('c'), { type: 'inc' });
    await system.idle();
    expect(store.commits.map(ids)).toEqual([['a', 'b', 'c']]);
    expect(system.stats()).toMatchObject({ commits: 1, writes: 3, commitFailures: 0 });
  });

  it('writes an actor changed several times in a turn once, with its last state', async () => {
    const { system, store, ref } = start();
    for (let i = 0; i < 10; i++) system.tell(ref('a'), { type: 'inc' });
    await system.idle();
    expect(store.commits).toHaveLength(1);
    expect(store.commits[0]!.map((entry) => entry.record?.state)).toEqual([10]);
    expect(system.stats().writes).toBe(1);
  });

  it('keeps an actor in at most one commit; it joins a later batch once its write settled', async () => {
    const { system, store, ref, ids } = start();
    await system.ask(ref('warm'), { type: 'get' });
    store.hold();
    system.tell(ref('a'), { type: 'inc' });
    await settle();
    system.tell(ref('b'), { type: 'inc' });
    await settle();
    system.tell(ref('c'), { type: 'inc' });
    system.tell(ref('a'), { type: 'inc' });
    await settle();
    expect(store.commits).toEqual([]);
    store.release();
    await system.idle();
    // a's second change waited for its first write; b and c did not wait for a.
    expect(store.commits.map(ids)).toEqual([['a'], ['b'], ['c'], ['a']]);
    expect((await store.load('counter', 'a'))?.state).toBe(2);
  });

  it('has at most maxCommitsInFlight writes outstanding; the rest form the next batch', async () => {
    const { system, store, ref } = start({ maxCommitsInFlight: 1 });
    await system.ask(ref('warm'), { type: 'get' });
    store.hold();
    system.tell(ref('a'), { type: 'inc' });
    await settle();
    system.tell(ref('b'), { type: 'inc' });
    await settle();
    system.tell(ref('c'), { type: 'inc' });
    system.tell(ref('a'), { type: 'inc' });
    await settle();
    store.release();
    await system.idle();
    expect(store.commits.map((batch) => batch.map((entry) => entry.id).sort())).toEqual([
      ['a'],
      ['a', 'b', 'c'],
    ]);
  });

  it('writes a turn in calls of at most maxWritesPerCommit, up to maxCommitsInFlight of them at once', async () => {
    const { system, store, ref, ids } = start({ maxWritesPerCommit: 2, maxCommitsInFlight: 2 });
    await system.ask(ref('warm'), { type: 'get' });
    store.hold();
    const replies = ['a', 'b', 'c', 'd', 'e'].map((id) => system.ask(ref(id), { type: 'inc' }));
    await settle();
    // Two calls of two started together; the fifth write waits for a free call.
    expect(store.started.map(ids)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    store.release();
    expect(await Promise.all(replies)).toEqual([1, 1, 1, 1, 1]);
    await system.idle();
    expect(store.commits.map(ids)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(system.stats()).toMatchObject({ commits: 3, writes: 5, commitFailures: 0 });
  });

  it('keeps the order of waiting writes however long the wait', async () => {
    const { system, store, ref } = start({ maxWritesPerCommit: 1, maxCommitsInFlight: 1 });
    await system.ask(ref('warm'), { type: 'get' });
    // Far more writes waiting than are written at a time, so the list is trimmed while in use.
    store.hold();
    const ids = Array.from({ length: 3_000 }, (_, i) => `n${i}`);
    const replies = ids.map((id) => system.ask(ref(id), { type: 'inc' }));
    for (let i = 0; i < 10; i++) await settle();
    expect(store.started).toHaveLength(1);
    store.release();
    expect(new Set(await Promise.all(replies))).toEqual(new Set([1]));
    await system.idle();
    expect(store.commits.flatMap((batch) => batch.map((entry) => entry.id))).toEqual(ids);
  });

  it('releases every reply waiting on one commit together', async () => {
    const { system, store, ref } = start();
    store.hold();
    const a = track(system.ask(ref('a'), { type: 'inc' }));
    const b = track(system.ask(ref('b'), { type: 'inc' }));
    await settle(10);
    expect([a.settled, b.settled]).toEqual([false, false]);
    store.release();
    await system.idle();
    expect([a.value, b.value]).toEqual([1, 1]);
  });

  it('a failed commit fails every actor in the batch and reverts each of them', async () => {
    const { system, store, ref } = start();
    await system.ask(ref('a'), { type: 'inc' });
    await system.ask(ref('b'), { type: 'inc' });
    store.failCommits((entry) => entry.id === 'a');
    const a = rejectionCode(system.ask(ref('a'), { type: 'inc' }));
    const b = rejectionCode(system.ask(ref('b'), { type: 'inc' }));
    await expect(a).resolves.toBe('STORE_UNAVAILABLE');
    await expect(b).resolves.toBe('STORE_UNAVAILABLE');
    expect(system.stats().commitFailures).toBe(1);
    await expect(system.ask(ref('a'), { type: 'get' })).resolves.toBe(1);
    await expect(system.ask(ref('b'), { type: 'get' })).resolves.toBe(1);
    // and the next batch goes through
    await expect(system.ask(ref('b'), { type: 'inc' })).resolves.toBe(2);
  });
});

describe('a write that fails after it may have landed', () => {
  const tagged = defineActor<string, { type: 'set'; status: string }>({
    initial: () => 'new',
    receive: (_state, msg) => msg.status,
    index: (status) => ({ live: true, tags: [`status:${status}`] }),
  });

  it('clears the index entries it may have filed on the next successful commit', async () => {
    const inner = new MemoryStore();
    let failNext = false;
    // Applies the write, then reports failure: what a command timeout on a slow Redis looks like.
    const store: SnapshotStore = Object.assign(Object.create(inner) as MemoryStore, {
      commit: async (entries: readonly CommitEntry[]) => {
        const receipt = await inner.commit(entries);
        if (failNext) {
          failNext = false;
          throw new MailroomError('STORE_UNAVAILABLE', 'timed out');
        }
        return receipt;
      },
    });
    system = createSystem({ store, clock: new SimulatedClock(), actors: { tagged } });
    const ref = system.ref('tagged', 't');
    await system.ask(ref, { type: 'set', status: 'waiting' });
    failNext = true;
    await expect(system.ask(ref, { type: 'set', status: 'pending' })).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
    await system.ask(ref, { type: 'set', status: 'running' });
    expect(await inner.count('tagged', 'status:pending')).toBe(0);
    expect(await inner.count('tagged', 'status:waiting')).toBe(0);
    expect(await inner.count('tagged', 'status:running')).toBe(1);
  });
});
