/**
 * What a cell needs from the system that hosts it, the phases a cell goes through, and the record
 * of an actor that has never been written.
 */
import type { MailroomError } from '../errors.js';
import type { ActorCell } from './cell.js';
import type { Effect } from './effects.js';
import type { Envelope } from './envelope.js';
import type { ActorRecord } from './store/snapshot-store.js';
import type { DeadLetterReason } from './supervisor.js';

export const PHASE_LOADING = 0;
export const PHASE_READY = 1;
/** An async `receive` is in progress; nothing else runs for this actor until it settles. */
export const PHASE_BUSY = 2;
export const PHASE_STOPPED = 3;

/** What a cell needs from its system. */
export interface CellHost {
  now(): number;
  readonly redeliverMs: number;
  /** SystemOptions.confirmedDelivery, resolved. */
  readonly confirmedDelivery: boolean;
  schedule(cell: ActorCell): void;
  markDirty(cell: ActorCell): void;
  /** Wakes the cell at `at`; true when the firing is held in memory (it is due soon). */
  armTimer(cell: ActorCell, name: string, at: number): boolean;
  /** Arms the cell's timers again after a pause (a reverted turn may have consumed a firing). */
  rearmTimersLater(cell: ActorCell): void;
  perform(cell: ActorCell, item: Effect): void;
  /** Drops an effect that will never run (its state was not made durable). */
  abandon(cell: ActorCell, item: Effect, error: MailroomError): void;
  deadLetter(cell: ActorCell, reason: DeadLetterReason, env: Envelope, error?: unknown): void;
  reload(cell: ActorCell): void;
  stop(cell: ActorCell): void;
  /** Takes a stopped cell out of memory once the write it had in flight has settled. */
  evictStopped(cell: ActorCell): void;
  /**
   * Takes a finished cell that can leave without losing anything out of memory, unless firings it
   * armed (the last at `lastFiringAt`) come too late for the system to judge without it.
   */
  leaveFinished(cell: ActorCell, lastFiringAt: number): void;
  escalate(cell: ActorCell, error: unknown, msg: unknown): void;
  busyChanged(delta: number): void;
}

export function initialRecord(state: unknown): ActorRecord {
  return { state, timers: null, outbox: null, outSeq: null, inSeq: null, tags: [], score: 0 };
}
