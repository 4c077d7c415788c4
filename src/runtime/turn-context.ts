/**
 * The context handed to `receive` for one message. It only records: timers, outbox entries and
 * effects are drafted here and become real when the cell applies the turn's result.
 */
import { MailroomError } from '../errors.js';
import type { ActorContext, ActorRef } from './actor.js';
import { refKey } from './actor.js';
import type { Effect } from './effects.js';
import {
  EFFECT_EMIT,
  EFFECT_REPLY,
  EFFECT_REPLY_ERROR,
  EFFECT_SEND_RELIABLE,
  EFFECT_TELL,
  effect,
} from './effects.js';
import type { Envelope } from './envelope.js';
import { copySeqs } from './seq-table.js';
import type { ActorRecord, OutboxEntry, TimerEntry } from './store/snapshot-store.js';

/** The runtime's own timer that redelivers unconfirmed outbox entries. */
export const REDELIVER_TIMER = '__redeliver';

export function parseRefKey(key: string): ActorRef {
  const at = key.indexOf(':');
  return { kind: key.slice(0, at), id: key.slice(at + 1) };
}

export class TurnContext<M> implements ActorContext<M> {
  effects: Effect[] | null = null;
  /** Tells that do not wait for durability (tellNow), performed as soon as the turn is applied. */
  immediate: Effect[] | null = null;
  /** Drafts: null while untouched, so an unchanged turn allocates nothing. */
  timers: Record<string, TimerEntry> | null = null;
  outbox: OutboxEntry[] | null = null;
  outSeq: Map<string, number> | null = null;
  replied = false;
  removeRequested = false;
  /** An event was emitted: the turn must be written even if the state did not change. */
  emitted = false;
  /** deferWrite() was called. */
  deferred = false;

  constructor(
    private readonly kind: string,
    private readonly id: string,
    private readonly rec: ActorRecord,
    private readonly env: Envelope,
    readonly now: number,
    private readonly redeliverMs: number,
    private readonly confirmedDelivery: boolean,
  ) {}

  get self(): ActorRef {
    return { kind: this.kind, id: this.id };
  }

  get sender(): ActorRef | undefined {
    return this.env.from === null ? undefined : parseRefKey(this.env.from);
  }

  get isAsk(): boolean {
    return this.env.ask !== null;
  }

  tell(to: ActorRef, msg: unknown): void {
    this.push(effect(EFFECT_TELL, to, msg));
  }

  tellNow(to: ActorRef, msg: unknown): void {
    this.immediate ??= [];
    this.immediate.push(effect(EFFECT_TELL, to, msg));
  }

  tellReliably(to: ActorRef, msg: unknown, options?: { fresh?: boolean }): void {
    if (!this.confirmedDelivery) {
      // Nothing outlives the process: sent once this turn is written, like every effect, and in
      // order, since a sender's writes settle in order (SystemOptions.confirmedDelivery).
      const tell = effect(EFFECT_TELL, to, msg);
      tell.fresh = options?.fresh === true;
      this.push(tell);
      return;
    }
    const key = refKey(to);
    this.outSeq ??= copySeqs(this.rec.outSeq);
    const seq = (this.outSeq.get(key) ?? 0) + 1;
    this.outSeq.set(key, seq);
    const entry: OutboxEntry = { seq, to: [to.kind, to.id], msg };
    this.outbox ??= this.rec.outbox ? this.rec.outbox.slice() : [];
    this.outbox.push(entry);
    if (!this.hasTimer(REDELIVER_TIMER)) {
      this.draftTimers()[REDELIVER_TIMER] = { at: this.now + this.redeliverMs, msg: null };
    }
    const send = effect(EFFECT_SEND_RELIABLE, to, msg, null, seq);
    send.fresh = options?.fresh === true;
    this.push(send);
  }

  reply(value: unknown): void {
    if (!this.env.ask || this.replied) return;
    this.replied = true;
    this.push(effect(EFFECT_REPLY, null, value, this.env.ask));
  }

  replyError(error: Error): void {
    if (!this.env.ask || this.replied) return;
    this.replied = true;
    const failure =
      error instanceof MailroomError
        ? error
        : new MailroomError('ACTOR_FAILED', error.message, { cause: error });
    this.push(effect(EFFECT_REPLY_ERROR, null, undefined, this.env.ask, 0, failure));
  }

  emit(event: unknown): void {
    this.emitted = true;
    this.push(effect(EFFECT_EMIT, null, event));
  }

  setTimer(name: string, at: number, msg: M): void {
    if (name === REDELIVER_TIMER) throw new Error(`timer name ${REDELIVER_TIMER} is reserved`);
    this.draftTimers()[name] = { at, msg };
  }

  cancelTimer(name: string): void {
    if (!this.hasTimer(name)) return;
    delete this.draftTimers()[name];
  }

  hasTimer(name: string): boolean {
    const timers = this.timers ?? this.rec.timers;
    return timers !== null && Object.hasOwn(timers, name);
  }

  deferWrite(): void {
    this.deferred = true;
  }

  remove(): void {
    this.removeRequested = true;
  }

  /** Makes the timer draft (copy-on-write from the record). */
  draftTimers(): Record<string, TimerEntry> {
    // A literal, not a spread of null: V8 gives `{ ...null }` no room inside the object, and the
    // first timer then costs a separate 160-byte property array, kept as long as the record.
    this.timers ??= this.rec.timers === null ? {} : { ...this.rec.timers };
    return this.timers;
  }

  push(item: Effect): void {
    this.effects ??= [];
    this.effects.push(item);
  }
}
