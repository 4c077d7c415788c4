/**
 * Property: packing values as one sequence gives the very bytes of packing each on its own and
 * concatenating them, and reads back as they would one by one, for any JSON-like values and
 * counts across the array header's sizes.
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { packSequence } from '../../src/runtime/store/msgpack-sequence.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

describe('packSequence', () => {
  it('equals the values packed one by one, end to end', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 40 }), (values) => {
        const one = packSequence(packr, values);
        expect(Buffer.compare(one, Buffer.concat(values.map((value) => packr.pack(value))))).toBe(0);
        // Read back as each value reads back on its own (msgpack itself turns -0 into 0, say).
        const alone = values.map((value) => packr.unpack(packr.pack(value)));
        expect(values.length === 0 ? [] : packr.unpackMultiple(one)).toEqual(alone);
      }),
      { numRuns: 300 },
    );
  });

  it('strips every size of array header', () => {
    for (const count of [0, 1, 15, 16, 65_535, 65_536]) {
      const values = Array.from({ length: count }, (_, i) => ({ i }));
      const one = packSequence(packr, values);
      expect(one.length).toBe(values.reduce((sum, value) => sum + packr.pack(value).length, 0));
    }
  });
});
