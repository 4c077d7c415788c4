/**
 * The timer heap's share of a retention expiry, as on a server past its retention: N expiry timers
 * armed (as a load of stored timers arms them), armed again (the next load's overlap reads them
 * twice), then all fired. Prints µs per arm and per firing, over several rounds.
 *   node --import tsx bench/runtime/timer-heap.ts [--timers 300000] [--rounds 5]
 */
import { randomUUID } from 'node:crypto';
import { SimulatedClock } from '../../src/runtime/clock.js';
import { TimerHeap } from '../../src/runtime/timers.js';
import { flags, num, table } from './common.js';

const values = flags(
  { timers: { type: 'string' }, rounds: { type: 'string' } },
  'usage: timer-heap.ts [--timers N] [--rounds N]',
);
const count = num(values.timers, 300_000);
const rounds = num(values.rounds, 5);
const clock = new SimulatedClock(1_700_000_000_000);
const rows: string[][] = [['round', 'µs per arm', 'µs per firing']];
for (let round = 1; round <= rounds; round++) {
  const heap = new TimerHeap(clock, () => {}, 120_000);
  const now = clock.now();
  // Ten deadlines per millisecond, ids as fresh strings: as a load from the store brings them.
  const timers = Array.from({ length: count }, (_, i) => ({
    kind: 'job',
    id: randomUUID(),
    name: 'expire',
    at: now + 60_000 + Math.floor(i / 10),
  }));
  const armStart = performance.now();
  for (const t of timers) heap.arm(t.kind, t.id, t.name, t.at);
  for (const t of timers) heap.arm(t.kind, t.id, t.name, t.at);
  const armEnd = performance.now();
  clock.advance(200_000);
  const fireEnd = performance.now();
  rows.push([
    String(round),
    (((armEnd - armStart) * 1000) / (2 * count)).toFixed(2),
    (((fireEnd - armEnd) * 1000) / count).toFixed(2),
  ]);
  heap.stop();
}
console.log(`timer heap: ${count} expiry timers, each armed twice, then fired\n`);
console.log(table(rows));
