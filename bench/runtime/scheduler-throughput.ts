/**
 * Messages per second through the scheduler with the memory store: N actors in a ring, each
 * forwarding every message to the next with ctx.tell, with a fixed number of tokens circulating.
 *   stateless: receive returns the same state, so nothing is persisted and tells run at once.
 *   stateful:  receive returns a new state every message, so every turn ends in a group commit
 *              into the MemoryStore and each tell waits for it.
 * A sample of tokens carries a timestamp, giving the hop latency (tell → receive of the next actor).
 */
import { monitorEventLoopDelay, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { type ActorRef, defineActor } from '../../src/runtime/actor.js';
import { type Clock, systemClock } from '../../src/runtime/clock.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import { createSystem } from '../../src/runtime/system.js';
import {
  flags,
  fmtRate,
  fmtUs,
  LATENCY_HEADER,
  latencyRow,
  now,
  nsHistogram,
  num,
  percentilesOf,
  percentilesUs,
  recordMs,
  report,
  runVariants,
  sampleRates,
  sleep,
  str,
  table,
  type VariantResult,
} from './common.js';

const USAGE = `node --import tsx bench/runtime/scheduler-throughput.ts [flags]
  --actors N         actors in the ring (default 10000)
  --inflight N       tokens circulating (default 10000)
  --warmup MS        warm-up before measuring (default 3000)
  --duration MS      measured window per variant (default 10000)
  --sample-every N   one token in N carries a timestamp for hop latency (default 64)
  --clock C          system | coarse (default system). coarse: Date.now() cached and refreshed every
                     1 ms by a timer, to show what the per-message clock reads cost
  --variant V        stateless | stateful | all (default all, each in its own process)
  --json             also print one JSON line`;

const values = flags(
  {
    actors: { type: 'string' },
    inflight: { type: 'string' },
    warmup: { type: 'string' },
    duration: { type: 'string' },
    'sample-every': { type: 'string' },
    clock: { type: 'string' },
  },
  USAGE,
);
const actors = num(values.actors, 10_000);
const inflight = num(values.inflight, 10_000);
const warmupMs = num(values.warmup, 3_000);
const durationMs = num(values.duration, 10_000);
const sampleEvery = num(values['sample-every'], 64);
const clockName = str(values.clock, 'system');
if (clockName !== 'system' && clockName !== 'coarse') throw new Error('--clock is system or coarse');

/** The system clock, but `now()` is a cached value refreshed every millisecond. */
function coarseClock(): Clock & { stop(): void } {
  let cached = Date.now();
  const refresh = setInterval(() => {
    cached = Date.now();
  }, 1);
  return { ...systemClock, now: () => cached, stop: () => clearInterval(refresh) };
}

interface Token {
  timed: boolean;
  sentAt: number;
}

interface RingState {
  next: ActorRef;
  n: number;
}

async function runOne(variant: string): Promise<VariantResult> {
  const stateful = variant === 'stateful';
  const refs: ActorRef[] = Array.from({ length: actors }, (_, i) => ({ kind: 'ring', id: String(i) }));
  const hop = nsHistogram();
  let running = true;
  const ring = defineActor<RingState, Token>({
    initial: (id) => ({ next: refs[(Number(id) + 1) % actors]!, n: 0 }),
    receive(state, token, ctx) {
      if (!running) return state;
      if (token.timed) {
        const t = now();
        recordMs(hop, t - token.sentAt);
        token.sentAt = t;
      }
      ctx.tell(state.next, token);
      return stateful ? { next: state.next, n: state.n + 1 } : state;
    },
  });
  const clock = clockName === 'coarse' ? coarseClock() : null;
  const system = createSystem({
    store: new MemoryStore(),
    actors: { ring },
    passivateAfterMs: 3_600_000,
    clock: clock ?? systemClock,
  });
  for (let i = 0; i < inflight; i++) {
    system.tell(refs[i % actors]!, { timed: i % sampleEvery === 0, sentAt: now() } satisfies Token);
  }

  await sleep(warmupMs);
  hop.reset();
  let gcMs = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as PerformanceEntry[]) gcMs += entry.duration;
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const before = system.stats();
  const sampled = await sampleRates(() => system.stats().processed, durationMs);
  const after = system.stats();
  loopDelay.disable();
  gcObserver.disconnect();

  running = false;
  await system.idle();
  await system.shutdown();
  clock?.stop();

  const commits = after.commits - before.commits;
  const writes = after.writes - before.writes;
  const seconds = sampled.elapsedMs / 1000;
  return {
    variant,
    clock: clockName,
    actors,
    inflight,
    durationMs: Math.round(sampled.elapsedMs),
    messages: sampled.total,
    msgsPerSec: Math.round(sampled.rate),
    windowRates: percentilesOf(sampled.rates.map(Math.round)),
    hopLatencyUs: percentilesUs(hop),
    eventLoopDelayUs: {
      p50: loopDelay.percentile(50) / 1000,
      p99: loopDelay.percentile(99) / 1000,
      max: loopDelay.max / 1000,
    },
    gcPercent: Math.round((gcMs / sampled.elapsedMs) * 1000) / 10,
    commitsPerSec: Math.round(commits / seconds),
    writesPerSec: Math.round(writes / seconds),
    writesPerCommit: commits > 0 ? Math.round(writes / commits) : 0,
    target: variant === 'stateless' ? { msgsPerSec: 2_000_000, met: sampled.rate >= 2_000_000 } : null,
  };
}

function render(results: VariantResult[]): string {
  const rows = [
    [
      'variant',
      'msgs/s',
      'window min',
      'window p50',
      'writes/s',
      'writes/commit',
      'gc %',
      'loop p99',
      'target',
    ],
  ];
  for (const r of results) {
    const w = r.windowRates as ReturnType<typeof percentilesOf>;
    const target = r.target as { msgsPerSec: number; met: boolean } | null;
    rows.push([
      String(r.variant),
      fmtRate(r.msgsPerSec as number),
      fmtRate(w.min),
      fmtRate(w.p50),
      fmtRate(r.writesPerSec as number),
      String(r.writesPerCommit),
      `${r.gcPercent}`,
      fmtUs((r.eventLoopDelayUs as { p99: number }).p99),
      target ? `≥ ${fmtRate(target.msgsPerSec)} ${target.met ? 'met' : 'MISSED'}` : '-',
    ]);
  }
  const lat = [LATENCY_HEADER];
  for (const r of results)
    lat.push(latencyRow(`hop ${r.variant}`, r.hopLatencyUs as ReturnType<typeof percentilesUs>));
  return `scheduler throughput: ${actors} actors, ${inflight} tokens in flight, ${durationMs} ms window, ${clockName} clock\n\n${table(rows)}\n\n${table(lat)}`;
}

const results = await runVariants(['stateless', 'stateful'], values, runOne);
report('scheduler-throughput', values, results, render, { actors, inflight, warmupMs, durationMs });
