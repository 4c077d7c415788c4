/**
 * Heap bytes the embedded store holds per finished job or workflow: what a server with the memory
 * store keeps for every unit until its retention ends, and what each young collection copies
 * once before it is promoted. Units run through the whole in-process domain (submit → dispatcher →
 * builtin `echo` → completion), in waves of `--concurrency`; then the finished actors leave memory, GC is forced,
 * and the heap is compared with before. The event log is a bounded ring, filled before the
 * measurement, so it adds nothing here. Also prints what is held per unit by V8 object type, from
 * two heap snapshots.
 *
 *   node --import tsx bench/app/finished-heap.ts [--variant echo|diamond] [--units 20000] [--concurrency 500] [--json]
 *
 * Re-executes itself with --expose-gc.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { createMailroom, type Mailroom } from '../../src/app/mailroom.js';
import { loadConfig } from '../../src/config.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import {
  flags,
  fmtBytes,
  heapCensus,
  num,
  report,
  rerunWithNodeFlags,
  runVariants,
  settledHeap,
  sleep,
  table,
  type VariantResult,
} from '../runtime/common.js';
import { DIAMOND } from './diamond.js';

rerunWithNodeFlags(['--expose-gc']);

const values = flags(
  { units: { type: 'string' }, concurrency: { type: 'string' } },
  'usage: finished-heap.ts [--variant echo|diamond] [--units 20000] [--concurrency 500] [--json]',
);
const units = num(values.units, 20_000);
const concurrency = num(values.concurrency, 500);
/** Events the ring keeps; the warm-up fills it, so later events only replace earlier ones. */
const EVENT_RING = 1_000;

/** Runs `count` units to completion, submitted in waves of `concurrency`. */
async function runUnits(app: Mailroom, workflows: boolean, count: number, finished: () => number) {
  const target = finished() + count;
  let submitted = 0;
  while (submitted < count) {
    const wave = Math.min(concurrency, count - submitted);
    const submits: Promise<unknown>[] = [];
    for (let i = 0; i < wave; i++)
      submits.push(
        workflows ? app.submitWorkflow(DIAMOND) : app.submitJob({ type: 'echo', input: { n: 1 } }),
      );
    await Promise.all(submits);
    submitted += wave;
  }
  while (finished() < target) await sleep(10);
  // Finished actors leave memory once their last write is done.
  await app.system.idle();
  await sleep(100);
}

async function runOne(variant: string): Promise<VariantResult> {
  const workflows = variant === 'diamond';
  const { file } = loadConfig({ env: {} });
  const app = await createMailroom({
    store: new MemoryStore(EVENT_RING),
    config: file,
    builtinSlots: concurrency,
  });
  let finished = 0;
  await app.subscribe([workflows ? 'event:workflow_completed' : 'event:job_completed'], undefined, () => {
    finished++;
  });
  await runUnits(app, workflows, 2_000, () => finished);

  const dir = mkdtempSync(join(tmpdir(), 'finished-heap-'));
  const heapBefore = await settledHeap();
  const before = heapCensus(writeHeapSnapshot(join(dir, 'before.heapsnapshot')));
  await runUnits(app, workflows, units, () => finished);
  const heapAfter = await settledHeap();
  const after = heapCensus(writeHeapSnapshot(join(dir, 'after.heapsnapshot')));
  rmSync(dir, { recursive: true, force: true });
  const resident = app.system.stats().resident;
  await app.shutdown();

  const byType: Array<{ type: string; objects: number; bytes: number }> = [];
  for (const [type, { count, bytes }] of after) {
    const base = before.get(type) ?? { count: 0, bytes: 0 };
    const perUnit = (bytes - base.bytes) / units;
    if (Math.abs(perUnit) >= 4) byType.push({ type, objects: (count - base.count) / units, bytes: perUnit });
  }
  byType.sort((a, b) => b.bytes - a.bytes);
  return {
    variant,
    unit: workflows ? 'workflow' : 'job',
    units,
    resident,
    bytesPerUnit: Math.round((heapAfter - heapBefore) / units),
    byType,
  };
}

const results = await runVariants(['echo', 'diamond'], values, runOne, ['--expose-gc']);
report('finished-heap', values, results, (rows) =>
  rows
    .map((r) => {
      const byType = r.byType as Array<{ type: string; objects: number; bytes: number }>;
      return [
        `${r.variant}: ${fmtBytes(r.bytesPerUnit as number)} of heap per finished ${r.unit} (${r.units} ${r.unit}s, ${r.resident} actors resident after)`,
        table([
          ['bytes/unit', 'objects/unit', 'V8 type and constructor'],
          ...byType.map(({ type, objects, bytes }) => [bytes.toFixed(0), objects.toFixed(2), type]),
        ]),
      ].join('\n');
    })
    .join('\n\n'),
);
