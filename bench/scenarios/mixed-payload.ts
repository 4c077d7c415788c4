/**
 * mixed-payload: small `echo` submits at an open-loop rate while large `checksum` submits (2 MiB
 * by default) arrive at 20/s, in three variants, each on its own freshly spawned server:
 * `baseline` (no large submits), `pool` (the payload pool on, the default) and `no-pool`
 * (`pool.enabled: false`). Latency = intended send time → 202, for each kind of submit. SPEC §8's
 * target: the small submits' p99 with large payloads at most 2× the baseline's; the pool and
 * no-pool rows carry that ratio and PASS/MISS. docs/benchmarks.md §6 says what the numbers mean.
 * The variants need servers configured differently, so --url is refused.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { builtInConfigPath } from '../../src/config.js';
import { UsageError } from '../harness/args.js';
import { httpTarget, postSender } from '../harness/http-load.js';
import type { SystemResult } from '../harness/result.js';
import { measureOpenLoops, type OpenLoad } from '../harness/run.js';
import { fmtMs } from '../harness/table.js';
import { echoBody, mailroomTarget, type Scenario, type ScenarioContext } from './common.js';

const DEFAULTS = { durationMs: 10_000, rate: 300, largeRate: 20, largeBytes: 2 * 1024 * 1024 };
/** Completed jobs are dropped after this, so 2 MiB inputs do not pile up in the server's memory. */
const RETENTION_MS = 2_000;
const SMALL_CONNECTIONS = 64;
const LARGE_CONNECTIONS = 32;
/** SPEC §8: small-submit p99 with large payloads ≤ 2× the baseline's. */
export const TARGET_RATIO = 2;

export const VARIANTS = ['baseline', 'pool', 'no-pool'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface P99Verdict {
  variant: Variant;
  p99: number;
  baselineP99: number;
  /** variant ÷ baseline small-submit p99; NaN when the baseline has none. */
  ratio: number;
  verdict: 'PASS' | 'MISS' | 'n/a';
}

/** A variant's small-submit p99 against the baseline's and the ≤ 2× target. */
export function p99Verdict(variant: Variant, p99: number, baselineP99: number): P99Verdict {
  const ratio = baselineP99 > 0 && p99 > 0 ? p99 / baselineP99 : Number.NaN;
  const verdict = !Number.isFinite(ratio) ? 'n/a' : ratio <= TARGET_RATIO ? 'PASS' : 'MISS';
  return { variant, p99, baselineP99, ratio, verdict };
}

export function verdictLine(v: P99Verdict): string {
  const ratio = Number.isFinite(v.ratio) ? v.ratio.toFixed(2) : 'n/a';
  return `${v.variant} ÷ baseline, small-submit p99: ${fmtMs(v.p99)} ÷ ${fmtMs(v.baselineP99)} = ${ratio} → ${v.verdict} (target ≤ ${TARGET_RATIO}×)`;
}

/** "2 MiB", "512 KiB", else bytes. */
export function fmtBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

/** More than 1 % (and more than 10) of the small submits failed: the run says nothing. */
export function smallSubmitFailure(results: SystemResult[]): string | undefined {
  const bad = results.filter(
    (r) => !r.system.endsWith(' large') && r.errors > Math.max(10, 0.01 * (r.ok + r.errors)),
  );
  if (bad.length === 0) return undefined;
  return bad.map((r) => `${r.system}: ${r.errors} of ${r.ok + r.errors} small submits failed`).join('; ');
}

interface Settings {
  rate: number;
  largeRate: number;
  largeBytes: number;
  durationMs: number;
  warmupMs: number;
}

function settingsOf(ctx: ScenarioContext): Settings {
  const { args } = ctx;
  if (args.url)
    throw new UsageError(
      'mixed-payload spawns its own server per variant (pool on, pool off), so it cannot use --url',
    );
  if (args.redis !== undefined || args.compare)
    throw new UsageError('mixed-payload runs on the in-memory store only (no --redis, no --compare)');
  if (args.connections !== undefined)
    throw new UsageError('mixed-payload is an open loop: --rate sets the small submits per second');
  return {
    rate: args.rate ?? DEFAULTS.rate,
    largeRate: args.largeRate ?? DEFAULTS.largeRate,
    largeBytes: args.payloadBytesGiven ? args.payloadBytes : DEFAULTS.largeBytes,
    durationMs: args.durationMs ?? DEFAULTS.durationMs,
    warmupMs: args.warmupMs,
  };
}

/** The built-in config with a short retention and the pool on or off. */
function writeConfig(dir: string, poolEnabled: boolean): string {
  const builtIn = JSON.parse(readFileSync(builtInConfigPath(), 'utf8')) as Record<string, unknown>;
  const path = join(dir, `config-pool-${poolEnabled ? 'on' : 'off'}.json`);
  writeFileSync(
    path,
    JSON.stringify({ ...builtIn, retention_ms: RETENTION_MS, pool: { enabled: poolEnabled } }),
  );
  return path;
}

async function runVariant(
  ctx: ScenarioContext,
  variant: Variant,
  s: Settings,
  configPath: string,
  largeBody: Buffer,
): Promise<SystemResult[]> {
  const target = await mailroomTarget(ctx.args, undefined, { configPath });
  const small = httpTarget(target.url, { connections: SMALL_CONNECTIONS });
  const large = httpTarget(target.url, { connections: LARGE_CONNECTIONS });
  // The generator's own loop delay is inside every latency it records: reported beside them.
  const generatorDelay = monitorEventLoopDelay({ resolution: 1 });
  try {
    const loads: OpenLoad[] = [
      {
        system: variant,
        measure: 'small echo POST /api/v1/jobs → 202',
        rate: s.rate,
        send: postSender(small, '/api/v1/jobs', echoBody(0)),
      },
    ];
    if (variant !== 'baseline') {
      loads.push({
        system: `${variant} large`,
        measure: `${fmtBytes(s.largeBytes)} checksum POST /api/v1/jobs → 202`,
        rate: s.largeRate,
        send: postSender(large, '/api/v1/jobs', largeBody),
      });
    }
    ctx.log(
      `${variant}: ${target.url}, small ${s.rate}/s${variant === 'baseline' ? '' : ` + ${fmtBytes(s.largeBytes)} at ${s.largeRate}/s`} for ${s.durationMs / 1000}s after ${s.warmupMs / 1000}s warm-up`,
    );
    generatorDelay.enable();
    const results = await measureOpenLoops({
      loads,
      durationMs: s.durationMs,
      warmupMs: s.warmupMs,
      quiet: ctx.args.quiet,
      pids: { server: target.pid },
      died: target.died,
      afterWarmup: () => generatorDelay.reset(),
    });
    generatorDelay.disable();
    results[0]!.extra.gen_loop_p99_ms = Math.round(generatorDelay.percentile(99) / 1e4) / 100;
    return results;
  } finally {
    generatorDelay.disable();
    await small.close();
    await large.close();
    await target.stop();
  }
}

export const mixedPayload: Scenario = {
  name: 'mixed-payload',
  description:
    'small echo submits beside large checksum submits, payload pool on and off against a baseline; latency = intended send → 202',
  unavailable: async () => undefined,
  async run(ctx) {
    const s = settingsOf(ctx);
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-bench-mixed-'));
    // Encoded once: undici would otherwise encode the large string on this process's loop per send.
    const largeBody = Buffer.from(
      JSON.stringify({ type: 'checksum', input: { data: 'L'.repeat(s.largeBytes) } }),
    );
    const results: SystemResult[] = [];
    try {
      const poolOn = writeConfig(dir, true);
      const poolOff = writeConfig(dir, false);
      for (const variant of VARIANTS) {
        results.push(
          ...(await runVariant(ctx, variant, s, variant === 'no-pool' ? poolOff : poolOn, largeBody)),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const baseline = results.find((r) => r.system === 'baseline')!;
    const verdicts = (['pool', 'no-pool'] as const).map((variant) => {
      const row = results.find((r) => r.system === variant)!;
      const v = p99Verdict(variant, row.latency.p99, baseline.latency.p99);
      row.extra.p99_vs_baseline = Number.isFinite(v.ratio) ? Math.round(v.ratio * 100) / 100 : 'n/a';
      row.extra.target = v.verdict;
      return v;
    });
    const failure = smallSubmitFailure(results);
    return {
      results,
      errorsExpected: true,
      ...(failure ? { failure } : {}),
      notes: [
        ...verdicts.map(verdictLine),
        `each variant on its own server (memory store, built-in config, retention ${RETENTION_MS / 1000} s); baseline and pool have the pool on, no-pool sets pool.enabled: false`,
        "a variant's small and large rows share its CPU columns; large submits refused with 503 (the pool's queue full) are counted as errors but do not fail the run",
      ],
      settings: {
        small_rate: s.rate,
        large_rate: s.largeRate,
        large_payload_bytes: s.largeBytes,
        duration_ms: s.durationMs,
        warmup_ms: s.warmupMs,
        retention_ms: RETENTION_MS,
        store: 'memory',
        target_ratio: TARGET_RATIO,
      },
    };
  },
};
