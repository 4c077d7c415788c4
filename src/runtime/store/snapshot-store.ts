/**
 * The contract every snapshot store meets (memory and Redis pass one conformance suite).
 * A store keeps, per actor, its last durable record plus the index entries that describe it
 * (tag sets and the durable timer set), all changed together in one atomic commit.
 */

import type { StateCodec } from '../actor.js';
import type { SeqTable } from '../seq-table.js';

export interface TimerEntry {
  at: number;
  msg: unknown;
}

/** A message kept until its receiver confirms it (see ActorContext.tellReliably). */
export interface OutboxEntry {
  /** Sequence number on the channel from this actor to `to`. */
  seq: number;
  to: readonly [kind: string, id: string];
  msg: unknown;
}

/** What is persisted for one actor: its state plus the runtime's bookkeeping. */
export interface ActorRecord {
  state: unknown;
  timers: Readonly<Record<string, TimerEntry>> | null;
  outbox: readonly OutboxEntry[] | null;
  /** Last sequence number used per receiver channel (`kind:id` of the receiver). */
  outSeq: SeqTable | null;
  /** Last sequence number handled per sender channel (`kind:id` of the sender). */
  inSeq: SeqTable | null;
  /** The index tags this record is filed under, so the next commit knows what to remove. */
  tags: readonly string[];
  score: number;
}

export interface TimerRef {
  kind: string;
  id: string;
  name: string;
  at: number;
}

export interface CommitEntry {
  kind: string;
  id: string;
  /** null removes the snapshot and every index entry. */
  record: ActorRecord | null;
  removeTags: readonly string[];
  addTags: readonly string[];
  score: number;
  removeTimers: readonly string[];
  setTimers: ReadonlyArray<readonly [name: string, at: number]>;
  /** Appended to the event log in the same atomic write as the record. */
  events: readonly unknown[];
}

/**
 * What `removeByTimer` did with one firing:
 * - `removed`: the actor is gone, with its index entries and the timer, as its removal write
 *   would have left it;
 * - `stale`: no such timer is filed at that deadline (cancelled, moved, or already fired):
 *   nothing was done, and the firing is void;
 * - `held`: the timer is current, but the actor has other timers or undelivered messages, or a
 *   record the store cannot judge without loading it: nothing was done, and the firing goes to
 *   the actor.
 */
export type TimerRemoval = 'removed' | 'stale' | 'held';

/** What a commit reports back: the log position of every appended event, in entry order. */
export interface CommitReceipt {
  eventSeqs: number[];
}

export interface LoggedEvent {
  seq: number;
  event: unknown;
}

/** The event log's identity and extent. A new epoch means older cursors are meaningless. */
export interface EventLogInfo {
  epoch: string;
  /** Oldest seq still kept (0 when empty). */
  firstSeq: number;
  /** Newest seq assigned (0 when nothing was ever appended). */
  lastSeq: number;
}

export interface ListOptions {
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string | null;
  /** Highest score first (newest first when scores are creation times). */
  descending?: boolean;
}

export interface ListPage {
  ids: string[];
  /** Each id's score, in the same order. */
  scores: number[];
  next: string | null;
}

export interface SnapshotStore {
  /** True when a successful commit survives a crash of this process. */
  readonly durable: boolean;
  readonly name: string;
  load(kind: string, id: string): Promise<ActorRecord | undefined>;
  /** Applies every entry; resolves only when all are durable, rejects if any may not be. */
  commit(entries: readonly CommitEntry[]): Promise<CommitReceipt>;
  /** Logged events with `seq > afterSeq`, oldest first, at most `limit`. */
  readEvents(afterSeq: number, limit: number): Promise<LoggedEvent[]>;
  eventLogInfo(): Promise<EventLogInfo>;
  list(kind: string, tag: string, options: ListOptions): Promise<ListPage>;
  /** Members of a tag set; with `minScore`, only those scored at least that (creation time: "since"). */
  count(kind: string, tag: string, minScore?: number): Promise<number>;
  /** Every durable timer with `after < at <= until` (no lower bound without `after`), earliest first. */
  loadTimers(until: number, after?: number): Promise<TimerRef[]>;
  /**
   * For firings of timers that end their actor's life (`ActorLogic.removalTimers`): removes each
   * firing's actor that still has that timer at that deadline and nothing else pending, without the
   * actor being loaded. One outcome per firing, in order. After a failure, some may be removed:
   * firing them again is safe, as those are then stale. Stores without it have every such firing
   * delivered to its actor.
   */
  removeByTimer?(firings: readonly TimerRef[]): Promise<TimerRemoval[]>;
  /**
   * Files `kind`'s timers of these names apart from now on, as removal timers
   * (`ActorLogic.removalTimers`): `loadTimers` no longer reads them, `loadRemovalTimers` does. Past
   * its retention, a server has a retention expiry filed for every job of the last day; loaded
   * with the others, a minute of them was in memory at any time. Stores that have it have
   * `loadRemovalTimers` too.
   */
  useRemovalTimers?(kind: string, names: readonly string[]): void;
  /**
   * Removal timers due by `until`, earliest first (members of one deadline in a fixed order),
   * after the timer `after` (from the earliest without it), at most `limit`. Timers removed since
   * `after` was read do not shift the page.
   */
  loadRemovalTimers?(until: number, after: TimerRef | null, limit: number): Promise<TimerRef[]>;
  /** Resolves when the store answers; rejects with STORE_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  /**
   * Stores the state of `kind`'s records in the codec's form from now on. Only for stores that
   * encode snapshots; one that keeps records by reference leaves it out.
   */
  useCodec?(kind: string, codec: StateCodec): void;
  /** Logs events in the codec's form from now on (as `useCodec`, for stores that encode). */
  useEventCodec?(codec: StateCodec): void;
  close(): Promise<void>;
}

export const LIVE_TAG = 'live';
