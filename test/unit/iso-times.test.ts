import { describe, expect, it } from 'vitest';
import { isoAt, msOfIso } from '../../src/schemas/common.js';

describe('isoAt and msOfIso', () => {
  it('round-trip epoch milliseconds, repeated and alternating times alike', () => {
    const times = [
      0, 1_700_000_000_123, 1_700_000_000_123, 1_700_000_000_124, 1_700_000_000_123, 253_402_300_799_999,
    ];
    for (const ms of times) expect(msOfIso(isoAt(ms))).toBe(ms);
  });

  it('writes what Date#toISOString writes, within a second, across seconds and at the edges', () => {
    const times = [
      0, 999, 1_000, 1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_999, 1_700_000_001_000,
      1_699_999_999_999, 253_402_300_799_999, 253_402_300_800_000, -1, 1.5, 951_782_400_000,
    ];
    let seed = 7;
    for (let i = 0; i < 2_000; i++) {
      seed = (seed * 48_271) % 2_147_483_647;
      // Runs of nearby times, as a busy process sees them, and jumps.
      times.push(i % 10 === 0 ? seed * 1_000 + (seed % 1_000) : times[times.length - 1]! + (seed % 400));
    }
    for (const ms of times) expect(isoAt(ms)).toBe(new Date(ms).toISOString());
  });

  it('parses ISO times it did not make, and reports an invalid one as NaN', () => {
    expect(msOfIso('2026-11-30T10:00:00Z')).toBe(Date.UTC(2026, 10, 30, 10));
    expect(msOfIso('2026-11-30T10:00:00.000Z')).toBe(Date.UTC(2026, 10, 30, 10));
    expect(msOfIso('not a time')).toBeNaN();
    expect(msOfIso('not a time')).toBeNaN();
  });
});
