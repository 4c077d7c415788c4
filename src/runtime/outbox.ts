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
  const kept = outbox.filter(
    (entry) => !(entry.seq <= seq && `${entry.to[0]}:${entry.to[1]}` === receiverKey),
  );
  if (kept.length === outbox.length) return null;
  let timers = rec.timers;
  if (kept.length === 0 && timers && Object.hasOwn(timers, REDELIVER_TIMER)) {
    const { [REDELIVER_TIMER]: _dropped, ...rest } = timers;
    timers = Object.keys(rest).length > 0 ? rest : null;
  }
  return { ...rec, outbox: kept.length > 0 ? kept : null, timers };
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
