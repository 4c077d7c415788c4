import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/runtime/clock.js';

describe('SimulatedClock', () => {
  it('starts where told and only moves on advance()', () => {
    const clock = new SimulatedClock(5_000);
    expect(clock.now()).toBe(5_000);
    clock.advance(250);
    expect(clock.now()).toBe(5_250);
  });

  it('runs due callbacks in deadline order, with now() at each deadline', () => {
    const clock = new SimulatedClock(0);
    const seen: Array<[string, number]> = [];
    clock.setTimeout(() => seen.push(['c', clock.now()]), 30);
    clock.setTimeout(() => seen.push(['a', clock.now()]), 10);
    clock.setTimeout(() => seen.push(['b', clock.now()]), 20);
    clock.setTimeout(() => seen.push(['late', clock.now()]), 100);
    clock.advance(50);
    expect(seen).toEqual([
      ['a', 10],
      ['b', 20],
      ['c', 30],
    ]);
    expect(clock.now()).toBe(50);
    expect(clock.pendingCount).toBe(1);
  });

  it('breaks ties in creation order', () => {
    const clock = new SimulatedClock(0);
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) clock.setTimeout(() => seen.push(i), 10);
    clock.advance(10);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });

  it('clearTimeout cancels a callback', () => {
    const clock = new SimulatedClock(0);
    let ran = false;
    const timer = clock.setTimeout(() => {
      ran = true;
    }, 10);
    clock.clearTimeout(timer);
    expect(clock.pendingCount).toBe(0);
    clock.advance(100);
    expect(ran).toBe(false);
  });

  it('runs callbacks scheduled by callbacks when they fall inside the same advance', () => {
    const clock = new SimulatedClock(0);
    const seen: number[] = [];
    clock.setTimeout(() => {
      seen.push(clock.now());
      clock.setTimeout(() => seen.push(clock.now()), 15);
      clock.setTimeout(() => seen.push(clock.now()), 500);
    }, 10);
    clock.advance(100);
    expect(seen).toEqual([10, 25]);
    clock.advance(409);
    expect(seen).toEqual([10, 25]);
    clock.advance(1);
    expect(seen).toEqual([10, 25, 510]);
  });

  it('treats a negative delay as zero; a zero delay waits for the next advance', () => {
    const clock = new SimulatedClock(0);
    let ran = 0;
    clock.setTimeout(() => ran++, -50);
    clock.setTimeout(() => ran++, 0);
    expect(ran).toBe(0);
    clock.advance(0);
    expect(ran).toBe(2);
    expect(clock.now()).toBe(0);
  });
});
