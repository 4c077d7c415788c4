import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { copySeqs, withSeq } from '../../src/runtime/seq-table.js';

describe('sequence tables', () => {
  it('sets a key on a copy and leaves the original alone', () => {
    const first = withSeq(null, 'job:a', 1);
    const second = withSeq(first, 'job:b', 4);
    const third = withSeq(second, 'job:a', 2);
    expect({ ...first }).toEqual({ 'job:a': 1 });
    expect({ ...second }).toEqual({ 'job:a': 1, 'job:b': 4 });
    expect({ ...third }).toEqual({ 'job:a': 2, 'job:b': 4 });
  });

  it('builds prototype-less tables (dictionary mode in V8), also when copying', () => {
    const table = withSeq(null, 'job:a', 1);
    expect(Object.getPrototypeOf(table)).toBeNull();
    expect(Object.getPrototypeOf(copySeqs(table))).toBeNull();
    expect(copySeqs(null)).toEqual({});
  });

  it('stays plain data to JSON and msgpack', () => {
    const table = withSeq(withSeq(null, 'workflow:w1', 7), 'job:j1', 2);
    expect(JSON.parse(JSON.stringify(table))).toEqual({ 'workflow:w1': 7, 'job:j1': 2 });
    const packr = new Packr({ useRecords: false, moreTypes: false });
    expect(packr.unpack(packr.pack({ inSeq: table }))).toEqual({ inSeq: { 'workflow:w1': 7, 'job:j1': 2 } });
  });
});
