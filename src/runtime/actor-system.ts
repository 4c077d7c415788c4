/**
 * The actor system's public contract: what createSystem() returns and accepts.
 */
import type { Logger } from 'pino';
import type { ActorLogic, ActorRef } from './actor.js';
import type { Clock } from './clock.js';
import type { ListOptions, ListPage, SnapshotStore } from './store/snapshot-store.js';
import type { DeadLetter } from './supervisor.js';

/** Logic of any state and message types; `receive` is a method, so its parameters stay assignable. */
export type AnyActorLogic = ActorLogic<unknown, unknown>;

export interface SystemOptions {
  store: SnapshotStore;
  clock?: Clock;
  logger?: Logger;
  /** Logic per actor kind; more can be added with `register`. */
  actors?: Record<string, AnyActorLogic>;
  /** Idle time before an actor leaves memory (per-logic `passivateAfterMs` overrides). */
  passivateAfterMs?: number;
  askTimeoutMs?: number;
  /** How long an unconfirmed reliable message waits before it is sent again. */
  redeliverMs?: number;
  /**
   * Whether `tellReliably` keeps each message in the sender's outbox until the receiver confirms
   * it durably handled it, and redelivers what is unconfirmed. Default: whether the store is
   * durable. Without a durable store nothing outlives the process, so there is no crash to
   * redeliver after: a reliable message then goes as a plain tell once the sender's turn is
   * written, in order per sender, with no outbox entry, sequence number or confirmation.
   */
  confirmedDelivery?: boolean;
  /** Guardian for the `escalate` directive. */
  onEscalate?: (error: unknown, ref: ActorRef, msg: unknown) => void;
  /**
   * Timers due further out than this stay in the store's timer index only; they are loaded into
   * memory every half horizon as they come near (default 60 s).
   */
  timerHorizonMs?: number;
  /** Group commit store calls allowed in flight at once (each actor is in at most one); default 8. */
  maxCommitsInFlight?: number;
  /** Actors written per group commit store call at most; a turn's writes beyond it go in further calls. Default 64. */
  maxWritesPerCommit?: number;
  scheduler?: { throughput?: number; turnMessages?: number; turnMicros?: number; busyTurnMicros?: number };
}

export interface SourcedEvent {
  source: ActorRef;
  event: unknown;
  /** Position in the durable event log; 0 for events of ephemeral actors, which are not logged. */
  seq: number;
}

export interface AskOptions {
  timeoutMs?: number;
  /**
   * The actor was never written (its id was just generated): it starts from its initial state
   * without a store read. Saves a round trip per new job on Redis; wrong for any id that may exist.
   */
  fresh?: boolean;
}

export interface SystemStats {
  resident: number;
  processed: number;
  commits: number;
  writes: number;
  commitFailures: number;
  timers: number;
  deadLetters: number;
}

export interface ActorSystem {
  register(kind: string, logic: AnyActorLogic): void;
  ref(kind: string, id: string): ActorRef;
  tell(to: ActorRef, msg: unknown): void;
  /** Resolves with the actor's reply (or undefined) once the state it reports is durable. */
  ask<R = unknown>(to: ActorRef, msg: unknown, options?: AskOptions): Promise<R>;
  onEvent(listener: (event: SourcedEvent) => void): () => void;
  onDeadLetter(listener: (letter: DeadLetter) => void): () => void;
  /** Re-arms every durable timer from the store's index (call once at start with a durable store). */
  recover(): Promise<{ timers: number }>;
  /** Lists actors of a kind by index tag straight from the store, without activating them. */
  list(kind: string, tag: string, options: ListOptions): Promise<ListPage>;
  count(kind: string, tag: string): Promise<number>;
  /** Resolves once no message is queued, no actor is loading or busy and no write is pending. */
  idle(): Promise<void>;
  /** Passivates idle actors now instead of waiting for the next sweep. */
  sweep(): void;
  /** Writes every actor's deferred changes now instead of with its next write (shutdown does too). */
  writeDeferred(): void;
  isResident(ref: ActorRef): boolean;
  /**
   * The state an ask would be answered with right now, read without a turn: only for an actor in
   * memory with nothing queued and nothing waiting to be written (else undefined: ask instead).
   */
  peek(ref: ActorRef): { state: unknown } | undefined;
  stats(): SystemStats;
  readonly store: SnapshotStore;
  readonly clock: Clock;
  shutdown(options?: { timeoutMs?: number }): Promise<void>;
}
