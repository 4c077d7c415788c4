/**
 * Snapshot writes per second to Redis, with states of about `--state-bytes` packed bytes.
 *   group:  closed loop, `--concurrency` asks in flight to `--actors` actors; every ask changes the
 *           actor's state, so the runtime's group commit writes it (one Lua call per batch).
 *   single: the same closed loop without the actor system: every change is its own awaited
 *           `store.commit([entry])` (ioredis still auto-pipelines the calls, but nothing is batched
 *           into one script call).
 *   open:   open loop at `--rate` asks/s paced from setImmediate; latency is measured from each
 *           ask's intended send time (coordinated-omission corrected) to its durable reply.
 * Asks go round-robin over the actors, so with concurrency < actors no actor has two asks queued
 * and every ask is one snapshot write (no coalescing flatters the numbers).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Histogram } from 'hdr-histogram-js';
import { Redis } from 'ioredis';
import { type ActorRef, defineActor } from '../../src/runtime/actor.js';
import { createRedisStore, type RedisStore } from '../../src/runtime/store/redis-store.js';
import type { CommitEntry, SnapshotStore } from '../../src/runtime/store/snapshot-store.js';
import { LIVE_TAG } from '../../src/runtime/store/snapshot-store.js';
import { type ActorSystem, createSystem } from '../../src/runtime/system.js';
import {
  allocationSampler,
  allocationTable,
  DEFAULT_REDIS,
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
  redisVersion,
  report,
  runVariants,
  sampleRates,
  sleep,
  snapshotPayload,
  str,
  table,
  uniquePrefix,
  type VariantResult,
  withRedisPrefix,
} from './common.js';

const USAGE = `node --import tsx bench/runtime/redis-snapshot-writes.ts [flags]
  --redis URL        Redis to write to (default ${DEFAULT_REDIS}); keys go under bench:writes:<random>: and are deleted
  --actors N         actors (default 10000)
  --concurrency N    asks in flight for group and single (default 4096)
  --state-bytes N    packed snapshot size to aim for (default 200)
  --warmup MS        warm-up per variant (default 3000; open uses 2000)
  --duration MS      measured window per variant (default 10000)
  --rate N           open-loop asks per second (default 50000)
  --in-flight N      group and open: SystemOptions.maxCommitsInFlight (default: the runtime's default)
  --pacer P          open loop: spin (setImmediate, default) | timer (1 ms setTimeout batches)
  --variant V        group | single | open | all (default all, each in its own process)
  --alloc            group: also sample allocations in the window and print bytes per write by function
  --json             also print one JSON line`;

const values = flags(
  {
    redis: { type: 'string' },
    actors: { type: 'string' },
    concurrency: { type: 'string' },
    'state-bytes': { type: 'string' },
    warmup: { type: 'string' },
    duration: { type: 'string' },
    rate: { type: 'string' },
    pacer: { type: 'string' },
    'in-flight': { type: 'string' },
    alloc: { type: 'boolean', default: false },
  },
  USAGE,
);
const url = str(values.redis, DEFAULT_REDIS);
const actors = num(values.actors, 10_000);
const concurrency = num(values.concurrency, 4096);
const stateBytes = num(values['state-bytes'], 200);
const warmupMs = num(values.warmup, 3_000);
const durationMs = num(values.duration, 10_000);
const rate = num(values.rate, 50_000);
const pacer = str(values.pacer, 'spin');
const maxCommitsInFlight = typeof values['in-flight'] === 'string' ? num(values['in-flight'], 4) : undefined;
if (pacer !== 'spin' && pacer !== 'timer') throw new Error('--pacer is spin or timer');
const TARGET_WRITES = 150_000;
const TARGET_P99_US = 2_000;

type Account = PaddedState;

const LIVE = [LIVE_TAG] as const;
const NONE: readonly never[] = [];
const { payload, snapshotBytes } = snapshotPayload(stateBytes);

/** Records each group commit's size and round trip (the runtime itself exposes only counters). */
function instrument(store: RedisStore, batch: number[], commitTime: Histogram): SnapshotStore {
  return {
    durable: store.durable,
    name: store.name,
    load: (kind, id) => store.load(kind, id),
    commit(entries) {
      const started = now();
      batch.push(entries.length);
      return store.commit(entries).then((receipt) => {
        recordMs(commitTime, now() - started);
        return receipt;
      });
    },
    readEvents: (afterSeq, limit) => store.readEvents(afterSeq, limit),
    eventLogInfo: () => store.eventLogInfo(),
    list: (kind, tag, options) => store.list(kind, tag, options),
    count: (kind, tag, minScore) => store.count(kind, tag, minScore),
    loadTimers: (until) => store.loadTimers(until),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}

interface RedisUsage {
  nodeCpuPercent: number;
  redisCpuPercent: number;
  /** Time Redis spent inside the commit script (EVALSHA/EVAL), per call and per call made. */
  scriptCalls: number;
  scriptUsPerCall: number;
}

/** Starts measuring CPU time of this process and of the Redis server (% of one core) and script time. */
function cpuMeter(client: Redis): () => Promise<RedisUsage> {
  const sample = async () => {
    const info = await client.info('all');
    const pick = (pattern: string) => Number(new RegExp(pattern).exec(info)?.[1] ?? 0);
    return {
      cpu: pick('used_cpu_sys:([\\d.]+)') + pick('used_cpu_user:([\\d.]+)'),
      calls: pick('cmdstat_evalsha:calls=(\\d+)') + pick('cmdstat_eval:calls=(\\d+)'),
      usec: pick('cmdstat_evalsha:calls=\\d+,usec=(\\d+)') + pick('cmdstat_eval:calls=\\d+,usec=(\\d+)'),
    };
  };
  const redisStart = sample();
  const nodeStart = process.cpuUsage();
  const started = now();
  return async () => {
    const elapsedS = (now() - started) / 1000;
    const node = process.cpuUsage(nodeStart);
    const end = await sample();
    const start = await redisStart;
    const calls = end.calls - start.calls;
    return {
      nodeCpuPercent: Math.round(((node.user + node.system) / 1e6 / elapsedS) * 100),
      redisCpuPercent: Math.round(((end.cpu - start.cpu) / elapsedS) * 100),
      scriptCalls: calls,
      scriptUsPerCall: calls > 0 ? Math.round(((end.usec - start.usec) / calls) * 10) / 10 : 0,
    };
  };
}

const acct = defineActor<Account, 'inc'>({
  initial: () => ({ n: 0, status: 'running', payload }),
  receive(state, _msg, ctx) {
    const next: Account = { n: state.n + 1, status: state.status, payload: state.payload };
    ctx.reply(next.n);
    return next;
  },
});

function refsOf(count: number): ActorRef[] {
  return Array.from({ length: count }, (_, i) => ({ kind: 'acct', id: `a${i}` }));
}

/** `concurrency` workers each keep one request outstanding; `onMeasure` runs when the window opens. */
async function closedLoop(send: (i: number) => Promise<unknown>, read: () => number, onMeasure: () => void) {
  const latency = nsHistogram();
  let cursor = 0;
  let running = true;
  let measuring = false;
  let errors = 0;
  const worker = async () => {
    while (running) {
      const i = cursor++;
      const t = now();
      try {
        await send(i);
        if (measuring) recordMs(latency, now() - t);
      } catch {
        errors++;
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  await sleep(warmupMs);
  onMeasure();
  measuring = true;
  const sampled = await sampleRates(read, durationMs);
  measuring = false;
  running = false;
  await Promise.all(workers);
  return { latency, sampled, errors };
}

function perWrite(usage: RedisUsage | null, writes: number): number {
  return usage && writes > 0
    ? Math.round(((usage.scriptUsPerCall * usage.scriptCalls) / writes) * 100) / 100
    : 0;
}

function loopDelayUs(histogram: ReturnType<typeof monitorEventLoopDelay>) {
  return {
    p50: histogram.percentile(50) / 1000,
    p99: histogram.percentile(99) / 1000,
    max: histogram.max / 1000,
  };
}

async function runGroup(store: RedisStore, probe: Redis): Promise<VariantResult> {
  const batch: number[] = [];
  const commitTime = nsHistogram();
  const system = createSystem({
    store: instrument(store, batch, commitTime),
    actors: { acct },
    passivateAfterMs: 3_600_000,
    maxCommitsInFlight,
  });
  const refs = refsOf(actors);
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  let stopCpu: () => Promise<RedisUsage | null> = async () => null;
  let stopSampling: Awaited<ReturnType<typeof allocationSampler>> | null = null;
  if (values.alloc) stopSampling = await allocationSampler();
  let before = system.stats();
  const { latency, sampled, errors } = await closedLoop(
    (i) => system.ask(refs[i % actors]!, 'inc'),
    () => system.stats().writes,
    () => {
      batch.length = 0;
      commitTime.reset();
      loopDelay.enable();
      stopCpu = cpuMeter(probe);
      before = system.stats();
    },
  );
  const usage = await stopCpu();
  const allocations = stopSampling ? await stopSampling() : null;
  loopDelay.disable();
  const after = system.stats();
  await system.shutdown();
  const seconds = sampled.elapsedMs / 1000;
  const writesPerSec = sampled.rate;
  return {
    variant: 'group',
    writesPerSec: Math.round(writesPerSec),
    asksPerSec: Math.round((latency.totalCount * 1000) / sampled.elapsedMs),
    windowRates: percentilesOf(sampled.rates.map(Math.round)),
    askLatencyUs: percentilesUs(latency),
    commitsPerSec: Math.round((after.commits - before.commits) / seconds),
    batchEntries: percentilesOf(batch),
    commitRoundTripUs: percentilesUs(commitTime),
    eventLoopDelayUs: loopDelayUs(loopDelay),
    ...usage,
    redisScriptUsPerWrite: perWrite(usage, sampled.total),
    errors,
    commitFailures: after.commitFailures,
    ...(allocations ? { allocations: allocations.slice(0, 30), allocationWrites: after.writes } : {}),
    target: { writesPerSec: TARGET_WRITES, met: writesPerSec >= TARGET_WRITES },
  };
}

async function runSingle(store: RedisStore, probe: Redis): Promise<VariantResult> {
  const counts = new Uint32Array(actors);
  const written = new Uint8Array(actors);
  let writes = 0;
  const ids = refsOf(actors).map((ref) => ref.id);
  const commitOne = async (i: number) => {
    const a = i % actors;
    const state: Account = { n: ++counts[a]!, status: 'running', payload };
    // What cell.beginCommit builds: tags are added on the first write only (score is unchanged after).
    const entry: CommitEntry = {
      kind: 'acct',
      id: ids[a]!,
      record: { state, timers: null, outbox: null, outSeq: null, inSeq: null, tags: LIVE, score: 0 },
      removeTags: NONE,
      addTags: written[a] ? NONE : LIVE,
      score: 0,
      removeTimers: NONE,
      setTimers: NONE,
      events: NONE,
    };
    await store.commit([entry]);
    written[a] = 1;
    writes++;
  };
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  let stopCpu: () => Promise<RedisUsage | null> = async () => null;
  const { latency, sampled, errors } = await closedLoop(
    commitOne,
    () => writes,
    () => {
      loopDelay.enable();
      stopCpu = cpuMeter(probe);
    },
  );
  const usage = await stopCpu();
  loopDelay.disable();
  return {
    variant: 'single',
    writesPerSec: Math.round(sampled.rate),
    windowRates: percentilesOf(sampled.rates.map(Math.round)),
    commitLatencyUs: percentilesUs(latency),
    eventLoopDelayUs: loopDelayUs(loopDelay),
    ...usage,
    redisScriptUsPerWrite: perWrite(usage, sampled.total),
    errors,
  };
}

async function runOpen(store: RedisStore, probe: Redis): Promise<VariantResult> {
  const batch: number[] = [];
  const commitTime = nsHistogram();
  const system: ActorSystem = createSystem({
    store: instrument(store, batch, commitTime),
    actors: { acct },
    passivateAfterMs: 3_600_000,
    maxCommitsInFlight,
  });
  const refs = refsOf(actors);
  const openWarmupMs = typeof values.warmup === 'string' ? warmupMs : 2_000;
  const corrected = nsHistogram();
  const uncorrected = nsHistogram();
  const intervalMs = 1000 / rate;
  const maxOutstanding = Math.max(100_000, rate * 2);
  let outstanding = 0;
  let errors = 0;
  let sent = 0;
  let saturated = false;
  let maxBurst = 0;
  const start = now();
  const measureFrom = start + openWarmupMs;
  const measureTo = measureFrom + durationMs;
  let stopCpu: ReturnType<typeof cpuMeter> | null = null;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });

  const lateness = nsHistogram();
  const send = (intended: number, ref: ActorRef) => {
    const actual = now();
    if (intended >= measureFrom) recordMs(lateness, actual - intended);
    outstanding++;
    system.ask(ref, 'inc').then(
      () => {
        outstanding--;
        if (intended >= measureFrom && intended < measureTo) {
          const done = now();
          recordMs(corrected, done - intended);
          recordMs(uncorrected, done - actual);
        }
      },
      () => {
        outstanding--;
        errors++;
      },
    );
  };

  await new Promise<void>((resolve) => {
    const pace = () => {
      const t = now();
      if (stopCpu === null && t >= measureFrom) {
        batch.length = 0;
        commitTime.reset();
        loopDelay.enable();
        stopCpu = cpuMeter(probe);
      }
      // Ask i is due at start + i·interval: everything with an intended time ≤ now goes out now.
      const due = Math.min(
        Math.floor((t - start) / intervalMs) + 1,
        Math.ceil((measureTo - start) / intervalMs),
      );
      if (due - sent > maxBurst) maxBurst = due - sent;
      while (sent < due) {
        send(start + sent * intervalMs, refs[sent % actors]!);
        sent++;
      }
      if (outstanding > maxOutstanding) saturated = true;
      // Spinning on setImmediate keeps sends punctual and I/O served between them, but it takes a
      // core while the system is idle and allocates an Immediate per spin (more scavenges). The
      // timer pacer sends in 1 ms batches instead: idle loop, but up to ~1 ms of counted lateness.
      // (Napping with Atomics.wait was tried: it delays every loop phase of an ask; p50 +1 ms.)
      if (t >= measureTo || saturated) resolve();
      else if (pacer === 'timer') setTimeout(pace, 1);
      else setImmediate(pace);
    };
    pace();
  });
  const usage = stopCpu ? await (stopCpu as ReturnType<typeof cpuMeter>)() : null;
  loopDelay.disable();
  const drainUntil = now() + 15_000;
  while (outstanding > 0 && now() < drainUntil) await sleep(10);
  await system.shutdown();
  const achieved = (corrected.totalCount * 1000) / durationMs;
  const p = percentilesUs(corrected);
  return {
    variant: 'open',
    rate,
    pacer,
    achievedRate: Math.round(achieved),
    saturated,
    maxBurst,
    askLatencyUs: p,
    uncorrectedLatencyUs: percentilesUs(uncorrected),
    /** How late the pacer sent, versus each ask's intended time (part of the corrected latency). */
    sendLatenessUs: percentilesUs(lateness),
    batchEntries: percentilesOf(batch),
    commitRoundTripUs: percentilesUs(commitTime),
    eventLoopDelayUs: loopDelayUs(loopDelay),
    ...(usage ?? {}),
    errors,
    target: { p99Us: TARGET_P99_US, met: !saturated && errors === 0 && p.p99 <= TARGET_P99_US },
  };
}

async function runOne(variant: string): Promise<VariantResult> {
  const prefix = uniquePrefix('writes');
  return withRedisPrefix(url, prefix, async () => {
    const store = await createRedisStore({ url, prefix });
    const probe = new Redis(url);
    try {
      const result =
        variant === 'group'
          ? await runGroup(store, probe)
          : variant === 'single'
            ? await runSingle(store, probe)
            : await runOpen(store, probe);
      return {
        ...result,
        actors,
        concurrency,
        snapshotBytes,
        maxCommitsInFlight: maxCommitsInFlight ?? 'default',
      };
    } finally {
      probe.disconnect();
      await store.close();
    }
  });
}

function render(results: VariantResult[]): string {
  const by = new Map(results.map((r) => [r.variant, r]));
  const out: string[] = [
    `redis snapshot writes: ${actors} actors, ${snapshotBytes}-byte snapshots, concurrency ${concurrency}, open rate ${fmtRate(rate)}\n`,
  ];
  const rows = [
    [
      'variant',
      'writes/s',
      'window min',
      'window p50',
      'node cpu %',
      'redis cpu %',
      'redis µs/write',
      'loop p99',
      'target',
    ],
  ];
  for (const r of results) {
    if (r.variant === 'open') continue;
    const w = r.windowRates as ReturnType<typeof percentilesOf>;
    const target = r.target as { writesPerSec: number; met: boolean } | undefined;
    rows.push([
      String(r.variant),
      fmtRate(r.writesPerSec as number),
      fmtRate(w.min),
      fmtRate(w.p50),
      String(r.nodeCpuPercent),
      String(r.redisCpuPercent),
      String(r.redisScriptUsPerWrite),
      fmtUs((r.eventLoopDelayUs as { p99: number }).p99),
      target ? `≥ ${fmtRate(target.writesPerSec)} ${target.met ? 'met' : 'MISSED'}` : '-',
    ]);
  }
  if (rows.length > 1) out.push(table(rows));
  const group = by.get('group');
  const single = by.get('single');
  if (group && single) {
    out.push(
      `\ngroup commit / one write per change: ${((group.writesPerSec as number) / (single.writesPerSec as number)).toFixed(2)}×`,
    );
  }
  const lat = [LATENCY_HEADER];
  if (group) lat.push(latencyRow('group: ask → durable reply', group.askLatencyUs as Percentiles));
  if (group) lat.push(latencyRow('group: commit round trip', group.commitRoundTripUs as Percentiles));
  if (single) lat.push(latencyRow('single: commit([entry])', single.commitLatencyUs as Percentiles));
  const open = by.get('open');
  if (open) {
    lat.push(latencyRow('open: intended send → durable', open.askLatencyUs as Percentiles));
    lat.push(latencyRow('open: actual send → durable', open.uncorrectedLatencyUs as Percentiles));
    lat.push(latencyRow('open: pacer lateness', open.sendLatenessUs as Percentiles));
    lat.push(latencyRow('open: commit round trip', open.commitRoundTripUs as Percentiles));
  }
  out.push(`\n${table(lat)}`);
  const batches = [['batch entries per commit', 'n', 'p50', 'p90', 'p99', 'max']];
  for (const r of [group, open]) {
    if (!r) continue;
    const b = r.batchEntries as ReturnType<typeof percentilesOf>;
    batches.push([
      String(r.variant),
      String(b.count),
      String(b.p50),
      String(b.p90),
      String(b.p99),
      String(b.max),
    ]);
  }
  if (batches.length > 1) out.push(`\n${table(batches)}`);
  if (group?.allocations) {
    out.push(
      '\nallocated per write, group (sampled over warm-up and window; asks inline into the bench worker):',
    );
    out.push(
      allocationTable(
        group.allocations as Array<{ fn: string; bytes: number }>,
        group.allocationWrites as number,
      ),
    );
  }
  if (open) {
    const target = open.target as { p99Us: number; met: boolean };
    out.push(
      `\nopen loop: ${fmtRate(open.achievedRate as number)} achieved of ${fmtRate(rate)}${open.saturated ? ' (SATURATED: backlog grew without bound)' : ''}, ` +
        `node cpu ${open.nodeCpuPercent}%, redis cpu ${open.redisCpuPercent}%, p99 ${fmtUs((open.askLatencyUs as Percentiles).p99)} ` +
        `(target ≤ ${fmtUs(target.p99Us)}: ${target.met ? 'met' : 'MISSED'})`,
    );
  }
  return out.join('\n');
}

const results = await runVariants(['group', 'single', 'open'], values, runOne);
const extra: Record<string, unknown> = {
  redis: await redisVersion(url),
  actors,
  concurrency,
  rate,
  snapshotBytes,
};
const group = results.find((r) => r.variant === 'group');
const single = results.find((r) => r.variant === 'single');
if (group && single) extra.groupOverSingle = (group.writesPerSec as number) / (single.writesPerSec as number);
report('redis-snapshot-writes', values, results, render, extra);
