import { describe, expect, it } from 'vitest';
import { isoAt, msOfIso } from '../../src/schemas/common.js';

describe('isoAt and msOfIso', () => {
  it('round-trip epoch milliseconds, repeated and alternating times alike', () => {
    const times = [
      0, 1_700_000_000_123, 1_700_000_000_123, 1_700_000_000_124, 1_700_000_000_123, 253_402_300_799_999,
    ];
    for (const ms of times) expect(msOfIso(isoAt(ms))).toBe(ms);
  });

  it('parses ISO times it did not make, and reports an invalid one as NaN', () => {
    expect(msOfIso('2026-11-30T10:00:00Z')).toBe(Date.UTC(2026, 10, 30, 10));
    expect(msOfIso('2026-11-30T10:00:00.000Z')).toBe(Date.UTC(2026, 10, 30, 10));
    expect(msOfIso('not a time')).toBeNaN();
    expect(msOfIso('not a time')).toBeNaN();
  });
});
