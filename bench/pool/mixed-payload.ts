/**
 * The `mixed-payload` target: small submits at a steady open-loop rate, with and without 2 MiB
 * `checksum` submits arriving at 20/s, against a server with the payload pool on or off. Records
 * the small submits' latency from their intended send time (coordinated omission corrected) in an
 * HDR histogram. Each variant gets a fresh server process; this process only generates load.
 *
 *   node --import tsx bench/pool/mixed-payload.ts [--small-rate 300] [--large-rate 20]
 *     [--large-bytes 2097152] [--duration 15] [--warmup 3] [--variants baseline,pool,no-pool] [--json]
 *     [--server-node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"]
 *
 * `MAILROOM_BENCH_LOOP=1` makes each server print its event-loop delay, utilization and GC pauses
 * (bench/pool/serve.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] ? args[at + 1]! : fallback;
};
const smallRate = Number(flag('small-rate', '300'));
const largeRate = Number(flag('large-rate', '20'));
const largeBytes = Number(flag('large-bytes', String(2 * 1024 * 1024)));
const durationS = Number(flag('duration', '15'));
const warmupS = Number(flag('warmup', '3'));
const variants = flag('variants', 'baseline,pool,no-pool').split(',');
// Extra node flags for the server process, e.g. `--server-node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"`.
const serverNodeArgs = flag('server-node-args', '').split(' ').filter(Boolean);

interface VariantResult {
  variant: string;
  /** The load generator's own event-loop delay p99, ms. */
  generatorLoopP99: number;
  small: { count: number; errors: number; p50: number; p90: number; p99: number; p999: number; max: number };
  large: { count: number; errors: number; p50: number; p99: number; statuses: Record<string, number> };
}

async function startServerProcess(pool: boolean): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(
    process.execPath,
    [...serverNodeArgs, '--import', 'tsx', join(root, 'bench/pool/serve.ts'), '0', pool ? 'on' : 'off'],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`server exited early (${code})`)));
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

/** Calls `send` at `rate`/s from `start` for `ms`, passing each call's intended time. */
function openLoop(rate: number, ms: number, send: (intended: number) => void): Promise<void> {
  const interval = 1_000 / rate;
  const start = performance.now();
  let sent = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(Math.floor((now - start) / interval) + 1, Math.floor(ms / interval));
      while (sent < due) send(start + sent++ * interval);
      if (now - start >= ms) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
}

async function runVariant(variant: string): Promise<VariantResult> {
  const { child, base } = await startServerProcess(variant !== 'no-pool');
  const small = new Pool(base, { connections: 64, pipelining: 1 });
  const large = new Pool(base, { connections: 32, pipelining: 1 });
  const smallHist = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const largeHist = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  // Encoded once: undici would otherwise encode the 2 MiB string on this process's loop per send.
  const largeBody = Buffer.from(
    JSON.stringify({ type: 'checksum', input: { data: 'L'.repeat(largeBytes) } }),
  );
  const counts = { small: 0, smallErrors: 0, large: 0, largeErrors: 0 };
  const statuses: Record<string, number> = {};
  let recording = false;
  const inFlight = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    inFlight.add(p);
    p.finally(() => inFlight.delete(p));
  };
  const post = (pool: Pool, body: string | Buffer) =>
    pool.request({
      method: 'POST',
      path: '/api/v1/jobs',
      headers: { 'content-type': 'application/json' },
      body,
    });

  const smallSender = (intended: number) => {
    track(
      post(small, `{"type":"echo","input":{"n":${counts.small}}}`).then(
        async (res) => {
          await res.body.dump();
          if (!recording) return;
          counts.small++;
          if (res.statusCode !== 202) counts.smallErrors++;
          smallHist.recordValue(Math.max(1, Math.round((performance.now() - intended) * 1_000)));
        },
        () => {
          if (recording) counts.smallErrors++;
        },
      ),
    );
  };
  const largeSender = (intended: number) => {
    track(
      post(large, largeBody).then(
        async (res) => {
          await res.body.dump();
          if (!recording) return;
          counts.large++;
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          if (res.statusCode !== 202) counts.largeErrors++;
          largeHist.recordValue(Math.max(1, Math.round((performance.now() - intended) * 1_000)));
        },
        () => {
          if (recording) counts.largeErrors++;
        },
      ),
    );
  };

  const totalMs = (warmupS + durationS) * 1_000;
  // This process's own loop delay: latency it adds to every measurement, whichever server runs.
  const generatorDelay = monitorEventLoopDelay({ resolution: 1 });
  setTimeout(() => {
    recording = true;
    generatorDelay.enable();
  }, warmupS * 1_000);
  await Promise.all([
    openLoop(smallRate, totalMs, smallSender),
    variant === 'baseline' ? Promise.resolve() : openLoop(largeRate, totalMs, largeSender),
  ]);
  await Promise.all([...inFlight]);
  generatorDelay.disable();
  await Promise.all([small.close(), large.close()]);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  const ms = (h: hdr.Histogram, q: number) => Math.round(h.getValueAtPercentile(q) / 10) / 100;
  return {
    variant,
    generatorLoopP99: Math.round(generatorDelay.percentile(99) / 1e4) / 100,
    small: {
      count: counts.small,
      errors: counts.smallErrors,
      p50: ms(smallHist, 50),
      p90: ms(smallHist, 90),
      p99: ms(smallHist, 99),
      p999: ms(smallHist, 99.9),
      max: Math.round(smallHist.maxValue / 10) / 100,
    },
    large: {
      count: counts.large,
      errors: counts.largeErrors,
      p50: ms(largeHist, 50),
      p99: ms(largeHist, 99),
      statuses,
    },
  };
}

const results: VariantResult[] = [];
for (const variant of variants) {
  process.stderr.write(`running ${variant} (${warmupS + durationS} s)…\n`);
  results.push(await runVariant(variant));
}
if (args.includes('--json'))
  console.log(JSON.stringify({ smallRate, largeRate, largeBytes, durationS, results }));
console.log(
  `small submits at ${smallRate}/s; large: ${largeBytes} B checksum submits at ${largeRate}/s; ${durationS} s measured`,
);
console.log(
  'variant    small n  err  p50 ms  p90 ms  p99 ms  p99.9 ms  max ms | large n  err  p50 ms  p99 ms | gen loop p99 ms',
);
for (const r of results) {
  const s = r.small;
  const l = r.large;
  console.log(
    `${r.variant.padEnd(9)} ${String(s.count).padStart(8)} ${String(s.errors).padStart(4)} ${String(s.p50).padStart(7)} ${String(s.p90).padStart(7)} ${String(s.p99).padStart(7)} ${String(s.p999).padStart(9)} ${String(s.max).padStart(7)} | ${String(l.count).padStart(7)} ${String(l.errors).padStart(4)} ${String(l.p50).padStart(7)} ${String(l.p99).padStart(7)} | ${String(r.generatorLoopP99).padStart(7)}`,
  );
}
const baseline = results.find((r) => r.variant === 'baseline');
for (const r of results) {
  if (r === baseline || !baseline) continue;
  console.log(
    `${r.variant}: small p99 ÷ baseline p99 = ${(r.small.p99 / baseline.small.p99).toFixed(2)} (target ≤ 2)`,
  );
}
