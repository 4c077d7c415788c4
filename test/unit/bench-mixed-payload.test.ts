/**
 * The mixed-payload scenario's own logic: the small-submit p99 ratio to the baseline and its
 * verdict against the ≤ 2× target, which failures end the run, its flags, and the refusals that
 * happen before any server is spawned.
 */
import { describe, expect, it } from 'vitest';
import { parseBenchArgs, UsageError } from '../../bench/harness/args.js';
import { latencyHistogram, percentileCurve, summarize } from '../../bench/harness/histogram.js';
import type { SystemResult } from '../../bench/harness/result.js';
import {
  fmtBytes,
  mixedPayload,
  p99Verdict,
  smallSubmitFailure,
  verdictLine,
} from '../../bench/scenarios/mixed-payload.js';

function row(system: string, ok: number, errors: number): SystemResult {
  const h = latencyHistogram();
  return {
    system,
    measure: 'POST /api/v1/jobs → 202',
    mode: 'open',
    rate: 300,
    ok,
    errors,
    errorKinds: errors > 0 ? { 'http 503': errors } : {},
    throughput: ok / 10,
    windowMs: 10_000,
    latency: summarize(h),
    curve: percentileCurve(h),
    timeline: { bucketMs: 500, counts: [] },
    cpu: { generator: 20 },
    extra: {},
  };
}

describe('mixed-payload verdict', () => {
  it('passes at or under 2× the baseline p99 and misses above it', () => {
    expect(p99Verdict('pool', 12, 8)).toMatchObject({ ratio: 1.5, verdict: 'PASS' });
    expect(p99Verdict('pool', 16, 8)).toMatchObject({ ratio: 2, verdict: 'PASS' });
    expect(p99Verdict('no-pool', 16.1, 8).verdict).toBe('MISS');
    // A faster variant than the baseline is a pass, not an error.
    expect(p99Verdict('pool', 4, 8)).toMatchObject({ ratio: 0.5, verdict: 'PASS' });
  });

  it('has no verdict when either p99 is missing', () => {
    expect(p99Verdict('pool', 12, 0)).toMatchObject({ verdict: 'n/a' });
    expect(Number.isNaN(p99Verdict('pool', 12, 0).ratio)).toBe(true);
    expect(p99Verdict('no-pool', 0, 8).verdict).toBe('n/a');
  });

  it('says the ratio, both p99s and the target in one line', () => {
    expect(verdictLine(p99Verdict('pool', 9.56, 8.39))).toBe(
      'pool ÷ baseline, small-submit p99: 9.56 ms ÷ 8.39 ms = 1.14 → PASS (target ≤ 2×)',
    );
    expect(verdictLine(p99Verdict('no-pool', 5, 0))).toContain('= n/a → n/a');
  });

  it('fails the run on small-submit errors only, not on refused large submits', () => {
    expect(smallSubmitFailure([row('pool', 3000, 5), row('pool large', 100, 100)])).toBeUndefined();
    expect(smallSubmitFailure([row('baseline', 3000, 0), row('no-pool', 2900, 100)])).toBe(
      'no-pool: 100 of 3000 small submits failed',
    );
  });

  it('names payload sizes the way they are chosen', () => {
    expect(fmtBytes(2 * 1024 * 1024)).toBe('2 MiB');
    expect(fmtBytes(64 * 1024)).toBe('64 KiB');
    expect(fmtBytes(1000)).toBe('1000 B');
  });
});

describe('mixed-payload flags', () => {
  it('parses --large-rate and tells a given --payload-bytes from the default', () => {
    const given = parseBenchArgs(['mixed-payload', '--large-rate', '5', '--payload-bytes', '65536']);
    expect(given).toMatchObject({ largeRate: 5, payloadBytes: 65536, payloadBytesGiven: true });
    expect(parseBenchArgs(['mixed-payload'])).toMatchObject({
      largeRate: undefined,
      payloadBytesGiven: false,
    });
    expect(() => parseBenchArgs(['mixed-payload', '--large-rate', '0'])).toThrow(UsageError);
  });

  it.each([
    [['--url', 'http://127.0.0.1:1'], /--url/],
    [['--redis'], /in-memory store only/],
    [['--connections', '8'], /open loop/],
  ])('refuses %j before spawning anything', async (flags, message) => {
    const args = parseBenchArgs(['mixed-payload', ...flags]);
    const run = mixedPayload.run({ args, log: () => {} });
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow(message);
  });
});
