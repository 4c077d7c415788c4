import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { SimulatedClock } from '../../src/runtime/clock.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import { TimerHeap } from '../../src/runtime/timers.js';
import { UpcomingTimers } from '../../src/runtime/upcoming-timers.js';
import { settle } from './helpers.js';

const T0 = 1_000_000;
const HORIZON = 60_000;

function setup() {
  const clock = new SimulatedClock(T0);
  const store = new MemoryStore();
  const windows: Array<[number, number | undefined]> = [];
  const load = store.loadTimers.bind(store);
  store.loadTimers = (until, after) => {
    windows.push([until, after]);
    return load(until, after);
  };
  const fired: string[] = [];
  const heap = new TimerHeap(clock, (entry) => fired.push(entry.id), HORIZON);
  const upcoming = new UpcomingTimers(
    store,
    clock,
    createLogger({ level: 'silent' }),
    heap,
    HORIZON,
    () => true,
  );
  return { clock, store, windows, fired, heap, upcoming };
}

async function due(store: MemoryStore, id: string, at: number) {
  await store.commit([
    {
      kind: 'job',
      id,
      record: {
        state: null,
        timers: { t: { at, msg: null } },
        outbox: null,
        outSeq: null,
        inSeq: null,
        tags: [],
        score: 0,
      },
      removeTags: [],
      addTags: [],
      score: 0,
      removeTimers: [],
      setTimers: [['t', at]],
      events: [],
    },
  ]);
}

describe('upcoming timers', () => {
  it('reads everything due at first, then only what came within reach, overlapping by 10 s', async () => {
    const { clock, store, windows, fired, upcoming } = setup();
    await due(store, 'overdue', T0 - 5_000);
    await due(store, 'far', T0 + 200_000);
    await upcoming.load();
    expect(windows).toEqual([[T0 + HORIZON, undefined]]);
    upcoming.start();
    for (let i = 0; i < 5; i++) {
      clock.advance(HORIZON / 2);
      await settle(5);
    }
    expect(windows.slice(1, 3)).toEqual([
      [T0 + 30_000 + HORIZON, T0 + HORIZON - 10_000],
      [T0 + 60_000 + HORIZON, T0 + 30_000 + HORIZON - 10_000],
    ]);
    clock.advance(50_000);
    await settle(5);
    expect(fired).toEqual(['overdue', 'far']);
    upcoming.stop();
  });

  it('arms a large load in slices, giving the event loop a turn between them', async () => {
    const { store, heap, upcoming } = setup();
    for (let i = 0; i < 5_000; i++) await due(store, `j${i}`, T0 + 10_000 + i);
    const loading = upcoming.load();
    let otherWork = 0;
    setImmediate(() => otherWork++);
    // Promise jobs alone (no turn of the event loop) get through the first slice only.
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(heap.size).toBe(2_000);
    expect(otherWork).toBe(0);
    await expect(loading).resolves.toBe(5_000);
    expect(heap.size).toBe(5_000);
    expect(otherWork).toBe(1);
  });
});
