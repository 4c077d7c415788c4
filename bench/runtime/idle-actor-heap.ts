/**
 * Heap bytes per idle, activated actor. N actors are activated by one tell each (the message gives
 * them a small new state, `{n: 1, status: 'pending'}`), the system goes idle, GC is forced and the
 * heapUsed delta is divided by N. Variants separate the system's share from the store's:
 *   memory:    MemoryStore; the store keeps every record and index entry (system + store)
 *   drop:      a store that acknowledges commits and keeps nothing (system only, same code path)
 *   ephemeral: ephemeral logic on the MemoryStore; nothing is ever committed (system only, no commit)
 * Needs --expose-gc; the script re-executes itself with it when `global.gc` is missing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import { defineActor } from '../../src/runtime/actor.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import type { SnapshotStore } from '../../src/runtime/store/snapshot-store.js';
import { createSystem } from '../../src/runtime/system.js';
import {
  flags,
  fmtBytes,
  fmtRate,
  heapCensus,
  now,
  num,
  report,
  rerunWithNodeFlags,
  runVariants,
  settledHeap,
  table,
  type VariantResult,
} from './common.js';

rerunWithNodeFlags(['--expose-gc']);

const USAGE = `node --import tsx bench/runtime/idle-actor-heap.ts [flags]   (re-execs itself with --expose-gc)
  --actors N     actors to activate (default 1000000)
  --batch N      tells per batch before waiting for idle (default 100000)
  --variant V    memory | drop | ephemeral | all (default all, each in its own process)
  --breakdown N  instead: activate N actors (e.g. 20000) of one variant (default memory) and print
                 what they retain per actor by V8 object type, from two heap snapshots
  --json         also print one JSON line`;

const values = flags(
  { actors: { type: 'string' }, batch: { type: 'string' }, breakdown: { type: 'string' } },
  USAGE,
);
const actors = num(values.actors, 1_000_000);
const batch = num(values.batch, 100_000);
const TARGET_BYTES = 1024;

interface Item {
  n: number;
  status: string;
}

/** Acknowledges every commit and keeps nothing: what the system alone holds. */
const dropStore: SnapshotStore = {
  durable: false,
  name: 'drop',
  load: () => Promise.resolve(undefined),
  commit: () => Promise.resolve({ eventSeqs: [] }),
  readEvents: () => Promise.resolve([]),
  eventLogInfo: () => Promise.resolve({ epoch: 'drop', firstSeq: 0, lastSeq: 0 }),
  list: () => Promise.resolve({ ids: [], scores: [], next: null }),
  count: () => Promise.resolve(0),
  loadTimers: () => Promise.resolve([]),
  ping: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

function setup(variant: string) {
  const item = defineActor<Item, 'init'>({
    initial: () => ({ n: 0, status: 'pending' }),
    receive: (state) => (state.n === 0 ? { n: 1, status: 'pending' } : state),
    ephemeral: variant === 'ephemeral',
  });
  return { item, store: variant === 'drop' ? dropStore : new MemoryStore() };
}

async function breakdown(variant: string, count: number): Promise<void> {
  const { item, store } = setup(variant);
  const dir = mkdtempSync(join(tmpdir(), 'idle-heap-'));
  const before = heapCensus(writeHeapSnapshot(join(dir, 'before.heapsnapshot')));
  const system = createSystem({ store, actors: { item }, passivateAfterMs: 3_600_000 });
  for (let i = 0; i < count; i++) system.tell({ kind: 'item', id: `i${i}` }, 'init');
  await system.idle();
  const after = heapCensus(writeHeapSnapshot(join(dir, 'after.heapsnapshot')));
  rmSync(dir, { recursive: true, force: true });
  const rows: Array<[string, number, number]> = [];
  let total = 0;
  for (const [key, { count: n, bytes }] of after) {
    const base = before.get(key) ?? { count: 0, bytes: 0 };
    const perActor = (bytes - base.bytes) / count;
    total += perActor;
    if (perActor >= 1) rows.push([key, (n - base.count) / count, perActor]);
  }
  rows.sort((a, b) => b[2] - a[2]);
  console.log(
    `retained per actor, ${variant} variant, ${count} actors (${system.stats().resident} resident):\n`,
  );
  console.log(
    table([
      ['bytes/actor', 'objects/actor', 'V8 type and constructor'],
      ...rows.map(([key, objects, bytes]) => [bytes.toFixed(1), objects.toFixed(2), key]),
      [total.toFixed(1), '', 'total (hash tables are sized for growth, so small N reads high)'],
    ]),
  );
}

async function runOne(variant: string): Promise<VariantResult> {
  const { item, store } = setup(variant);
  const baseline = await settledHeap();
  const rssBefore = process.memoryUsage().rss;
  const system = createSystem({ store, actors: { item }, passivateAfterMs: 3_600_000 });
  const started = now();
  for (let from = 0; from < actors; from += batch) {
    const to = Math.min(actors, from + batch);
    for (let i = from; i < to; i++) system.tell({ kind: 'item', id: `i${i}` }, 'init');
    await system.idle();
  }
  const elapsed = now() - started;
  const peak = getHeapStatistics().used_heap_size;
  const after = await settledHeap();
  const stats = system.stats();
  if (stats.resident !== actors)
    throw new Error(`expected ${actors} resident actors, found ${stats.resident}`);
  const expectedWrites = variant === 'ephemeral' ? 0 : actors;
  if (stats.writes !== expectedWrites)
    throw new Error(`expected ${expectedWrites} writes, found ${stats.writes}`);
  const bytesPerActor = (after - baseline) / actors;
  const result: VariantResult = {
    variant,
    actors,
    heapBeforeBytes: baseline,
    heapAfterBytes: after,
    bytesPerActor: Math.round(bytesPerActor),
    rssDeltaPerActor: Math.round((process.memoryUsage().rss - rssBefore) / actors),
    peakHeapBytes: peak,
    activationsPerSec: Math.round((actors * 1000) / elapsed),
    writes: stats.writes,
    target: variant === 'memory' ? { bytesPerActor: TARGET_BYTES, met: bytesPerActor <= TARGET_BYTES } : null,
  };
  await system.shutdown();
  return result;
}

function render(results: VariantResult[]): string {
  const rows = [['variant', 'bytes/actor (heap)', 'rss Δ/actor', 'activations/s', 'target']];
  for (const r of results) {
    const target = r.target as { bytesPerActor: number; met: boolean } | null;
    rows.push([
      String(r.variant),
      fmtBytes(r.bytesPerActor as number),
      fmtBytes(r.rssDeltaPerActor as number),
      fmtRate(r.activationsPerSec as number),
      target ? `≤ ${fmtBytes(target.bytesPerActor)} ${target.met ? 'met' : 'MISSED'}` : '-',
    ]);
  }
  const by = new Map(results.map((r) => [r.variant, r.bytesPerActor as number]));
  const lines = [`idle actor heap: ${actors} actors, heapUsed delta after forced GC\n`, table(rows)];
  if (by.has('memory') && by.has('drop')) {
    const store = by.get('memory')! - by.get('drop')!;
    lines.push(
      `\nstore share (memory − drop): ${fmtBytes(store)}/actor; system share (drop): ${fmtBytes(by.get('drop')!)}/actor`,
    );
  }
  return lines.join('\n');
}

if (typeof values.breakdown === 'string') {
  await breakdown(
    values.variant === 'all' ? 'memory' : String(values.variant),
    num(values.breakdown, 20_000),
  );
  process.exit(0);
}

const results = await runVariants(['memory', 'drop', 'ephemeral'], values, runOne, ['--expose-gc']);
const extra: Record<string, unknown> = { actors };
const memory = results.find((r) => r.variant === 'memory');
const drop = results.find((r) => r.variant === 'drop');
if (memory && drop)
  extra.storeSharePerActor = (memory.bytesPerActor as number) - (drop.bytesPerActor as number);
report('idle-actor-heap', values, results, render, extra);
