import { describe, expect, it } from 'vitest';
import { formatTraceparent, parseTraceparent, traceContext } from '../../src/transport/http/trace.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('traceparent', () => {
  it('parses a valid header and rejects every malformed one', () => {
    expect(parseTraceparent(`00-${TRACE}-00f067aa0ba902b7-01`)).toEqual({ traceId: TRACE, flags: '01' });
    expect(parseTraceparent(`01-${TRACE}-00f067aa0ba902b7-00-future`)).toEqual({
      traceId: TRACE,
      flags: '00',
    });
    for (const bad of [
      undefined,
      '',
      `00-${TRACE}-00f067aa0ba902b7`,
      `00-${TRACE}-00f067aa0ba902b7-01-extra`,
      `ff-${TRACE}-00f067aa0ba902b7-01`,
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE.toUpperCase()}-00f067aa0ba902b7-01`,
      `00-${TRACE}a-00f067aa0ba902b7-01`,
      `0-${TRACE}-00f067aa0ba902b7-01`,
      `00-${TRACE}-00f067aa0ba902b7-01${'x'.repeat(600)}`,
    ]) {
      expect(parseTraceparent(bad), String(bad)).toBeNull();
    }
  });

  it('continues a trace with a fresh span, or starts a sampled one', () => {
    const continued = traceContext(`00-${TRACE}-00f067aa0ba902b7-00`);
    expect(continued.traceId).toBe(TRACE);
    expect(continued.flags).toBe('00');
    expect(continued.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(continued.spanId).not.toBe('00f067aa0ba902b7');
    const fresh = traceContext('garbage');
    expect(fresh.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh.flags).toBe('01');
    expect(formatTraceparent(fresh)).toBe(`00-${fresh.traceId}-${fresh.spanId}-01`);
    const ids = new Set(Array.from({ length: 1_000 }, () => traceContext(undefined).traceId));
    expect(ids.size).toBe(1_000);
  });
});
