import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/runtime/clock.js';
import { DepartedTimers } from '../../src/runtime/departed-timers.js';

const SPAN = 1_000;

function setup() {
  const clock = new SimulatedClock();
  return { clock, departed: new DepartedTimers(clock, SPAN) };
}

describe('DepartedTimers', () => {
  it('judges firings from the timers an actor left with', () => {
    const { departed } = setup();
    expect(departed.depart('job:a', { expire: { at: 9_000_000, msg: { type: 'expire' } } }, 400)).toBe(true);
    expect(departed.isStale('job', 'a', '__redeliver', 400)).toBe(true);
    expect(departed.isStale('job', 'a', 'expire', 9_000_000)).toBe(false);
    expect(departed.isStale('job', 'a', 'expire', 5)).toBe(true);
    expect(departed.isStale('job', 'b', 'expire', 9_000_000)).toBeUndefined();
  });

  it('refuses an actor whose last firing comes after half a span', () => {
    const { clock, departed } = setup();
    const tooLate = clock.now() + SPAN / 2 + 1;
    expect(departed.depart('job:a', null, tooLate)).toBe(false);
    expect(departed.isStale('job', 'a', 'nudge', tooLate)).toBeUndefined();
  });

  it('forgets an actor that came back to memory', () => {
    const { departed } = setup();
    departed.depart('job:a', null, 100);
    departed.returned('job:a');
    expect(departed.isStale('job', 'a', 'nudge', 100)).toBeUndefined();
    expect(departed.size).toBe(0);
  });

  it('keeps each entry at least a span and drops it within two', () => {
    const { clock, departed } = setup();
    clock.advance(10);
    departed.depart('job:a', null, clock.now() + SPAN / 2);
    clock.advance(SPAN - 1);
    departed.depart('job:b', null, clock.now() + SPAN / 2);
    // The first swap: both move to the old generation.
    clock.advance(1);
    expect(departed.isStale('job', 'a', 'nudge', 1)).toBe(true);
    clock.advance(SPAN - 1);
    expect(departed.isStale('job', 'a', 'nudge', 1)).toBe(true);
    expect(departed.isStale('job', 'b', 'nudge', 1)).toBe(true);
    // The second: `a` lasted two spans, `b` (departed just before the first) a little over one.
    clock.advance(1);
    expect(departed.isStale('job', 'a', 'nudge', 1)).toBeUndefined();
    expect(departed.isStale('job', 'b', 'nudge', 1)).toBeUndefined();
    expect(departed.size).toBe(0);
  });

  it('a later departure of the same actor replaces the earlier', () => {
    const { clock, departed } = setup();
    departed.depart('job:a', null, 100);
    clock.advance(SPAN);
    departed.depart('job:a', { nudge: { at: clock.now() + 100, msg: null } }, clock.now() + 100);
    expect(departed.isStale('job', 'a', 'nudge', clock.now() + 100)).toBe(false);
    departed.returned('job:a');
    expect(departed.size).toBe(0);
  });
});
