/**
 * The runtime's own cost of an ask that changes state, without Redis: a closed loop of
 * `--concurrency` asks over `--actors` actors on the MemoryStore, each ask making a new state, so
 * every ask goes through a group commit before its reply. Variants:
 *   timers:    the system clock (every ask arms and clears its own timeout timer)
 *   no-timers: a clock whose setTimeout does nothing (asks cannot time out), to price those timers
 * What is left per ask is the floor under redis-snapshot-writes' group variant.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type ActorRef, defineActor } from '../../src/runtime/actor.js';
import { type Clock, type ClockTimer, systemClock } from '../../src/runtime/clock.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import { createSystem } from '../../src/runtime/system.js';
import {
  allocationSampler,
  allocationTable,
  flags,
  fmtRate,
  fmtUs,
  LATENCY_HEADER,
  latencyRow,
  now,
  nsHistogram,
  num,
  type PaddedState,
  type Percentiles,
  percentilesOf,
  percentilesUs,
  recordMs,
  report,
  runVariants,
  sampleRates,
  sleep,
  snapshotPayload,
  table,
  type VariantResult,
} from './common.js';

const USAGE = `node --import tsx bench/runtime/ask-memory.ts [flags]
  --actors N        actors (default 10000)
  --concurrency N   asks in flight (default 4096)
  --warmup MS       warm-up per variant (default 3000)
  --duration MS     measured window per variant (default 10000)
  --variant V       timers | no-timers | all (default all, each in its own process)
  --alloc           also sample allocations in the window and print bytes per ask by function
  --json            also print one JSON line`;

const values = flags(
  {
    actors: { type: 'string' },
    concurrency: { type: 'string' },
    warmup: { type: 'string' },
    duration: { type: 'string' },
    alloc: { type: 'boolean', default: false },
  },
  USAGE,
);
const actors = num(values.actors, 10_000);
const concurrency = num(values.concurrency, 4096);
const warmupMs = num(values.warmup, 3_000);
const durationMs = num(values.duration, 10_000);
const { payload } = snapshotPayload(200);

const NO_TIMER = { __clockTimer: true } as const;
/** The system clock without timers: nothing the runtime arms ever fires. */
const noTimerClock: Clock = {
  now: systemClock.now,
  setTimeout: (): ClockTimer => NO_TIMER,
  clearTimeout: () => {},
};

const acct = defineActor<PaddedState, 'inc'>({
  initial: () => ({ n: 0, status: 'running', payload }),
  receive(state, _msg, ctx) {
    const next: PaddedState = { n: state.n + 1, status: state.status, payload: state.payload };
    ctx.reply(next.n);
    return next;
  },
});

async function runOne(variant: string): Promise<VariantResult> {
  const system = createSystem({
    store: new MemoryStore(),
    actors: { acct },
    passivateAfterMs: 3_600_000,
    clock: variant === 'timers' ? systemClock : noTimerClock,
  });
  const refs: ActorRef[] = Array.from({ length: actors }, (_, i) => ({ kind: 'acct', id: `a${i}` }));
  const latency = nsHistogram();
  let cursor = 0;
  let done = 0;
  let running = true;
  let measuring = false;
  const worker = async () => {
    while (running) {
      const t = now();
      await system.ask(refs[cursor++ % actors]!, 'inc');
      if (measuring) recordMs(latency, now() - t);
      done++;
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  await sleep(warmupMs);
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const stopSampling = values.alloc ? await allocationSampler() : null;
  const cpuBefore = process.cpuUsage();
  measuring = true;
  const sampled = await sampleRates(() => done, durationMs);
  measuring = false;
  const cpu = process.cpuUsage(cpuBefore);
  const allocations = stopSampling ? await stopSampling() : null;
  loopDelay.disable();
  running = false;
  await Promise.all(workers);
  await system.shutdown();
  return {
    variant,
    asksPerSec: Math.round(sampled.rate),
    windowRates: percentilesOf(sampled.rates.map(Math.round)),
    cpuUsPerAsk: Math.round(((cpu.user + cpu.system) / sampled.total) * 100) / 100,
    askLatencyUs: percentilesUs(latency),
    eventLoopDelayUs: { p50: loopDelay.percentile(50) / 1000, p99: loopDelay.percentile(99) / 1000 },
    ...(allocations ? { allocations: allocations.slice(0, 30), asksSampled: sampled.total } : {}),
  };
}

function render(results: VariantResult[]): string {
  const rows = [['variant', 'asks/s (= writes/s)', 'window min', 'window p50', 'cpu µs/ask', 'loop p99']];
  const lat = [LATENCY_HEADER];
  for (const r of results) {
    const w = r.windowRates as ReturnType<typeof percentilesOf>;
    rows.push([
      String(r.variant),
      fmtRate(r.asksPerSec as number),
      fmtRate(w.min),
      fmtRate(w.p50),
      String(r.cpuUsPerAsk),
      fmtUs((r.eventLoopDelayUs as { p99: number }).p99),
    ]);
    lat.push(latencyRow(`${r.variant}: ask → durable reply`, r.askLatencyUs as Percentiles));
  }
  const out = [
    `asks with a state change on the memory store: ${actors} actors, concurrency ${concurrency}\n`,
    table(rows),
    '',
    table(lat),
  ];
  for (const r of results) {
    if (!r.allocations) continue;
    const samples = r.allocations as Array<{ fn: string; bytes: number }>;
    out.push(
      `\nallocated per ask, ${r.variant} (sampled; the ask's own objects are inlined into the bench's worker):`,
    );
    out.push(allocationTable(samples, r.asksSampled as number));
  }
  return out.join('\n');
}

const results = await runVariants(['timers', 'no-timers'], values, runOne);
report('ask-memory', values, results, render, { actors, concurrency });
