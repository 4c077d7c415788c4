/**
 * The actor contract, in the spirit of xstate's ActorLogic and Proto.Actor's Receive: logic plus
 * state, one message at a time. State is an immutable value: returning the same reference means
 * "nothing changed" (no write); returning a new object makes the actor dirty and it is persisted
 * in the next group commit. Effects are requested through the context and run only after the
 * state that caused them is durable.
 */
import type { SupervisorStrategy } from './supervisor.js';

/** Addresses an actor: virtual, so a ref is valid whether or not the actor is in memory. */
export interface ActorRef {
  readonly kind: string;
  readonly id: string;
}

export interface ActorContext<M> {
  readonly self: ActorRef;
  /** The clock's time when this message began; stable for the whole turn. */
  readonly now: number;
  /** Who sent the current message reliably, if it came through an outbox. */
  readonly sender: ActorRef | undefined;
  /** True when the current message is an ask that expects a reply. */
  readonly isAsk: boolean;
  /** Fire-and-forget message, sent once this turn's state is durable. */
  tell(to: ActorRef, msg: unknown): void;
  /**
   * Fire-and-forget message sent at once, before this turn's state is durable. Only for work that
   * is at-least-once anyway and whose receiver copes with this turn being rolled back (a failed
   * write reverts the state, not this message): starting an execution without waiting for the
   * `running` write lets a fast job's start and end share one write.
   */
  tellNow(to: ActorRef, msg: unknown): void;
  /**
   * A message that must not be lost: kept in this actor's snapshot (outbox) until the receiver
   * confirms it durably handled it; redelivered after crashes; the receiver drops duplicates.
   * `fresh`: the receiver was never written (an id made in this turn), so its first delivery skips
   * the store read; redeliveries read it as usual. Without a durable store (there is no crash to
   * redeliver after) it is a plain tell sent once this turn is written (`confirmedDelivery`).
   */
  tellReliably(to: ActorRef, msg: unknown, options?: { fresh?: boolean }): void;
  /** Answers the current ask once this turn's state is durable. */
  reply(value: unknown): void;
  /** Answers the current ask with an error once this turn's state is durable. */
  replyError(error: Error): void;
  /** Publishes an event to the system's event sinks once this turn's state is durable. */
  emit(event: unknown): void;
  /** Arms (or re-arms) a durable timer: `msg` is delivered at `at`, even across restarts. */
  setTimer(name: string, at: number, msg: M): void;
  cancelTimer(name: string): void;
  hasTimer(name: string): boolean;
  /**
   * This turn's change need not be durable on its own: it rides on the actor's next write (or is
   * written before the actor passivates), and a crash may lose it. Only for state that is
   * informational or rebuilt by later messages. Ignored when the turn emits, replies, sends, sets
   * timers or handles a reliable message: those always wait for their own write.
   */
  deferWrite(): void;
  /** Removes the actor's snapshot and index entries after this turn (e.g. retention expiry). */
  remove(): void;
}

/** Where a snapshot is listed, so recovery and listings never load every snapshot. */
export interface ActorIndex {
  /**
   * Also file the actor under the `live` tag: one list per kind of the actors still in progress.
   * Kinds whose own tags already say that (jobs and workflows, by status) leave it off: it would
   * cost an index write when they start and another when they end, and nothing would read it.
   */
  live: boolean;
  /** Secondary index tags (e.g. `status:pending`, `type:echo`), each a sorted set scored by `score`. */
  tags?: readonly string[];
  /** Sort score inside tag sets (e.g. creation time). */
  score?: number;
}

export interface ActorLogic<S, M> {
  initial(id: string): S;
  receive(state: S, msg: M, ctx: ActorContext<M>): S | Promise<S>;
  /** How the actor is indexed in the store; defaults to live with no tags. */
  index?(state: S): ActorIndex;
  /** Decides what happens when `receive` throws; defaults to restart with a retry limit. */
  supervisor?: SupervisorStrategy;
  /** Idle time after which the actor leaves memory; defaults to the system's setting. */
  passivateAfterMs?: number;
  /**
   * True for a state after which nothing is expected of the actor (a finished job): it leaves
   * memory as soon as that state is written and nothing else is pending, not after its idle time.
   * A later message loads it back, as after any passivation.
   */
  finished?(state: S): boolean;
  /**
   * Timers whose firings can wait while the system is busy, such as a retention expiry: they fire
   * after the others come due and are paced by the store's backlog (see TimerLanes).
   */
  backgroundTimers?: readonly string[];
  /**
   * Timers whose firing ends the actor's life: the logic arms them only in states its handler of
   * that firing removes (`ctx.remove()`), and cancels them when it leaves those states. For an
   * actor not in memory, the store carries such a firing out itself when nothing else is pending
   * for the actor (`SnapshotStore.removeByTimer`), instead of the actor being loaded for it.
   */
  removalTimers?: readonly string[];
  /** Ephemeral actors are never persisted: their effects run at once. */
  ephemeral?: boolean;
  /** The state's stored form in stores that encode snapshots (Redis); see `StateCodec`. */
  snapshot?: StateCodec<S>;
}

/**
 * A state's stored form, for stores that encode snapshots: `encode` before a write, `decode` after
 * a read. `decode` also takes whatever earlier versions of `encode` wrote, so older snapshots load.
 */
export interface StateCodec<S = unknown> {
  encode(state: S): unknown;
  decode(stored: unknown): S;
}

/** Identity helper that keeps S and M inferred at the definition site. */
export function defineActor<S, M>(logic: ActorLogic<S, M>): ActorLogic<S, M> {
  return logic;
}

export function refKey(ref: ActorRef): string {
  return `${ref.kind}:${ref.id}`;
}
