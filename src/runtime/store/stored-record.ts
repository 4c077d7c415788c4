/**
 * An actor record as the Redis store keeps it: a layout number, then the record's fields in a
 * fixed order, without their names (the state in its kind's codec form), and each sequence table
 * as a flat list of key, seq pairs. Packing a finished job's record took 1.48 µs with the names
 * and takes 1.21 µs without, and every write packs one; a sequence table, kept in dictionary mode
 * (seq-table.ts), packs in 0.55 µs as a map and 0.23 µs as pairs. Records written before layouts
 * (a msgpack map) still load.
 */
import type { SeqTable } from '../seq-table.js';
import type { ActorRecord } from './snapshot-store.js';

const LAYOUT = 1;

export function storedRecord(record: ActorRecord, state: unknown): unknown[] {
  return [
    LAYOUT,
    state,
    record.timers,
    record.outbox,
    pairsOf(record.outSeq),
    pairsOf(record.inSeq),
    record.tags,
    record.score,
  ];
}

/** The record from its stored form, state still in its codec form. */
export function recordFromStored(stored: unknown): ActorRecord {
  if (!Array.isArray(stored)) return stored as ActorRecord;
  if (stored[0] !== LAYOUT) {
    throw new Error(`actor record layout ${String(stored[0])} is not one this version reads`);
  }
  // The field order of `initialRecord` (cell-host.ts), so stored and fresh records share a shape.
  return {
    state: stored[1],
    timers: stored[2] as ActorRecord['timers'],
    outbox: stored[3] as ActorRecord['outbox'],
    outSeq: tableOf(stored[4] as unknown[] | null),
    inSeq: tableOf(stored[5] as unknown[] | null),
    tags: stored[6] as ActorRecord['tags'],
    score: stored[7] as number,
  };
}

function pairsOf(table: SeqTable | null): unknown[] | null {
  if (table === null) return null;
  const pairs: unknown[] = [];
  for (const key in table) pairs.push(key, table[key]);
  return pairs;
}

/** A table without a prototype, as seq-table.ts builds them. */
function tableOf(pairs: unknown[] | null): SeqTable | null {
  if (pairs === null) return null;
  const table: Record<string, number> = Object.create(null);
  for (let i = 0; i < pairs.length; i += 2) table[pairs[i] as string] = pairs[i + 1] as number;
  return table;
}
