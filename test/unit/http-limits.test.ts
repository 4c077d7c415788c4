import { describe, expect, it } from 'vitest';
import { decodeBody, jsonDepthExceeds, valueDepthExceeds } from '../../src/transport/http/body.js';
import { RateLimiter } from '../../src/transport/http/rate-limit.js';

describe('RateLimiter', () => {
  it('allows a burst, refills at the rate and says how long to wait', () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3, now: () => now });
    expect([limiter.take('k'), limiter.take('k'), limiter.take('k')]).toEqual([0, 0, 0]);
    expect(limiter.take('k')).toBe(1);
    expect(limiter.take('other')).toBe(0);
    now += 500;
    expect(limiter.take('k')).toBe(0);
    expect(limiter.take('k')).toBe(1);
    now += 60_000;
    expect(Array.from({ length: 4 }, () => limiter.take('k'))).toEqual([0, 0, 0, 1]);
  });

  it('reports whole seconds for slow rates', () => {
    const limiter = new RateLimiter({ ratePerSecond: 0.1, burst: 1, now: () => 0 });
    expect(limiter.take('k')).toBe(0);
    expect(limiter.take('k')).toBe(10);
  });
});

describe('body nesting limits', () => {
  const bytes = (text: string) => Buffer.from(text);

  it('counts brackets outside strings only', () => {
    expect(jsonDepthExceeds(bytes('[[[]]]'), 3)).toBe(false);
    expect(jsonDepthExceeds(bytes('[[[[]]]]'), 3)).toBe(true);
    expect(jsonDepthExceeds(bytes('{"a":"[[[[[\\"[[["}'), 1)).toBe(false);
    expect(jsonDepthExceeds(bytes('[{}, {}, {}, [[]]]'), 3)).toBe(false);
  });

  it('walks decoded values without recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(valueDepthExceeds(deep, 128)).toBe(true);
    expect(valueDepthExceeds({ a: [1, { b: Buffer.alloc(10) }] }, 3)).toBe(false);
    expect(valueDepthExceeds({ a: [1, { b: {} }] }, 3)).toBe(true);
  });

  it('decodes empty bodies as absent and names the error', () => {
    expect(decodeBody(new Uint8Array(0), 'application/json')).toBeUndefined();
    expect(decodeBody(bytes('{"a":1}'), undefined)).toEqual({ a: 1 });
    expect(() => decodeBody(bytes('{'), 'application/json')).toThrow(
      expect.objectContaining({ code: 'INVALID_JSON' }),
    );
    expect(() =>
      decodeBody(Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff]), 'application/msgpack; charset=x'),
    ).toThrow(expect.objectContaining({ code: 'INVALID_MSGPACK' }));
  });
});
