import { afterEach, describe, expect, it } from 'vitest';
import { defineActor } from '../../src/runtime/actor.js';
import { SimulatedClock } from '../../src/runtime/clock.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import { type ActorSystem, createSystem, type SourcedEvent } from '../../src/runtime/system.js';
import { ControlledStore } from './helpers.js';

const announcer = defineActor<number, { type: 'announce'; text: string } | { type: 'silent' }>({
  initial: () => 0,
  receive(state, msg, ctx) {
    if (msg.type === 'silent') return state;
    // State unchanged on purpose: emitting alone must still be written to the log.
    ctx.emit({ text: msg.text });
    return state;
  },
});

let system: ActorSystem | undefined;
afterEach(async () => {
  await system?.shutdown({ timeoutMs: 100 });
  system = undefined;
});

describe('durable event log', () => {
  it('logs emitted events in the write of the turn and hands listeners their seq', async () => {
    const store = new MemoryStore();
    system = createSystem({ store, clock: new SimulatedClock(), actors: { announcer } });
    const seen: SourcedEvent[] = [];
    system.onEvent((event) => seen.push(event));
    await system.ask(system.ref('announcer', 'a'), { type: 'announce', text: 'one' });
    await system.ask(system.ref('announcer', 'b'), { type: 'announce', text: 'two' });
    await system.ask(system.ref('announcer', 'a'), { type: 'silent' });
    expect(seen.map((event) => [event.seq, event.event])).toEqual([
      [1, { text: 'one' }],
      [2, { text: 'two' }],
    ]);
    expect(await store.readEvents(0, 10)).toEqual([
      { seq: 1, event: { text: 'one' } },
      { seq: 2, event: { text: 'two' } },
    ]);
  });

  it('neither logs nor publishes an event whose write failed', async () => {
    const store = new ControlledStore();
    system = createSystem({ store, clock: new SimulatedClock(), actors: { announcer } });
    const seen: unknown[] = [];
    system.onEvent((event) => seen.push(event.event));
    store.failCommits(() => true);
    await expect(
      system.ask(system.ref('announcer', 'a'), { type: 'announce', text: 'lost' }),
    ).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
    await system.ask(system.ref('announcer', 'a'), { type: 'announce', text: 'kept' });
    expect(seen).toEqual([{ text: 'kept' }]);
    expect((await store.readEvents(0, 10)).map((logged) => logged.event)).toEqual([{ text: 'kept' }]);
  });

  it('keeps only the newest events of a bounded memory log', async () => {
    const store = new MemoryStore(3);
    system = createSystem({ store, clock: new SimulatedClock(), actors: { announcer } });
    for (let i = 1; i <= 5; i++)
      await system.ask(system.ref('announcer', 'a'), { type: 'announce', text: `${i}` });
    expect(await store.eventLogInfo()).toMatchObject({ firstSeq: 3, lastSeq: 5 });
    expect((await store.readEvents(0, 10)).map((logged) => logged.seq)).toEqual([3, 4, 5]);
    expect((await store.readEvents(3, 10)).map((logged) => logged.seq)).toEqual([4, 5]);
  });
});
