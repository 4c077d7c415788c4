/**
 * frozenViews: one frozen view per state object, a new one when the state is replaced.
 */
import { describe, expect, it } from 'vitest';
import { frozenViews } from '../../src/actors/views.js';

describe('frozenViews', () => {
  it('builds a state’s view once, frozen, and again for a new state', () => {
    let built = 0;
    const view = frozenViews((state: { n: number }) => {
      built++;
      return { doubled: state.n * 2 };
    });
    const state = { n: 1 };
    const first = view(state);
    expect(view(state)).toBe(first);
    expect(built).toBe(1);
    expect(Object.isFrozen(first)).toBe(true);
    const next = view({ ...state, n: 2 });
    expect(next).toEqual({ doubled: 4 });
    expect(built).toBe(2);
    expect(view(state)).toBe(first);
  });
});
