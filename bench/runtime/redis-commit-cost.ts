/**
 * What a snapshot write costs on Redis without the actor system: RedisStore.commit in batches of
 * `--batch` steady-state entries (no tag, timer or event changes), one or two commits in flight,
 * against the prototype that led to the store's layout: the same batch as one blob plus a length
 * list, the snapshot keys declared in KEYS and nothing but SETs in the script. The store
 * (commit-4.lua: a msgpack field list decoded with cmsgpack, keys built in Lua) should keep up
 * with it. With `--changes` every entry also moves a timer and emits an event, which the prototype
 * cannot express, so only the store runs.
 */
import { Redis } from 'ioredis';
import { Packr } from 'msgpackr';
import { createRedisStore, type RedisStore } from '../../src/runtime/store/redis-store.js';
import type { CommitEntry } from '../../src/runtime/store/snapshot-store.js';
import { LIVE_TAG } from '../../src/runtime/store/snapshot-store.js';
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

const USAGE = `node --import tsx bench/runtime/redis-commit-cost.ts [flags]
  --redis URL        Redis to write to (default ${DEFAULT_REDIS}); keys go under bench:commit:<random>: and are deleted
  --actors N         distinct snapshot keys (default 10000)
  --batch N          entries per commit (default 1000)
  --writes N         writes per measured scenario (default 300000)
  --state-bytes N    packed snapshot size to aim for (default 200)
  --changes          every entry also moves a timer and emits one event (store only)
  --json             also print one JSON line`;

const values = flags(
  {
    redis: { type: 'string' },
    actors: { type: 'string' },
    batch: { type: 'string' },
    writes: { type: 'string' },
    'state-bytes': { type: 'string' },
    changes: { type: 'boolean', default: false },
  },
  USAGE,
);
const url = str(values.redis, DEFAULT_REDIS);
const actors = num(values.actors, 10_000);
const batchSize = num(values.batch, 1000);
const writes = num(values.writes, 300_000);
const changes = values.changes === true;
const { payload, snapshotBytes } = snapshotPayload(num(values['state-bytes'], 200));
const LIVE = [LIVE_TAG] as const;
const NONE: readonly never[] = [];
const packr = new Packr({ useRecords: false, moreTypes: false });

/** The prototype: KEYS are the snapshot keys, ARGV[1] all snapshots back to back, ARGV[2] their lengths. */
const BLOB_SCRIPT = `
local blob = ARGV[1]
local pos = 1
local i = 1
for len in string.gmatch(ARGV[2], '%d+') do
  local n = tonumber(len)
  redis.call('SET', KEYS[i], string.sub(blob, pos, pos + n - 1))
  pos = pos + n
  i = i + 1
end
return i - 1`;

interface BlobClient extends Redis {
  benchBlobSet(numKeys: number, keys: string[], blob: Buffer, lengths: string): Promise<number>;
}

let counter = 0;
function record() {
  const state: PaddedState = { n: ++counter, status: 'running', payload };
  return { state, timers: null, outbox: null, outSeq: null, inSeq: null, tags: LIVE, score: 0 };
}

function entry(i: number, first: boolean): CommitEntry {
  if (changes && !first) {
    return {
      kind: 'acct',
      id: `a${i}`,
      record: record(),
      removeTags: NONE,
      addTags: NONE,
      score: 0,
      removeTimers: ['tick'],
      setTimers: [['tick', Date.now() + 60_000]],
      events: [{ type: 'ticked', id: `a${i}`, n: counter }],
    };
  }
  return {
    kind: 'acct',
    id: `a${i}`,
    record: record(),
    removeTags: NONE,
    addTags: first ? LIVE : NONE,
    score: 0,
    removeTimers: NONE,
    setTimers: NONE,
    events: NONE,
  };
}

async function redisSample(probe: Redis) {
  const info = await probe.info('all');
  const pick = (pattern: RegExp) => Number(pattern.exec(info)?.[1] ?? 0);
  return {
    cpu: pick(/used_cpu_sys:([\d.]+)/) + pick(/used_cpu_user:([\d.]+)/),
    scriptUs: pick(/cmdstat_evalsha:calls=\d+,usec=(\d+)/) + pick(/cmdstat_eval:calls=\d+,usec=(\d+)/),
  };
}

/** Runs `inFlight` lanes, each committing batches until `writes` entries are written. */
async function scenario(
  name: string,
  probe: Redis,
  inFlight: number,
  commit: (ids: number[]) => Promise<unknown>,
  total = writes,
): Promise<VariantResult> {
  let cursor = 0;
  let issued = 0;
  const latency = nsHistogram();
  let syncMs = 0;
  const before = await redisSample(probe);
  const cpuBefore = process.cpuUsage();
  const started = now();
  const lane = async () => {
    while (issued < total) {
      const ids: number[] = [];
      for (let i = 0; i < batchSize; i++) ids.push(cursor++ % actors);
      issued += ids.length;
      const t = now();
      const pending = commit(ids);
      syncMs += now() - t;
      await pending;
      recordMs(latency, now() - t);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const elapsed = now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const after = await redisSample(probe);
  return {
    variant: name,
    inFlight,
    batch: batchSize,
    writesPerSec: Math.round((issued * 1000) / elapsed),
    nodeCpuUsPerWrite: Math.round(((cpu.user + cpu.system) / issued) * 100) / 100,
    syncUsPerWrite: Math.round(((syncMs * 1000) / issued) * 100) / 100,
    redisCpuPercent: Math.round(((after.cpu - before.cpu) / (elapsed / 1000)) * 100),
    redisScriptUsPerWrite: Math.round(((after.scriptUs - before.scriptUs) / issued) * 100) / 100,
    commitLatencyUs: percentilesUs(latency),
  };
}

async function run(): Promise<VariantResult[]> {
  const prefix = uniquePrefix('commit');
  return withRedisPrefix(url, prefix, async () => {
    const store: RedisStore = await createRedisStore({ url, prefix });
    const probe = new Redis(url);
    const blob = new Redis(url, { enableAutoPipelining: true }) as BlobClient;
    blob.defineCommand('benchBlobSet', { lua: BLOB_SCRIPT });
    try {
      // First writes file the index entries; every measured write after that is steady state.
      for (let from = 0; from < actors; from += batchSize) {
        const entries: CommitEntry[] = [];
        for (let i = from; i < Math.min(actors, from + batchSize); i++) entries.push(entry(i, true));
        await store.commit(entries);
      }
      const viaStore = (ids: number[]) => store.commit(ids.map((i) => entry(i, false)));
      const viaBlob = (ids: number[]) => {
        const keys: string[] = [];
        const parts: Buffer[] = [];
        const lengths: number[] = [];
        for (const i of ids) {
          keys.push(store.keys.snapshot('acct', `a${i}`));
          const bytes = packr.pack(record());
          parts.push(bytes);
          lengths.push(bytes.length);
        }
        return blob.benchBlobSet(keys.length, keys, Buffer.concat(parts), lengths.join(','));
      };
      // A short unmeasured pass of each, so both run JIT-warm.
      await scenario('warm-up', probe, 1, viaStore, 50_000);
      if (!changes) await scenario('warm-up', probe, 1, viaBlob, 50_000);
      const storeName = changes ? 'store.commit, timer + event' : 'store.commit (commit-4.lua)';
      const results: VariantResult[] = [];
      for (const inFlight of [1, 2]) {
        results.push(await scenario(storeName, probe, inFlight, viaStore));
        if (!changes) results.push(await scenario('prototype: one blob + lengths', probe, inFlight, viaBlob));
      }
      return results;
    } finally {
      probe.disconnect();
      blob.disconnect();
      await store.close();
    }
  });
}

function render(results: VariantResult[]): string {
  const rows = [
    [
      'encoding',
      'in flight',
      'writes/s',
      'node cpu µs/write',
      'sync µs/write',
      'redis cpu %',
      'redis script µs/write',
    ],
  ];
  const lat = [LATENCY_HEADER];
  for (const r of results) {
    rows.push([
      String(r.variant),
      String(r.inFlight),
      fmtRate(r.writesPerSec as number),
      String(r.nodeCpuUsPerWrite),
      String(r.syncUsPerWrite),
      String(r.redisCpuPercent),
      String(r.redisScriptUsPerWrite),
    ]);
    lat.push(latencyRow(`${r.variant} ×${r.inFlight}`, r.commitLatencyUs as Percentiles));
  }
  return [
    `redis commit cost: batches of ${batchSize} ${changes ? 'timer + event' : 'steady-state'} ${snapshotBytes}-byte snapshots over ${actors} keys, ${writes} writes each\n`,
    table(rows),
    '\nper commit call:',
    table(lat),
  ].join('\n');
}

const results = await run();
report('redis-commit-cost', values, results, render, { redis: await redisVersion(url), snapshotBytes });
