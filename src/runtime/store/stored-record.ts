/**
 * An actor record as the Redis store keeps it: two msgpack values one after the other.
 *
 * - The head, `[tags, timer count, outbox length]`: what the removal script (lua/remove-2.lua)
 *   needs to take an actor out of the store without the rest, which it could not decode: Redis 7's
 *   `cmsgpack` rejects msgpack `bin`, and a state may hold it. `cmsgpack.unpack_one` reads the
 *   head alone.
 * - The body: a layout number, then the record's other fields in a fixed order without their
 *   names (the state in its kind's codec form), each sequence table as a flat list of key, seq
 *   pairs. Packing a finished job's record took 1.48 µs with the names and takes 1.21 µs without,
 *   and every write packs one; a sequence table packed in 0.55 µs as a msgpack map and 0.23 µs as
 *   pairs.
 *
 * Records written before the head (layout 1: one array, tags in it) and before layouts (a msgpack
 * map, its tables maps too) still load; the removal script leaves them to the actor.
 */
import { type SeqTable, seqTableFrom } from '../seq-table.js';
import type { ActorRecord } from './snapshot-store.js';

const LAYOUT_WITH_HEAD = 2;
const LAYOUT_TAGS_INSIDE = 1;

export function storedHead(record: ActorRecord): unknown[] {
  let timers = 0;
  for (const _ in record.timers) timers++;
  return [record.tags, timers, record.outbox?.length ?? 0];
}

export function storedBody(record: ActorRecord, state: unknown): unknown[] {
  return [
    LAYOUT_WITH_HEAD,
    state,
    record.timers,
    record.outbox,
    pairsOf(record.outSeq),
    pairsOf(record.inSeq),
    record.score,
  ];
}

/** The record from the values its snapshot holds (head and body, or one older value), state still in its codec form. */
export function recordFromStored(values: readonly unknown[]): ActorRecord {
  if (values.length === 2) {
    const head = values[0] as unknown[];
    const body = values[1] as unknown[];
    if (body[0] !== LAYOUT_WITH_HEAD) throw unknownLayout(body[0]);
    return recordOf(body[1], body[2], body[3], body[4], body[5], head[0], body[6]);
  }
  const stored = values[0];
  if (!Array.isArray(stored)) {
    const old = stored as Record<keyof ActorRecord, unknown>;
    return recordOf(old.state, old.timers, old.outbox, old.outSeq, old.inSeq, old.tags, old.score);
  }
  if (values.length !== 1 || stored[0] !== LAYOUT_TAGS_INSIDE) throw unknownLayout(stored[0]);
  return recordOf(stored[1], stored[2], stored[3], stored[4], stored[5], stored[6], stored[7]);
}

/** In the field order of `initialRecord` (cell-host.ts), so stored and fresh records share a shape. */
function recordOf(
  state: unknown,
  timers: unknown,
  outbox: unknown,
  outSeq: unknown,
  inSeq: unknown,
  tags: unknown,
  score: unknown,
): ActorRecord {
  return {
    state,
    timers: timers as ActorRecord['timers'],
    outbox: outbox as ActorRecord['outbox'],
    outSeq: seqTableFrom(outSeq),
    inSeq: seqTableFrom(inSeq),
    tags: tags as ActorRecord['tags'],
    score: score as number,
  };
}

function unknownLayout(layout: unknown): Error {
  return new Error(`actor record layout ${String(layout)} is not one this version reads`);
}

function pairsOf(table: SeqTable | null): unknown[] | null {
  if (table === null) return null;
  const pairs: unknown[] = [];
  for (const [key, seq] of table) pairs.push(key, seq);
  return pairs;
}
