import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/runtime/clock.js';
import { ParkedTimers } from '../../src/runtime/parked-timers.js';
import { type HeapEntry, TimerHeap } from '../../src/runtime/timers.js';

function setup(stale: (entry: HeapEntry) => boolean = () => false) {
  const clock = new SimulatedClock(0);
  const fired: Array<HeapEntry & { now: number }> = [];
  const heap = new TimerHeap(clock, (entry) => fired.push({ ...entry, now: clock.now() }), 60_000);
  const parked = new ParkedTimers(clock, heap, (kind, id, name, at) => stale({ kind, id, name, at }), 500);
  return { clock, fired, heap, parked };
}

describe('ParkedTimers', () => {
  it('sends a timer due within a sweep straight to the heap', () => {
    const { clock, fired, heap, parked } = setup();
    parked.arm('job', 'j1', 't', 499);
    expect([heap.size, parked.size]).toEqual([1, 0]);
    clock.advance(499);
    expect(fired).toEqual([{ kind: 'job', id: 'j1', name: 't', at: 499, now: 499 }]);
  });

  it('parks a timer due a sweep or more ahead, hands it to the heap at the sweep, and it fires on time', () => {
    const { clock, fired, heap, parked } = setup();
    parked.arm('job', 'j1', 't', 500);
    parked.arm('job', 'j2', 't', 2_000);
    expect([heap.size, parked.size]).toEqual([0, 2]);
    clock.advance(499);
    expect([heap.size, parked.size]).toEqual([0, 2]);
    clock.advance(1);
    expect(fired.map((f) => [f.id, f.now])).toEqual([['j1', 500]]);
    expect([heap.size, parked.size]).toEqual([1, 0]);
    clock.advance(1_500);
    expect(fired.map((f) => [f.id, f.now])).toEqual([
      ['j1', 500],
      ['j2', 2_000],
    ]);
  });

  it('a timer parked later than the first waits no longer than its own deadline', () => {
    const { clock, fired, parked } = setup();
    parked.arm('job', 'j1', 't', 5_000);
    clock.advance(400);
    // Parked 400 ms after the sweep was scheduled, due 500 ms after that sweep's time.
    parked.arm('job', 'j2', 't', 1_000);
    clock.advance(5_000);
    expect(fired.map((f) => [f.id, f.now])).toEqual([
      ['j2', 1_000],
      ['j1', 5_000],
    ]);
  });

  it('drops at the sweep a timer that is no longer current, which then never fires', () => {
    const { clock, fired, heap, parked } = setup((entry) => entry.id === 'gone');
    parked.arm('job', 'gone', 't', 2_000);
    parked.arm('job', 'kept', 't', 2_000);
    clock.advance(500);
    expect(heap.size).toBe(1);
    clock.advance(5_000);
    expect(fired.map((f) => f.id)).toEqual(['kept']);
  });

  it('leaves deadlines past the horizon to the store', () => {
    const { clock, fired, heap, parked } = setup();
    parked.arm('job', 'j1', 'expire', 60_001);
    expect([heap.size, parked.size]).toEqual([0, 0]);
    clock.advance(120_000);
    expect(fired).toEqual([]);
  });

  it('once stopped, parks nothing and hands nothing to the heap', () => {
    const { clock, heap, parked } = setup();
    parked.arm('job', 'j1', 't', 2_000);
    parked.stop();
    parked.arm('job', 'j2', 't', 3_000);
    clock.advance(5_000);
    expect([heap.size, parked.size]).toEqual([0, 1]);
  });
});
