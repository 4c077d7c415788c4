/**
 * The sender's side of reliable delivery, as record transforms: entries leave the outbox when
 * their receiver confirms, and a redelivery timer stays armed while anything is unconfirmed.
 * (The receiver's side, per-channel sequence checks, lives where messages are handled: cell.ts.)
 */
import type { Effect } from './effects.js';
import { EFFECT_SEND_RELIABLE, effect } from './effects.js';
import type { ActorRecord, OutboxEntry, TimerEntry } from './store/snapshot-store.js';
import { REDELIVER_TIMER } from './turn-context.js';

/** The record without the entries `receiverKey` confirmed up to `seq`, or null if nothing changed. */
export function withConfirmed(rec: ActorRecord, receiverKey: string, seq: number): ActorRecord | null {
  const outbox = rec.outbox;
  if (!outbox) return null;
  // Compared by parts: building `kind:id` for every entry allocated a string per entry per confirmation.
  const colon = receiverKey.indexOf(':');
  const kind = receiverKey.slice(0, colon);
  const id = receiverKey.slice(colon + 1);
  const kept = outbox.filter((entry) => !(entry.seq <= seq && entry.to[1] === id && entry.to[0] === kind));
  if (kept.length === outbox.length) return null;
  let timers = rec.timers;
  if (kept.length === 0 && timers && Object.hasOwn(timers, REDELIVER_TIMER))
    timers = withoutTimer(timers, REDELIVER_TIMER);
  // Spelled out: a spread followed by two of its own keys cost a third of this function.
  return {
    state: rec.state,
    timers,
    outbox: kept.length > 0 ? kept : null,
    outSeq: rec.outSeq,
    inSeq: rec.inSeq,
    tags: rec.tags,
    score: rec.score,
  };
}

function withoutTimer(
  timers: Readonly<Record<string, TimerEntry>>,
  name: string,
): Record<string, TimerEntry> | null {
  let rest: Record<string, TimerEntry> | null = null;
  for (const other in timers) {
    if (other === name) continue;
    rest ??= {};
    rest[other] = timers[other]!;
  }
  return rest;
}

/** After the redelivery timer fired: re-armed at `at` while entries remain, else dropped. */
export function withRedeliveryRearmed(rec: ActorRecord, at: number): ActorRecord {
  const timers: Record<string, TimerEntry> = { ...rec.timers };
  delete timers[REDELIVER_TIMER];
  if (rec.outbox && rec.outbox.length > 0) timers[REDELIVER_TIMER] = { at, msg: null };
  return { ...rec, timers: Object.keys(timers).length > 0 ? timers : null };
}

export function resendEffects(outbox: readonly OutboxEntry[]): Effect[] {
  return outbox.map((entry) =>
    effect(EFFECT_SEND_RELIABLE, { kind: entry.to[0], id: entry.to[1] }, entry.msg, null, entry.seq),
  );
}
