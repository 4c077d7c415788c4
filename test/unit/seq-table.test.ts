import { describe, expect, it } from 'vitest';
import { copySeqs, seqTableFrom, withSeq } from '../../src/runtime/seq-table.js';

describe('sequence tables', () => {
  it('sets a key on a copy and leaves the original alone', () => {
    const first = withSeq(null, 'job:a', 1);
    const second = withSeq(first, 'job:b', 4);
    const third = withSeq(second, 'job:a', 2);
    expect(Object.fromEntries(first)).toEqual({ 'job:a': 1 });
    expect(Object.fromEntries(second)).toEqual({ 'job:a': 1, 'job:b': 4 });
    expect(Object.fromEntries(third)).toEqual({ 'job:a': 2, 'job:b': 4 });
  });

  it('copies into a new Map, or starts an empty one', () => {
    const table = withSeq(null, 'job:a', 1);
    const copy = copySeqs(table);
    copy.set('job:b', 2);
    expect(table.has('job:b')).toBe(false);
    expect(copySeqs(null).size).toBe(0);
  });

  it('reads the forms older records hold: plain objects, key, seq pairs, nothing', () => {
    const expected = new Map([
      ['workflow:w1', 7],
      ['job:j1', 2],
    ]);
    expect(seqTableFrom({ 'workflow:w1': 7, 'job:j1': 2 })).toEqual(expected);
    expect(seqTableFrom(['workflow:w1', 7, 'job:j1', 2])).toEqual(expected);
    expect(seqTableFrom(expected)).toBe(expected);
    expect(seqTableFrom(null)).toBeNull();
    expect(seqTableFrom(undefined)).toBeNull();
  });
});
