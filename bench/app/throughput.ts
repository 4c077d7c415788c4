/**
 * Jobs and workflows through the whole in-process domain: submit → dispatcher → builtin executor →
 * completion, every transition an actor turn (and, with Redis, a durable group-committed write).
 * Closed loop: `--concurrency` submissions in flight; each completion (seen as its event) frees a slot.
 * Reports throughput, latency, this process's CPU time (all threads) and store writes per completed
 * unit, and how long the event loop was held (p99 and the longest stall) over the measured window.
 * Runs with the server's V8 flags (src/node-flags.ts), re-executing itself to get them.
 *
 *   node --import tsx bench/app/throughput.ts [--variant jobs-memory|jobs-redis|diamond-memory|diamond-redis]
 *       [--duration 8000] [--warmup 2000] [--concurrency 2000] [--redis redis://127.0.0.1:6379] [--json]
 *       [--every 5000]   (also print throughput, heap, resident actors and armed timers every N ms, to stderr)
 *       [--alloc]        (also sample allocations in the window, garbage included: bytes per unit by function)
 *       [--retention ms] (finished units are removed this long after they end, as on a server that has
 *                         run longer than its retention: expiry then keeps pace with completion)
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createMailroom, type Mailroom } from '../../src/app/mailroom.js';
import { loadConfig } from '../../src/config.js';
import { SERVER_NODE_FLAGS } from '../../src/node-flags.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import { createRedisStore } from '../../src/runtime/store/redis-store.js';
import type { SnapshotStore } from '../../src/runtime/store/snapshot-store.js';
import {
  allocationSampler,
  allocationTable,
  DEFAULT_REDIS,
  deleteKeys,
  flags,
  fmtRate,
  LATENCY_HEADER,
  latencyRow,
  now,
  nsHistogram,
  num,
  percentilesUs,
  recordMs,
  report,
  rerunWithNodeFlags,
  runVariants,
  sleep,
  str,
  table,
  uniquePrefix,
  type VariantResult,
} from '../runtime/common.js';
import { DIAMOND } from './diamond.js';

// Measured as the server runs: with its V8 flags.
rerunWithNodeFlags(SERVER_NODE_FLAGS);

const VARIANTS = ['jobs-memory', 'jobs-redis', 'diamond-memory', 'diamond-redis'] as const;

const values = flags(
  {
    duration: { type: 'string' },
    warmup: { type: 'string' },
    concurrency: { type: 'string' },
    redis: { type: 'string' },
    every: { type: 'string' },
    alloc: { type: 'boolean', default: false },
    retention: { type: 'string' },
  },
  'usage: throughput.ts [--variant NAME] [--duration ms] [--warmup ms] [--concurrency n] [--redis url] [--every ms] [--alloc] [--retention ms] [--json]',
);
const durationMs = num(values.duration, 8_000);
const warmupMs = num(values.warmup, 2_000);
const concurrency = num(values.concurrency, 2_000);
const redisUrl = str(values.redis, DEFAULT_REDIS);
const everyMs = num(values.every, 0);
const retentionMs = values.retention === undefined ? undefined : num(values.retention, 0);

async function runOne(variant: string): Promise<VariantResult> {
  const durable = variant.endsWith('redis');
  const prefix = uniquePrefix('bench-app');
  const store: SnapshotStore = durable
    ? await createRedisStore({ url: redisUrl, prefix })
    : new MemoryStore();
  const loaded = loadConfig({ env: {} }).file;
  const file = retentionMs === undefined ? loaded : { ...loaded, retention_ms: retentionMs };
  // Terminal actors leave memory quickly, as they would under sustained load.
  const app = await createMailroom({ store, config: file, builtinSlots: concurrency });
  const workflows = variant.startsWith('diamond');
  const latency = nsHistogram();
  const startedAt = new Map<string, number>();
  /** Completions seen before their submit's answer: the event can come first (same write). */
  const early = new Set<string>();
  let completed = 0;
  let measuring = false;
  let stopping = false;
  const done = (id: string) => {
    const started = startedAt.get(id);
    if (started === undefined) {
      early.add(id);
      return;
    }
    startedAt.delete(id);
    completed++;
    if (measuring) recordMs(latency, now() - started);
    if (!stopping) submit(app, workflows);
  };
  await app.subscribe(
    [workflows ? 'event:workflow_completed' : 'event:job_completed'],
    undefined,
    (delivery) => {
      if (delivery.kind !== 'event') return;
      const event = delivery.event;
      if (event.type === 'workflow_completed') done(event.workflow_id);
      else if (event.type === 'job_completed') done(event.job_id);
    },
  );

  let errors = 0;
  function submit(target: Mailroom, asWorkflow: boolean): void {
    const t0 = now();
    const pending = asWorkflow
      ? target.submitWorkflow(DIAMOND).then((r) => r.workflow.id)
      : target.submitJob({ type: 'echo', input: { n: 1 } }).then((r) => r.job.id);
    pending.then(
      (id) => {
        startedAt.set(id, t0);
        if (early.delete(id)) done(id);
      },
      () => {
        // Submissions still in flight when the app stops are refused by design, not errors.
        if (!stopping) errors++;
      },
    );
  }
  for (let i = 0; i < concurrency; i++) submit(app, workflows);
  await sleep(warmupMs);
  measuring = true;
  const before = completed;
  const t0 = now();
  // CPU time of this process (all its threads: GC helpers too) per completed unit: on a shared VM
  // it moves far less from run to run than throughput does.
  const cpuBefore = process.cpuUsage();
  const writesBefore = app.system.stats().writes;
  // Stalls (a sweep, a full GC, a long turn) that an average hides.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  // A long run shows what a short one hides: what stays in memory, and whether throughput holds.
  let lastCount = completed;
  const sampler =
    everyMs > 0
      ? setInterval(() => {
          const heapMb = Math.round(process.memoryUsage().heapUsed / 1e6);
          const rate = ((completed - lastCount) * 1000) / everyMs;
          lastCount = completed;
          const { resident, timers } = app.system.stats();
          console.error(
            `${variant} +${Math.round(now() - t0)} ms: ${fmtRate(rate)}, heap ${heapMb} MB, resident ${resident}, timers in memory ${timers}`,
          );
        }, everyMs)
      : undefined;
  // The sampler slows the run: with --alloc, read the table, not the throughput.
  const stopSampling = values.alloc ? await allocationSampler() : null;
  await sleep(durationMs);
  const allocations = stopSampling ? await stopSampling() : null;
  clearInterval(sampler);
  const elapsed = now() - t0;
  const cpu = process.cpuUsage(cpuBefore);
  const writes = app.system.stats().writes - writesBefore;
  loopDelay.disable();
  measuring = false;
  stopping = true;
  const rate = ((completed - before) * 1000) / elapsed;
  await app.shutdown();
  await store.close();
  if (durable) await deleteKeys(redisUrl, prefix);
  return {
    variant,
    unit: workflows ? 'workflows/s' : 'jobs/s',
    rate,
    completed: completed - before,
    cpuUsPerUnit: (cpu.user + cpu.system) / Math.max(1, completed - before),
    writesPerUnit: writes / Math.max(1, completed - before),
    loopDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
    errors,
    latency: percentilesUs(latency),
    ...(allocations ? { allocations: allocations.slice(0, 40) } : {}),
  };
}

const results = await runVariants(VARIANTS, values, runOne);
report('app-throughput', values, results, (rows) =>
  [
    table([
      [
        'variant',
        'throughput',
        'completed',
        'CPU per unit',
        'writes per unit',
        'loop delay p99 / max',
        'errors',
      ],
      ...rows.map((r) => {
        const loop = r.loopDelayMs as { p99: number; max: number };
        return [
          r.variant,
          `${fmtRate(r.rate as number)} ${r.unit}`,
          String(r.completed),
          `${(r.cpuUsPerUnit as number).toFixed(1)} µs`,
          (r.writesPerUnit as number).toFixed(2),
          `${loop.p99.toFixed(1)} / ${loop.max.toFixed(1)} ms`,
          String(r.errors),
        ];
      }),
    ]),
    '',
    table([
      [...LATENCY_HEADER.slice(0, 1), ...LATENCY_HEADER.slice(1)],
      ...rows.map((r) =>
        latencyRow(`${r.variant} submit→completed`, r.latency as ReturnType<typeof percentilesUs>),
      ),
    ]),
    ...rows
      .filter((r) => r.allocations)
      .map(
        (r) =>
          `\nallocated per ${r.unit === 'jobs/s' ? 'job' : 'workflow'}, ${r.variant} (sampled, garbage included):\n` +
          allocationTable(r.allocations as Array<{ fn: string; bytes: number }>, r.completed as number, 40),
      ),
  ].join('\n'),
);
