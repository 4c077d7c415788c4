/**
 * One call of lua/commit-4.lua: its arguments in the layout the script documents. A flat msgpack
 * list of fields and one blob of every snapshot and event, so ioredis writes two arguments instead
 * of ~9 per entry. Entries that change nothing but the snapshot (the usual case) cost four fields.
 */
import type { Packr } from 'msgpackr';
import type { StateCodec } from '../actor.js';
import { packSequence } from './msgpack-sequence.js';
import type { CommitEntry } from './snapshot-store.js';
import { storedBody, storedHead } from './stored-record.js';

/** How the Redis store writes what it is given: its codecs, and the timers it files apart. */
export interface StoredForms {
  codecs: ReadonlyMap<string, StateCodec>;
  eventCodec: StateCodec | null;
  /** kind → the names of its removal timers. */
  removalNames: ReadonlyMap<string, ReadonlySet<string>>;
}

const NO_NAMES: ReadonlySet<string> = new Set();

export function commitArgs(
  packr: Packr,
  entries: readonly CommitEntry[],
  from: number,
  to: number,
  forms: StoredForms,
): { fields: Buffer; blob: Buffer; events: number } {
  const fields: unknown[] = [];
  const snapshots: Buffer[] = [];
  const events: unknown[] = [];
  const eventCodec = forms.eventCodec;
  let bytes = 0;
  for (let i = from; i < to; i++) {
    const entry = entries[i]!;
    let length = 0;
    const record = entry.record;
    if (record !== null) {
      const codec = forms.codecs.get(entry.kind);
      const head = packr.pack(storedHead(record));
      const body = packr.pack(storedBody(record, codec ? codec.encode(record.state) : record.state));
      snapshots.push(head, body);
      length = head.length + body.length;
      bytes += length;
    }
    for (const event of entry.events) events.push(eventCodec ? eventCodec.encode(event) : event);
    const changed =
      entry.removeTags.length > 0 ||
      entry.addTags.length > 0 ||
      entry.removeTimers.length > 0 ||
      entry.setTimers.length > 0;
    fields.push(length, entry.kind, entry.id, changed ? 1 : 0);
    if (!changed) continue;
    fields.push(entry.score, entry.removeTags.length, ...entry.removeTags);
    fields.push(entry.addTags.length, ...entry.addTags);
    const removal = forms.removalNames.get(entry.kind) ?? NO_NAMES;
    pushTimers(fields, entry, removal, false);
    pushTimers(fields, entry, removal, true);
  }
  if (events.length > 0) {
    const packed = packSequence(packr, events);
    snapshots.push(packed);
    bytes += packed.length;
  }
  return { fields: packr.pack(fields), blob: Buffer.concat(snapshots, bytes), events: events.length };
}

/**
 * The entry's removed timer names, then its set (name, deadline) pairs, each list after its count:
 * of its removal timers (filed apart) or of the others. Counts are written once known.
 */
function pushTimers(
  fields: unknown[],
  entry: CommitEntry,
  removal: ReadonlySet<string>,
  removals: boolean,
): void {
  let countAt = fields.push(0) - 1;
  let count = 0;
  for (const name of entry.removeTimers) {
    if (removal.has(name) !== removals) continue;
    fields.push(name);
    count++;
  }
  fields[countAt] = count;
  countAt = fields.push(0) - 1;
  count = 0;
  for (const [name, at] of entry.setTimers) {
    if (removal.has(name) !== removals) continue;
    fields.push(name, at);
    count++;
  }
  fields[countAt] = count;
}
