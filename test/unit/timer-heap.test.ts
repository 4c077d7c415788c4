import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/runtime/clock.js';
import {
  BUSY_RECHECK_MS,
  FIRINGS_PER_WAKE,
  FIRINGS_WHEN_BUSY,
  type HeapEntry,
  TimerHeap,
} from '../../src/runtime/timers.js';

function setup() {
  const clock = new SimulatedClock(0);
  const fired: HeapEntry[] = [];
  /** The clock's time at each firing. */
  const firedAt: number[] = [];
  const heap = new TimerHeap(clock, (entry) => {
    fired.push({ ...entry });
    firedAt.push(clock.now());
  });
  return { clock, fired, firedAt, heap };
}

describe('TimerHeap', () => {
  it('fires entries in deadline order', () => {
    const { clock, fired, heap } = setup();
    const deadlines = [500, 100, 900, 300, 700, 200, 800, 400, 600, 1000, 50, 950];
    for (const [i, at] of deadlines.entries()) heap.arm('k', `a${i}`, 't', at);
    expect(heap.size).toBe(deadlines.length);
    clock.advance(2000);
    expect(fired.map((e) => e.at)).toEqual([...deadlines].sort((a, b) => a - b));
    expect(heap.size).toBe(0);
  });

  it('fires an entry at its deadline, not before, with its kind, id and name', () => {
    const { clock, fired, heap } = setup();
    heap.arm('job', 'j1', 'retry', 100);
    clock.advance(99);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([{ at: 100, kind: 'job', id: 'j1', name: 'retry' }]);
  });

  it('fires each entry when the clock reaches it, in order, as time advances', () => {
    const { clock, firedAt, heap } = setup();
    heap.arm('k', 'a', 't', 30);
    heap.arm('k', 'b', 't', 10);
    heap.arm('k', 'c', 't', 20);
    clock.advance(100);
    expect(firedAt).toEqual([10, 20, 30]);
  });

  it('re-arming the same deadline adds nothing', () => {
    const { clock, fired, heap } = setup();
    heap.arm('k', 'a', 't', 100);
    heap.arm('k', 'a', 't', 100);
    heap.arm('k', 'a', 't', 100);
    expect(heap.size).toBe(1);
    clock.advance(200);
    expect(fired).toHaveLength(1);
  });

  it('the same name on different actors is armed separately', () => {
    const { clock, fired, heap } = setup();
    heap.arm('k', 'a', 't', 100);
    heap.arm('k', 'b', 't', 100);
    heap.arm('other', 'a', 't', 100);
    expect(heap.size).toBe(3);
    clock.advance(100);
    expect(fired.map((e) => `${e.kind}:${e.id}`).sort()).toEqual(['k:a', 'k:b', 'other:a']);
  });

  it('re-arming a new deadline keeps the old entry (the actor discards stale firings)', () => {
    const { clock, fired, heap } = setup();
    heap.arm('k', 'a', 't', 100);
    heap.arm('k', 'a', 't', 300);
    expect(heap.size).toBe(2);
    clock.advance(1000);
    expect(fired.map((e) => e.at)).toEqual([100, 300]);
  });

  it('the same deadline can be armed again after it fired', () => {
    const { clock, fired, heap } = setup();
    heap.arm('k', 'a', 't', 100);
    clock.advance(100);
    heap.arm('k', 'a', 't', 100);
    expect(heap.size).toBe(1);
    clock.advance(0);
    expect(fired).toHaveLength(2);
  });

  it('keeps a single clock timer for the earliest deadline', () => {
    const { clock, firedAt, heap } = setup();
    heap.arm('k', 'a', 't', 500);
    heap.arm('k', 'b', 't', 900);
    expect(clock.pendingCount).toBe(1);
    heap.arm('k', 'c', 't', 200);
    expect(clock.pendingCount).toBe(1);
    clock.advance(200);
    expect(firedAt).toEqual([200]);
    expect(clock.pendingCount).toBe(1);
    clock.advance(1000);
    expect(firedAt).toEqual([200, 500, 900]);
    expect(clock.pendingCount).toBe(0);
  });

  it('fireDue fires overdue entries without the clock moving', () => {
    const clock = new SimulatedClock(1000);
    const fired: string[] = [];
    const heap = new TimerHeap(clock, (entry) => fired.push(entry.id));
    heap.arm('k', 'late', 't', 400);
    heap.arm('k', 'future', 't', 5000);
    heap.fireDue();
    expect(fired).toEqual(['late']);
    expect(heap.size).toBe(1);
  });

  it('fires at most FIRINGS_PER_WAKE overdue entries per wake, the rest at the next wakes, in order', () => {
    const clock = new SimulatedClock(10_000);
    const fired: number[] = [];
    const heap = new TimerHeap(clock, (entry) => fired.push(entry.at));
    const count = FIRINGS_PER_WAKE * 2 + 10;
    for (let i = 0; i < count; i++) heap.arm('k', `a${i}`, 't', 5_000 - i);
    heap.fireDue();
    expect(fired).toHaveLength(FIRINGS_PER_WAKE);
    clock.advance(0);
    expect(fired).toHaveLength(count);
    expect(fired).toEqual([...fired].sort((a, b) => a - b));
    expect(heap.size).toBe(0);
  });

  it('while mayFire says no, a wake fires only a few and looks again shortly; the rest once it says yes', () => {
    const clock = new SimulatedClock(10_000);
    const fired: string[] = [];
    let busy = true;
    const heap = new TimerHeap(
      clock,
      (entry) => fired.push(entry.id),
      Number.POSITIVE_INFINITY,
      () => !busy,
    );
    for (let i = 0; i < 100; i++) heap.arm('k', `a${i}`, 't', 9_000);
    heap.fireDue();
    expect(fired).toHaveLength(FIRINGS_WHEN_BUSY);
    clock.advance(BUSY_RECHECK_MS - 1);
    expect(fired).toHaveLength(FIRINGS_WHEN_BUSY);
    clock.advance(1);
    expect(fired).toHaveLength(2 * FIRINGS_WHEN_BUSY);
    busy = false;
    clock.advance(BUSY_RECHECK_MS);
    expect(fired).toHaveLength(100);
    expect(new Set(fired).size).toBe(100);
    // Nothing left to wake for.
    expect(clock.pendingCount).toBe(0);
  });

  it('stop() cancels the wake-up and ignores later arms', () => {
    const { clock, fired, heap } = setup();
    heap.arm('k', 'a', 't', 100);
    heap.stop();
    expect(clock.pendingCount).toBe(0);
    heap.arm('k', 'b', 't', 50);
    expect(heap.size).toBe(1);
    clock.advance(1000);
    expect(fired).toEqual([]);
  });
});
