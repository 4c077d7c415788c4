/**
 * Activations per second from Redis. N snapshots (`--state-bytes` each) are written with
 * store.commit in batches; then a fresh store connection and a fresh system ask every actor `get`
 * with bounded concurrency. Each ask activates the actor (one key read, msgpack decode, cell set-up)
 * and is answered at once, since `get` changes nothing and so writes nothing. A second pass over
 * the now-resident actors shows what the same asks cost without activation.
 */
import { Redis } from 'ioredis';
import { type ActorRef, defineActor } from '../../src/runtime/actor.js';
import { createRedisStore } from '../../src/runtime/store/redis-store.js';
import type { CommitEntry } from '../../src/runtime/store/snapshot-store.js';
import { LIVE_TAG } from '../../src/runtime/store/snapshot-store.js';
import { createSystem } from '../../src/runtime/system.js';
import {
  DEFAULT_REDIS,
  flags,
  fmtRate,
  LATENCY_HEADER,
  latencyRow,
  now,
  nsHistogram,
  num,
  type PaddedState,
  type Percentiles,
  percentilesUs,
  profiled,
  recordMs,
  redisVersion,
  report,
  snapshotPayload,
  str,
  table,
  uniquePrefix,
  type VariantResult,
  withRedisPrefix,
} from './common.js';

const USAGE = `node --import tsx bench/runtime/activations.ts [flags]
  --redis URL        Redis to use (default ${DEFAULT_REDIS}); keys go under bench:activations:<random>: and are deleted
  --actors N         snapshots to write, then activate (default 100000)
  --concurrency N    asks in flight while activating (default 1024)
  --batch N          entries per store.commit while prepopulating (default 1000, 4 commits in flight)
  --warmup-actors N  extra actors activated first, unmeasured, so the JIT is warm (default 20000)
  --rounds N         rounds, each with a fresh store connection and system (default 3); the
                     median round's rate and the latencies of all rounds are reported
  --state-bytes N    packed snapshot size to aim for (default 200)
  --profile FILE     write a .cpuprofile of the last round's measured cold pass
  --json             also print one JSON line`;

const values = flags(
  {
    redis: { type: 'string' },
    actors: { type: 'string' },
    concurrency: { type: 'string' },
    batch: { type: 'string' },
    'state-bytes': { type: 'string' },
    'warmup-actors': { type: 'string' },
    rounds: { type: 'string' },
    profile: { type: 'string' },
  },
  USAGE,
);
const url = str(values.redis, DEFAULT_REDIS);
const actors = num(values.actors, 100_000);
const concurrency = num(values.concurrency, 1024);
const batchSize = num(values.batch, 1000);
const warmupActors = num(values['warmup-actors'], 20_000);
const rounds = num(values.rounds, 3);
/** Snapshots written: the measured actors, then the warm-up actors. */
const total = actors + warmupActors;
const { payload, snapshotBytes } = snapshotPayload(num(values['state-bytes'], 200));
const LIVE = [LIVE_TAG] as const;
const NONE: readonly never[] = [];

/** The value actor i holds, so every reply can be checked. */
const expectedValue = (i: number) => 1_000_000 + i;

async function prepopulate(prefix: string): Promise<{ writesPerSec: number }> {
  const store = await createRedisStore({ url, prefix });
  try {
    const started = now();
    let next = 0;
    const lane = async () => {
      while (next < total) {
        const from = next;
        const to = Math.min(total, from + batchSize);
        next = to;
        const entries: CommitEntry[] = [];
        for (let i = from; i < to; i++) {
          entries.push({
            kind: 'acct',
            id: `a${i}`,
            record: {
              state: { n: expectedValue(i), status: 'running', payload } satisfies PaddedState,
              timers: null,
              outbox: null,
              outSeq: null,
              inSeq: null,
              tags: LIVE,
              score: 0,
            },
            removeTags: NONE,
            addTags: LIVE,
            score: 0,
            removeTimers: NONE,
            setTimers: NONE,
            events: NONE,
          });
        }
        await store.commit(entries);
      }
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
    return { writesPerSec: Math.round((total * 1000) / (now() - started)) };
  } finally {
    await store.close();
  }
}

interface ReadCounters {
  keys: number;
  mgets: number;
  gets: number;
}

/**
 * Loads share MGETs, and commandstats counts an MGET once whatever its keys, so keys read come from
 * keyspace hits + misses, which every key an MGET or GET looks up adds one to.
 */
async function readCounters(probe: Redis): Promise<ReadCounters> {
  const info = await probe.info('commandstats', 'stats');
  const pick = (pattern: RegExp) => Number(pattern.exec(info)?.[1] ?? 0);
  return {
    keys: pick(/keyspace_hits:(\d+)/) + pick(/keyspace_misses:(\d+)/),
    mgets: pick(/cmdstat_mget:calls=(\d+)/),
    gets: pick(/cmdstat_get:calls=(\d+)/),
  };
}

const acct = defineActor<PaddedState, 'get'>({
  initial: () => ({ n: 0, status: 'new', payload: '' }),
  receive(state, _msg, ctx) {
    ctx.reply(state.n);
    return state;
  },
});

/** One round: a fresh store connection and system; warm-up actors, the measured cold pass, a warm pass. */
async function round(prefix: string, probe: Redis, profile: string | undefined) {
  const store = await createRedisStore({ url, prefix });
  const system = createSystem({ store, actors: { acct }, passivateAfterMs: 3_600_000 });
  const refs: ActorRef[] = Array.from({ length: total }, (_, i) => ({ kind: 'acct', id: `a${i}` }));
  /** Asks actors [from, to) once each; returns asks/s and the latency histogram. */
  const pass = async (from: number, to: number) => {
    const latency = nsHistogram();
    let next = from;
    let wrong = 0;
    const worker = async () => {
      while (next < to) {
        const i = next++;
        const t = now();
        const n = await system.ask<number>(refs[i]!, 'get');
        recordMs(latency, now() - t);
        if (n !== expectedValue(i)) wrong++;
      }
    };
    const started = now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const elapsed = now() - started;
    if (wrong > 0) throw new Error(`${wrong} replies carried the wrong state`);
    return { perSec: ((to - from) * 1000) / elapsed, latency };
  };
  try {
    await pass(actors, total);
    const readsBefore = await readCounters(probe);
    const cpuBefore = process.cpuUsage();
    const cold = await profiled(profile, () => pass(0, actors));
    const cpu = process.cpuUsage(cpuBefore);
    const readsAfter = await readCounters(probe);
    const warm = await pass(0, actors);
    const stats = system.stats();
    if (stats.resident !== total)
      throw new Error(`expected ${total} resident actors, found ${stats.resident}`);
    if (stats.writes !== 0) throw new Error(`get must not write, but ${stats.writes} writes happened`);
    return {
      cold,
      warm,
      cpuUsPerActivation: (cpu.user + cpu.system) / actors,
      keysReadPerActivation: (readsAfter.keys - readsBefore.keys) / actors,
      mgetsPerActivation: (readsAfter.mgets - readsBefore.mgets) / actors,
      getsPerActivation: (readsAfter.gets - readsBefore.gets) / actors,
    };
  } finally {
    await system.shutdown();
    await store.close();
  }
}

async function run(): Promise<VariantResult> {
  const prefix = uniquePrefix('activations');
  return withRedisPrefix(url, prefix, async () => {
    const populated = await prepopulate(prefix);
    const probe = new Redis(url);
    try {
      const coldLatency = nsHistogram();
      const warmLatency = nsHistogram();
      const coldRates: number[] = [];
      const warmRates: number[] = [];
      const cpu: number[] = [];
      const reads = { keys: 0, mgets: 0, gets: 0 };
      for (let i = 0; i < rounds; i++) {
        // Profile the last round only: by then the JIT has seen every path.
        const r = await round(
          prefix,
          probe,
          i === rounds - 1 ? str(values.profile, '') || undefined : undefined,
        );
        coldLatency.add(r.cold.latency);
        warmLatency.add(r.warm.latency);
        coldRates.push(Math.round(r.cold.perSec));
        warmRates.push(Math.round(r.warm.perSec));
        cpu.push(Math.round(r.cpuUsPerActivation * 100) / 100);
        reads.keys = Math.max(reads.keys, r.keysReadPerActivation);
        reads.mgets = Math.max(reads.mgets, r.mgetsPerActivation);
        reads.gets = Math.max(reads.gets, r.getsPerActivation);
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      return {
        variant: 'activate',
        actors,
        warmupActors,
        rounds,
        concurrency,
        snapshotBytes,
        prepopulateWritesPerSec: populated.writesPerSec,
        activationsPerSec: median(coldRates),
        activationsPerSecRounds: coldRates,
        activationLatencyUs: percentilesUs(coldLatency),
        nodeCpuUsPerActivation: median(cpu),
        // Three significant digits: MGETs per activation is well below 0.01 when loads batch.
        redisKeysReadPerActivation: Number(reads.keys.toPrecision(3)),
        redisMgetsPerActivation: Number(reads.mgets.toPrecision(3)),
        redisGetsPerActivation: Number(reads.gets.toPrecision(3)),
        residentAsksPerSec: median(warmRates),
        residentAsksPerSecRounds: warmRates,
        residentLatencyUs: percentilesUs(warmLatency),
      };
    } finally {
      probe.disconnect();
    }
  });
}

function render(results: VariantResult[]): string {
  const r = results[0]!;
  const rows = [
    ['pass', 'asks/s (median)', 'rounds', 'node cpu µs/ask', 'keys read/ask', 'MGETs/ask', 'GETs/ask'],
    [
      'cold (activation)',
      fmtRate(r.activationsPerSec as number),
      (r.activationsPerSecRounds as number[]).map(fmtRate).join(', '),
      String(r.nodeCpuUsPerActivation),
      String(r.redisKeysReadPerActivation),
      String(r.redisMgetsPerActivation),
      String(r.redisGetsPerActivation),
    ],
    [
      'warm (resident)',
      fmtRate(r.residentAsksPerSec as number),
      (r.residentAsksPerSecRounds as number[]).map(fmtRate).join(', '),
      '-',
      '-',
      '-',
      '-',
    ],
  ];
  const lat = [
    LATENCY_HEADER,
    latencyRow('cold: ask → reply', r.activationLatencyUs as Percentiles),
    latencyRow('warm: ask → reply', r.residentLatencyUs as Percentiles),
  ];
  return [
    `activations from Redis: ${actors} snapshots of ${snapshotBytes} bytes, concurrency ${concurrency}, ${rounds} rounds`,
    `${total} snapshots prepopulated with store.commit at ${fmtRate(r.prepopulateWritesPerSec as number)} (batches of ${batchSize}, 4 in flight); ${warmupActors} activated first as warm-up\n`,
    table(rows),
    '',
    table(lat),
  ].join('\n');
}

const result = await run();
report('activations', values, [result], render, { redis: await redisVersion(url) });
